package reconcile

import (
	"maps"
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/announce"
)

// Kind says why a job runs: a pass for one or more reasons, or a read of
// announced containers.
type Kind string

// Kinds, in the order that names a merged pass (the first that
// applies).
const (
	// KindStart is the first pass: it re-lists Rancher and re-reads every
	// node.
	KindStart Kind = "start"
	// KindRetry follows an aborted pass, after an exponential delay; it
	// re-lists Rancher.
	KindRetry Kind = "retry"
	// KindConfirm is the confirming pass of a held sudden drop, ConfirmDelay
	// later; it re-lists Rancher, for a second opinion.
	KindConfirm Kind = "confirm"
	// KindResync runs every ResyncInterval after the last pass that
	// re-listed: the observer re-lists Rancher.
	KindResync Kind = "resync"
	// KindDrift runs every DriftInterval: every node's status is re-read and
	// lost connections are repaired. It does not re-list Rancher.
	KindDrift Kind = "drift"
	// KindBackoff runs when the earliest node backoff ends.
	KindBackoff Kind = "backoff"
	// KindAnnounce runs when a read decided an announcement.
	KindAnnounce Kind = "announce"
	// KindConfig runs when the clusters to manage changed: the config file
	// was reloaded, or a pass's snapshot showed labels that define others.
	KindConfig Kind = "config"
	// KindEvent runs on a Rancher event; events within MinEventGap share it.
	KindEvent Kind = "event"
	// KindRead is not a pass: a read of announced containers.
	KindRead Kind = "read"
)

// passKinds is the naming order of a merged pass.
var passKinds = []Kind{KindStart, KindRetry, KindConfirm, KindResync, KindDrift, KindBackoff, KindAnnounce, KindConfig, KindEvent}

// relists reports whether a pass of kind k asks the observer to re-list.
func (k Kind) relists() bool {
	return k == KindStart || k == KindRetry || k == KindConfirm || k == KindResync
}

// full reports whether a pass of kind k re-reads every node.
func (k Kind) full() bool { return k == KindStart || k == KindDrift }

// work is what the scheduler hands to the loop: a pass or a read.
type work struct {
	// Kind names the job; for a merged pass, the first of passKinds among
	// Reasons.
	Kind Kind
	// Reasons are every kind merged into the pass, in passKinds order.
	Reasons []Kind
	// Relist asks the observer to re-list Rancher; Full re-reads every
	// node's status.
	Relist, Full bool
	// Announced are the IPs announced since the last pass started: their
	// nodes' statuses are re-read.
	Announced []string
	// Fresh are the decided reads since the last pass started: newer than
	// the observer's cache may be.
	Fresh []announce.Decision
	// IPs are the containers to read (KindRead).
	IPs []string
}

// Trigger kinds, for request.
const (
	// triggerEvent: Rancher reported a change.
	triggerEvent = "event"
	// triggerAnnouncement: a node announced itself (Event, IP).
	triggerAnnouncement = "announcement"
	// triggerConfig: the clusters to manage changed.
	triggerConfig = "config"
)

// trigger is something that asks for work.
type trigger struct {
	Kind      string
	Event, IP string
}

// outcome is what a finished pass tells the scheduler; the scheduler
// decides the follow-ups from it.
type outcome struct {
	// Aborted: Rancher could not be observed; a retry is due.
	Aborted bool
	// HeldDrop: a sudden drop is held; a confirming pass is due.
	HeldDrop bool
	// WakeAt is when the earliest node backoff ends, or now when a node
	// the plan needs is unknown (its read did not start in time); zero
	// when none.
	WakeAt time.Time
	// StaleReads: fresh reads waited too long for the observer to catch up;
	// a re-list is due.
	StaleReads bool
	// Reconfigured: the clusters to manage changed during the pass; a pass
	// with the new ones is due.
	Reconfigured bool
}

// scheduleConfig are the intervals the scheduler works with.
type scheduleConfig struct {
	minEventGap, resync, drift, confirm time.Duration
	backoffBase, backoffMax             time.Duration
	maxAnnounced                        int
}

// scheduler decides when every pass and every announcement read runs, on
// the caller's clock. All triggers are requests to it: Rancher events and
// announcements (Request), the periodic resync and drift (its own
// timers), and the follow-ups of a pass (PassDone: retry, confirm,
// backoff end) or of a read (ReadDone: the pass after a decided
// announcement). At most one pass and one read run at a time; no pass
// starts within MinEventGap of the last one, so bursts share a pass, except
// the pass of a decided announcement (see passDue).
//
// It is not safe for concurrent use; Controller guards it.
type scheduler struct {
	cfg        scheduleConfig
	lastStart  time.Time
	nextResync time.Time
	nextDrift  time.Time
	pending    map[Kind]time.Time // requested passes: kind -> earliest due time
	failures   int                // consecutive aborted passes
	passing    bool
	reads      *announce.Tracker // nil without a ContainerLookup
	announced  map[string]bool
	fresh      []announce.Decision
}

// newScheduler returns a scheduler whose first pass (KindStart) is due at
// now. reads is nil when announcements are not read.
func newScheduler(cfg scheduleConfig, reads *announce.Tracker, now time.Time) *scheduler {
	return &scheduler{cfg: cfg, reads: reads, pending: map[Kind]time.Time{KindStart: now},
		nextResync: now.Add(cfg.resync), nextDrift: now.Add(cfg.drift), announced: map[string]bool{}}
}

