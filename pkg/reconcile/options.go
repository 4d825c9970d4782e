package reconcile

import (
	"errors"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
)

// Defaults of Options. Each carries the reason for its value.
const (
	// DefaultCallTimeout bounds one call to a node, retries included: a
	// healthy agent answers in about a millisecond, and a dead one must not
	// hold a worker for long.
	DefaultCallTimeout = 3 * time.Second
	// DefaultStatusTimeout bounds the status reads of a pass: a node that
	// has not answered by then is treated as unreachable for this pass (and
	// backs off), so it delays the others once, by this much at most.
	DefaultStatusTimeout = time.Second
	// DefaultBackoffBase and DefaultBackoffMax bound the per-node backoff
	// after a failed call: quick to retry a blip, one call per 30 s to a
	// node that stays dead.
	DefaultBackoffBase = 250 * time.Millisecond
	DefaultBackoffMax  = 30 * time.Second
	// DefaultConfirmDelay is when the confirming pass of a held sudden drop
	// runs: Rancher publishes in 1 s ticks, so a fresh snapshot a second
	// later is a second opinion.
	DefaultConfirmDelay = time.Second
	// DefaultAnnounceFastPoll, DefaultAnnounceFastFor, DefaultAnnouncePoll
	// and DefaultAnnounceWindow: after a node's announcement, its container
	// is read every 10 ms for 300 ms (agents announce right after they
	// answer a health probe, so Rancher's state flips within a few ms),
	// then every 250 ms, until Rancher reports the state that decides
	// membership or 3 s pass without a new announcement: about 40 small
	// requests per announcement at most.
	DefaultAnnounceFastPoll = 10 * time.Millisecond
	DefaultAnnounceFastFor  = 300 * time.Millisecond
	DefaultAnnouncePoll     = 250 * time.Millisecond
	DefaultAnnounceWindow   = 3 * time.Second
	// DefaultLeaveWait bounds how long the peer sets of a pass wait for the
	// leaves before them. A reachable agent leaves in a few milliseconds; a
	// departed node that cannot be reached (a host cut off) must not hold up
	// its peers' new sets for a whole call timeout.
	DefaultLeaveWait = 250 * time.Millisecond
	// DefaultAnnounceWorkers bounds concurrent announcement follow-ups (each
	// is one small request per poll).
	DefaultAnnounceWorkers = 8
)

// Options configure a Controller. Observer, Nodes and Clusters are
// required; every other field has a default.
type Options struct {
	// Observer returns complete snapshots of Rancher. Required.
	Observer Observer
	// Watcher triggers passes on Rancher events. Optional: without it the
	// controller relies on ResyncInterval and announcements.
	Watcher Watcher
	// Lookup reads one container after a node's announcement. Optional:
	// without it an announcement only schedules a pass.
	Lookup ContainerLookup
	// Nodes talks to node agents. Required.
	Nodes Nodes
	// Clusters are the configured clusters, defaulted and validated
	// (config.File.Spec.Clusters). Required, at least one.
	Clusters []config.Cluster

	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// ResyncInterval is how often a pass runs without any trigger. Defaults
	// to config.DefaultResyncInterval.
	ResyncInterval time.Duration
	// DriftInterval is how often a pass re-reads every node's status and
	// repairs missing connections. Defaults to config.DefaultDriftInterval.
	DriftInterval time.Duration
	// MinEventGap is the least time between the starts of two passes
	// triggered by events: a burst shares one pass. Defaults to
	// config.DefaultMinEventGap.
	MinEventGap time.Duration
	// Parallelism bounds concurrent calls to nodes. Defaults to
	// config.DefaultParallelism.
	Parallelism int
	// CallTimeout bounds each call to a node. Defaults to DefaultCallTimeout.
	CallTimeout time.Duration
	// StatusTimeout bounds the status reads of one pass. Defaults to
	// DefaultStatusTimeout.
	StatusTimeout time.Duration
	// BackoffBase and BackoffMax bound the per-node exponential backoff
	// after failed calls, and the retry of a failed pass. Default to
	// DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// ConfirmDelay is when a pass that held a sudden drop is confirmed.
	// Defaults to DefaultConfirmDelay.
	ConfirmDelay time.Duration
	// AnnounceFastPoll, AnnounceFastFor, AnnouncePoll and AnnounceWindow
	// pace the container reads after an announcement. Default to
	// DefaultAnnounceFastPoll, DefaultAnnounceFastFor, DefaultAnnouncePoll
	// and DefaultAnnounceWindow.
	AnnounceFastPoll, AnnounceFastFor, AnnouncePoll, AnnounceWindow time.Duration
	// LeaveWait bounds how long peer sets wait for the leaves planned before
	// them. Defaults to DefaultLeaveWait.
	LeaveWait time.Duration
	// DryRun logs each plan and sends nothing to nodes (statuses are still
	// read).
	DryRun bool
	// IsStaleRevision recognises a node's refusal of a stale revision in the
	// errors of Nodes. Defaults to errors.Is(err, ErrStaleRevision).
	IsStaleRevision func(error) bool
	// Logger receives one line per change. Defaults to a discarding logger.
	Logger logr.Logger
	// Recorder receives metrics. Defaults to a no-op.
	Recorder Recorder
}

