package reconcile

import (
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// Announcement events, as nodes send them.
const (
	EventUp       = announce.EventUp
	EventStopping = announce.EventStopping
)

// Controller keeps the nodes of the configured clusters in their desired
// mesh. Each pass:
//
//   - observes: a complete snapshot of Rancher (Observer; re-listed on
//     resync, confirm and retry passes), with the containers read after
//     announcements laid over it; any failure aborts the pass, nothing is
//     sent, and the status turns Stale;
//   - desires, per cluster whose Rancher data changed (or that has
//     something pending): members and their peer sets (Desire), with a
//     sudden drop held for one confirming pass (DropGuard);
//   - reads node statuses: every node on a drift pass, only unknown ones
//     otherwise, in parallel (Parallelism), each call bounded by its
//     cluster's timeout, skipping nodes that back off after failures;
//   - plans: Calculate, then each cluster's Policy;
//   - applies: leaves first, then joiners' peer sets, then the others, in
//     parallel; a failing node backs off exponentially and never holds up
//     the others;
//   - records: a Status built from the pass (buildStatus), then metrics
//     and one log line per condition change, from that status.
//
// When passes and announcement reads run is the scheduler's decision,
// on the one clock of Options.Now and Options.After. A pass reads state;
// it never replays events.
type Controller struct {
	opts   Options
	log    logr.Logger
	source ClusterSource
	wake   chan struct{} // a trigger arrived: the loop asks the scheduler again

	mu     sync.Mutex // guards sched and status
	sched  *scheduler
	status Status
	set    atomic.Pointer[ClusterSet] // the clusters of the last pass that started

	passMu sync.Mutex // serialises passes; guards mem
	mem    *memory
}

// New returns a Controller, or an error naming the missing options.
func New(opts Options) (*Controller, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Controller{opts: o, log: o.Logger, source: o.Source, wake: make(chan struct{}, 1), mem: newMemory()}
	if c.source == nil {
		c.source = StaticClusters(o.Clusters)
	}
	first := c.source.Clusters()
	c.set.Store(&first)
	if o.Elector != nil {
		c.mem.role = LeadershipStatus{Role: RoleStandby, Reason: "not elected yet: no pass observed Rancher"}
	}
	c.status.Leadership = c.mem.role
	var reads *announce.Tracker
	if o.Lookup != nil {
		if reads, err = announce.New(o.Announce, c.decided); err != nil {
			return nil, err
		}
	}
	c.sched = newScheduler(scheduleConfig{minEventGap: o.MinEventGap, resync: o.ResyncInterval, drift: o.DriftInterval,
		confirm: o.ConfirmDelay, backoffBase: o.BackoffBase, backoffMax: o.BackoffMax, maxAnnounced: maxAnnounced},
		reads, o.Now())
	return c, nil
}

// RunOnce runs one full pass: Rancher is re-listed and every node's
// status re-read. It returns the pass's error: Rancher could not be
// observed (nothing was done), or some nodes could not be read or changed
// (the others were).
//
// When the pass's snapshot changed the clusters to manage (labels that
// define clusters, found by its list), a pass with the new ones follows,
// a few times at most.
func (c *Controller) RunOnce(ctx context.Context) error {
	const maxFollowUps = 3
	o, err := c.runPass(ctx, work{Kind: KindStart, Reasons: []Kind{KindStart}, Relist: true, Full: true})
	for i := 0; i < maxFollowUps && o.Reconfigured && ctx.Err() == nil; i++ {
		o, err = c.runPass(ctx, work{Kind: KindConfig, Reasons: []Kind{KindConfig}, Full: true})
	}
	return err
}

// runPass runs one pass of job and publishes its status.
func (c *Controller) runPass(ctx context.Context, job work) (outcome, error) {
	c.passMu.Lock()
	defer c.passMu.Unlock()
	c.mem.passes++
	p := &pass{c: c, mem: c.mem, job: job, number: c.mem.passes, start: c.opts.Now()}
	p.log = c.log.WithValues("pass", p.number)
	r, o, err := p.run(ctx)
	c.publish(p.log, r)
	return o, err
}

// publish builds the status of a pass, then emits metrics and logs the
// condition changes from it.
func (c *Controller) publish(log logr.Logger, r passResult) {
	now := c.opts.Now()
	c.mu.Lock()
	prev := c.status
	st := buildStatus(prev, r, now)
	c.status = st
	c.mu.Unlock()
	changed := conditionChanges(prev, st)
	for _, ch := range changed {
		log.Info("condition changed", "cluster", ch.cluster, "type", ch.c.Type, "status", ch.c.Status,
			"reason", ch.c.Reason, "message", ch.c.Message, "was", ch.was)
	}
	for _, name := range newlyUnmanaged(prev, st) {
		c.opts.Recorder.Forget(name)
	}
	for i, cr := range r.clusters {
		if cr.recomputed {
			cs := st.Clusters[i]
			conv, _ := FindCondition(cs.Conditions, ConditionConverged)
			c.opts.Recorder.Cluster(cs.Name, cs.Members, conv.Status == ConditionTrue)
		}
	}
	c.opts.Recorder.Stale(r.aborted)
	c.opts.Recorder.Leader(st.Leadership.Role == RoleLeader)
	c.opts.Recorder.Pass(st.LastPass.Result, st.LastPass.Duration)
	log.V(1).Info("pass finished", "kind", r.job.Kind, "relist", r.job.Relist, "full", r.job.Full,
		"result", st.LastPass.Result, "changes", r.changes, "reads", r.reads, "conditions", len(changed),
		"duration", st.LastPass.Duration)
}

// useClusters asks the source for the clusters to manage and keeps them
// for what runs between passes (announcements).
func (c *Controller) useClusters() ClusterSet {
	set := c.source.Clusters()
	c.set.Store(&set)
	return set
}

// ClustersChanged tells the controller that its ClusterSource has other
// clusters (e.g. the config file was reloaded): a pass follows at once.
// It does not block; it is safe for concurrent use.
func (c *Controller) ClustersChanged() {
	c.request(trigger{Kind: triggerConfig})
}

// Run runs passes and announcement reads when the scheduler says, until
// ctx is done, then returns nil. It never sends anything on the way out:
// nodes keep their connections.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if c.opts.Watcher != nil {
		wg.Go(func() { c.watch(ctx) })
	}
	passDone := make(chan outcome, 1) // one pass at a time
	readDone := make(chan announce.Read, 1)
	for {
		now := c.opts.Now()
		c.mu.Lock()
		jobs := c.sched.Due(now)
		next, ok := c.sched.Next()
		c.mu.Unlock()
		for _, job := range jobs {
			if job.Kind == KindRead {
				wg.Go(func() { readDone <- c.read(ctx, job.IPs) })
				continue
			}
			wg.Go(func() {
				o, err := c.runPass(ctx, job)
				if err != nil && ctx.Err() == nil {
					c.log.Error(err, "pass failed", "kind", job.Kind)
				}
				passDone <- o
			})
		}
		var timer <-chan time.Time
		if ok {
			timer = c.opts.After(max(next.Sub(now), 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-timer:
		case o := <-passDone:
			c.mu.Lock()
			c.sched.PassDone(c.opts.Now(), o)
			c.mu.Unlock()
		case r := <-readDone:
			c.readDone(r)
		}
	}
}

// watch runs the Watcher: every change is a trigger.
func (c *Controller) watch(ctx context.Context) {
	err := c.opts.Watcher.Watch(ctx, func() { c.request(trigger{Kind: triggerEvent}) })
	if err != nil && ctx.Err() == nil {
		c.log.Error(err, "watching rancher stopped")
	}
}

// request hands a trigger to the scheduler and wakes the loop.
func (c *Controller) request(t trigger) {
	c.mu.Lock()
	c.sched.Request(c.opts.Now(), t)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Announce takes a node's announcement that it is up or stopping, by its
// primary IP. It never changes membership by itself: the scheduler reads
// the container from Rancher (Lookup) on the poll plan of pkg/announce,
// sharing reads between concurrent announcements, and a read that finds
// the state that decides (a member after "up", a non-member after
// "stopping") runs a pass that sees what it read. The node's cached
// status is dropped, so that pass reads it again. Announce does not
// block; it is safe for concurrent use. Unknown events and malformed IPs
// are ignored.
func (c *Controller) Announce(event, ip string) {
	if (event != EventUp && event != EventStopping) || net.ParseIP(ip) == nil {
		c.log.V(1).Info("ignoring a malformed announcement", "event", event, "ip", ip)
		return
	}
	c.request(trigger{Kind: triggerAnnouncement, Event: event, IP: ip})
}

// read reads announced containers, bounded by LookupTimeout.
func (c *Controller) read(ctx context.Context, ips []string) announce.Read {
	r := announce.Read{IPs: ips, Started: c.opts.Now()}
	ctx, cancel := context.WithTimeout(ctx, c.opts.LookupTimeout)
	defer cancel()
	r.Found, r.Err = c.opts.Lookup.ContainersByIP(ctx, ips)
	return r
}

// readDone hands a read's outcome to the scheduler.
func (c *Controller) readDone(r announce.Read) {
	if r.Err != nil {
		c.log.V(1).Info("reading announced containers", "ips", len(r.IPs), "error", r.Err.Error())
	}
	c.mu.Lock()
	decided := c.sched.ReadDone(c.opts.Now(), r)
	c.mu.Unlock()
	for _, d := range decided {
		c.log.V(1).Info("announcement decided", "event", d.Event, "ip", d.IP, "state", d.Member.State,
			"healthState", d.Member.HealthState, "found", d.Found)
	}
}

// decided reports whether Rancher's view of an announced container
// settles the announcement: a member of a configured cluster after "up",
// anything else after "stopping".
func (c *Controller) decided(event string, m mesh.Member, found bool) bool {
	member := false
	for _, cc := range c.set.Load().Clusters {
		if found && slices.Contains(cc.Services, m.Service) && IsMember(cc.Membership, m) {
			member = true
		}
	}
	if event == EventUp {
		return member
	}
	return !member
}

// Status returns a deep copy of the controller's current view.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.DeepCopy()
}

// Ready reports whether the last pass observed Rancher completely: the
// controller knows the mesh and can act on it. For /readyz.
func (c *Controller) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.status.LastObserved.IsZero() && c.status.LastPass.Result != resultAborted
}
