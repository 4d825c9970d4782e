package reconcile

import (
	"errors"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/config"
)

// Defaults of Options. Each carries the reason for its value.
const (
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
	// runs: Rancher publishes in 1 s ticks, so a fresh list a second later
	// is a second opinion.
	DefaultConfirmDelay = time.Second
	// DefaultLeaveWait bounds how long the peer sets of a pass wait for the
	// leaves before them. A reachable agent leaves in a few milliseconds; a
	// departed node that cannot be reached (a host cut off) must not hold up
	// its peers' new sets for a whole call timeout.
	DefaultLeaveWait = 250 * time.Millisecond
	// DefaultLookupTimeout bounds one read of announced containers: Rancher
	// answers a targeted list in tens of milliseconds, and a read that takes
	// longer is worth less than the next announcement.
	DefaultLookupTimeout = 2 * time.Second
	// maxAnnounced bounds the announced IPs remembered between two passes
	// (announcements are rate-limited at the endpoint already).
	maxAnnounced = announce.DefaultMaxPending
)

// CallTimeoutFor is the bound of one call to a node of a cluster whose
// config says admin.timeout: each attempt may take admin.timeout (the node
// client's own bound), and the call as a whole half as long again, room
// for one quick retry. The default admin.timeout of 2 s gives 3 s.
func CallTimeoutFor(adminTimeout time.Duration) time.Duration {
	return adminTimeout + adminTimeout/2
}

// Options configure a Controller. Observer, Nodes and Clusters are
// required; every other field has a default.
type Options struct {
	// Observer returns complete snapshots of Rancher. Required.
	Observer Observer
	// Watcher triggers passes on Rancher events. Optional: without it the
	// controller relies on the resync, drift passes and announcements.
	Watcher Watcher
	// Lookup reads announced containers (the fast path). Optional: without
	// it an announcement only asks for a pass.
	Lookup ContainerLookup
	// Nodes talks to node agents. Required.
	Nodes Nodes
	// Clusters are the configured clusters, defaulted and validated
	// (config.File.Spec.Clusters). Required, at least one.
	Clusters []config.Cluster

	// Now returns the current time, and After waits on the same clock: the
	// one clock every timer of the controller (scheduler, LeaveWait) uses.
	// Default to time.Now and time.After. Deadlines of calls to Rancher and
	// to nodes are real-time context deadlines.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// ResyncInterval is how often the observer re-lists Rancher (a resync
	// pass), counted from the last pass that re-listed. Defaults to
	// config.DefaultResyncInterval.
	ResyncInterval time.Duration
	// DriftInterval is how often a pass re-reads every node's status and
	// repairs missing connections; it does not re-list Rancher. Defaults to
	// config.DefaultDriftInterval.
	DriftInterval time.Duration
	// MinEventGap is the least time between the starts of two passes:
	// events, announcements and follow-ups within it share one pass.
	// Defaults to config.DefaultMinEventGap.
	MinEventGap time.Duration
	// Parallelism bounds concurrent calls to nodes. Defaults to
	// config.DefaultParallelism.
	Parallelism int
	// CallTimeout, when set, bounds every call to a node, retries included.
	// Zero means per cluster: CallTimeoutFor(the cluster's admin.timeout).
	CallTimeout time.Duration
	// StatusTimeout bounds the status reads of one pass. Defaults to
	// DefaultStatusTimeout.
	StatusTimeout time.Duration
	// BackoffBase and BackoffMax bound the per-node exponential backoff
	// after failed calls, and the retry of an aborted pass. Default to
	// DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// ConfirmDelay is when a pass that held a sudden drop is confirmed.
	// Defaults to DefaultConfirmDelay.
	ConfirmDelay time.Duration
	// Announce is the poll plan of announcement reads (pkg/announce); zero
	// fields take announce.DefaultPlan's values.
	Announce announce.Plan
	// LookupTimeout bounds one read of announced containers. Defaults to
	// DefaultLookupTimeout.
	LookupTimeout time.Duration
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
	if o.After == nil {
		o.After = time.After
	}
	setDefault(&o.ResyncInterval, config.DefaultResyncInterval)
	setDefault(&o.DriftInterval, config.DefaultDriftInterval)
	setDefault(&o.MinEventGap, config.DefaultMinEventGap)
	setDefault(&o.StatusTimeout, DefaultStatusTimeout)
	setDefault(&o.BackoffBase, DefaultBackoffBase)
	setDefault(&o.BackoffMax, DefaultBackoffMax)
	setDefault(&o.ConfirmDelay, DefaultConfirmDelay)
	setDefault(&o.LeaveWait, DefaultLeaveWait)
	setDefault(&o.LookupTimeout, DefaultLookupTimeout)
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