// request asks for a pass of kind k at due (the earliest request wins).
func (s *scheduler) request(k Kind, due time.Time) {
	if old, ok := s.pending[k]; !ok || due.Before(old) {
		s.pending[k] = due
	}
}

// Request takes a trigger at now.
func (s *scheduler) Request(now time.Time, t trigger) {
	switch t.Kind {
	case triggerEvent:
		s.request(KindEvent, now)
	case triggerConfig:
		s.request(KindConfig, now)
	case triggerAnnouncement:
		if len(s.announced) < s.cfg.maxAnnounced {
			s.announced[t.IP] = true
		}
		if s.reads == nil || !s.reads.Announce(now, t.Event, t.IP) {
			s.request(KindAnnounce, now) // nothing to read with, or too many: a pass reads the node
		}
	}
}

// gate is the earliest a pass may start.
func (s *scheduler) gate() time.Time {
	if s.lastStart.IsZero() {
		return time.Time{}
	}
	return s.lastStart.Add(s.cfg.minEventGap)
}

// passDue is when the next pass is due, no earlier than the gate, except
// for the pass of a decided announcement: that is a join or a leave on
// its fast path, and it does not wait for the gap. Decisions come only
// from reads, which the read plan's token bucket bounds, so they cannot
// make passes storm.
func (s *scheduler) passDue() time.Time {
	due := s.nextResync
	if s.nextDrift.Before(due) {
		due = s.nextDrift
	}
	for _, t := range s.pending {
		if t.Before(due) {
			due = t
		}
	}
	if g := s.gate(); due.Before(g) {
		due = g
	}
	if t, ok := s.pending[KindAnnounce]; ok && len(s.fresh) > 0 && t.Before(due) {
		due = t
	}
	return due
}

// Next returns when Due will next have work; false when nothing can start
// until a running pass or read is done.
func (s *scheduler) Next() (time.Time, bool) {
	var next time.Time
	ok := false
	if !s.passing {
		next, ok = s.passDue(), true
	}
	if s.reads != nil {
		if r, has := s.reads.Next(); has && (!ok || r.Before(next)) {
			next, ok = r, true
		}
	}
	return next, ok
}

// Due returns the jobs that start at now: at most one pass (when none is
// running) and at most one read (when none is in flight). The caller runs
// them and reports back with PassDone and ReadDone.
func (s *scheduler) Due(now time.Time) []work {
	var jobs []work
	if !s.passing && !now.Before(s.passDue()) {
		jobs = append(jobs, s.startPass(now))
	}
	if s.reads != nil {
		if ips := s.reads.Take(now); ips != nil {
			jobs = append(jobs, work{Kind: KindRead, IPs: ips})
		}
	}
	return jobs
}

// startPass merges every request due at now into one pass.
func (s *scheduler) startPass(now time.Time) work {
	if !now.Before(s.nextResync) {
		s.request(KindResync, s.nextResync)
	}
	if !now.Before(s.nextDrift) {
		s.request(KindDrift, s.nextDrift)
	}
	var job work
	for _, k := range passKinds {
		if due, ok := s.pending[k]; ok && !now.Before(due) {
			job.Reasons = append(job.Reasons, k)
			job.Relist = job.Relist || k.relists()
			job.Full = job.Full || k.full()
			delete(s.pending, k)
		}
	}
	job.Kind = job.Reasons[0]
	s.lastStart, s.passing = now, true
	if job.Relist {
		s.nextResync = now.Add(s.cfg.resync)
	}
	if job.Full {
		s.nextDrift = now.Add(s.cfg.drift)
	}
	job.Announced = slices.Sorted(maps.Keys(s.announced))
	job.Fresh = s.fresh
	clear(s.announced)
	s.fresh = nil
	return job
}

// PassDone takes the outcome of the running pass at now and schedules its
// follow-ups: a retry after an aborted pass (exponential: BackoffBase,
// doubling to BackoffMax), the confirming pass of a held drop, the pass
// at the earliest node backoff end, a re-list when fresh reads are stale.
func (s *scheduler) PassDone(now time.Time, o outcome) {
	s.passing = false
	if o.Reconfigured {
		s.request(KindConfig, now)
	}
	if o.Aborted {
		s.failures++
		s.request(KindRetry, now.Add(backoffDelay(s.failures, s.cfg.backoffBase, s.cfg.backoffMax)))
		return
	}
	s.failures = 0
	if o.HeldDrop {
		s.request(KindConfirm, now.Add(s.cfg.confirm))
	}
	delete(s.pending, KindBackoff) // the pass knows every backoff there is now
	if !o.WakeAt.IsZero() {
		s.request(KindBackoff, o.WakeAt)
	}
	if o.StaleReads {
		s.request(KindResync, now)
	}
}

// ReadDone takes the outcome of the read in flight at now. A read that
// decided announcements asks for a pass (merged by MinEventGap) that will
// see the decided containers; it returns the decisions.
func (s *scheduler) ReadDone(now time.Time, r announce.Read) []announce.Decision {
	if s.reads == nil {
		return nil
	}
	d := s.reads.Complete(r)
	if len(d) > 0 {
		s.fresh = append(s.fresh, d...)
		if len(s.fresh) > s.cfg.maxAnnounced {
			s.fresh = s.fresh[len(s.fresh)-s.cfg.maxAnnounced:]
		}
		s.request(KindAnnounce, now)
	}
	return d
}

// backoffDelay is the exponential delay after n consecutive failures.
func backoffDelay(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