// Recorder receives the controller's measurements; the ops server
// implements it with Prometheus metrics. Calls come from several
// goroutines.
type Recorder interface {
	// Pass records a pass: result is "ok", "error" or "aborted" (Rancher
	// could not be observed; nothing was done).
	Pass(result string, d time.Duration)
	// Push records one call that changes a node: action is an Action,
	// result "ok", "error" or "stale".
	Push(action Action, result string, latency time.Duration)
	// Cluster records a cluster's member count and whether it converged.
	Cluster(name string, members int, converged bool)
	// Stale records whether the last observation of Rancher failed.
	Stale(stale bool)
}

type noopRecorder struct{}

func (noopRecorder) Pass(string, time.Duration)         {}
func (noopRecorder) Push(Action, string, time.Duration) {}
func (noopRecorder) Cluster(string, int, bool)          {}
func (noopRecorder) Stale(bool)                         {}

// withDefaults checks the required fields and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Observer == nil {
		errs = append(errs, errors.New("options: Observer is required"))
	}
	if o.Nodes == nil {
		errs = append(errs, errors.New("options: Nodes is required"))
	}
	if len(o.Clusters) == 0 {
		errs = append(errs, errors.New("options: at least one cluster is required"))
	}
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.ResyncInterval, config.DefaultResyncInterval)
	setDefault(&o.DriftInterval, config.DefaultDriftInterval)
	setDefault(&o.MinEventGap, config.DefaultMinEventGap)
	setDefault(&o.CallTimeout, DefaultCallTimeout)
	setDefault(&o.StatusTimeout, DefaultStatusTimeout)
	setDefault(&o.BackoffBase, DefaultBackoffBase)
	setDefault(&o.BackoffMax, DefaultBackoffMax)
	setDefault(&o.ConfirmDelay, DefaultConfirmDelay)
	setDefault(&o.AnnounceFastPoll, DefaultAnnounceFastPoll)
	setDefault(&o.AnnounceFastFor, DefaultAnnounceFastFor)
	setDefault(&o.LeaveWait, DefaultLeaveWait)
	setDefault(&o.AnnouncePoll, DefaultAnnouncePoll)
	setDefault(&o.AnnounceWindow, DefaultAnnounceWindow)
	if o.Parallelism <= 0 {
		o.Parallelism = config.DefaultParallelism
	}
	if o.IsStaleRevision == nil {
		o.IsStaleRevision = func(err error) bool { return errors.Is(err, ErrStaleRevision) }
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.Recorder == nil {
		o.Recorder = noopRecorder{}
	}
	return o, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}
