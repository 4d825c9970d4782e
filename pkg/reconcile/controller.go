package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Controller keeps the nodes of the configured clusters in their desired
// mesh. Its loop:
//
//   - observes: a complete snapshot of Rancher (Observer); any failure
//     aborts the pass, nothing is sent, and the status turns Stale;
//   - desires: members and their peer sets per cluster (Desire), with a
//     sudden drop held for one confirming pass (DropGuard);
//   - reads node statuses: every node on a drift pass, only unknown ones
//     otherwise, in parallel (Parallelism), each call bounded, skipping
//     nodes that back off after failures;
//   - plans: Calculate, then each cluster's Policy;
//   - applies: leaves first, then full peer sets, in parallel; a failing
//     node backs off exponentially and never holds up the others;
//   - records: Status with conditions, metrics through the Recorder, one
//     log line per change.
//
// Triggers: Rancher events (ScheduleRunOnce, merged by MinEventGap), node
// announcements (Announce), a periodic resync and a periodic drift pass.
// A pass reads state; it never replays events.
type Controller struct {
	opts       Options
	log        logr.Logger
	wake       chan struct{}
	announceCh chan string

	mu        sync.Mutex // guards the fields below
	nextRun   time.Time  // pending triggered pass; zero when none
	lastStart time.Time
	nextDrift time.Time
	nextSync  time.Time
	fullNext  bool
	failures  int // consecutive aborted passes, for the retry delay
	status    Status
	announced map[string]bool     // IPs announced since the last pass
	following map[string]followUp // IP -> the latest announcement being followed

	passMu     sync.Mutex // serialises passes; guards the pass state below
	passes     int64
	cache      map[mesh.NodeName]mesh.NodeStatus
	backoff    map[mesh.NodeName]nodeBackoff
	lastPush   map[mesh.NodeName]PushResult
	containers map[mesh.NodeName]containerKey
	members    map[string]mesh.PeerSet
	guard      DropGuard
}

// containerKey identifies one run of a container: a new id or start count
// means the node behind a name restarted and its cached status is void.
type containerKey struct {
	id     string
	starts int64
}

// New returns a Controller, or an error naming the missing options.
func New(opts Options) (*Controller, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Controller{
		opts:       o,
		log:        o.Logger,
		wake:       make(chan struct{}, 1),
		announceCh: make(chan string, 1024),
		announced:  map[string]bool{},
		following:  map[string]followUp{},
		cache:      map[mesh.NodeName]mesh.NodeStatus{},
		backoff:    map[mesh.NodeName]nodeBackoff{},
		lastPush:   map[mesh.NodeName]PushResult{},
		containers: map[mesh.NodeName]containerKey{},
		members:    map[string]mesh.PeerSet{},
	}, nil
}

// RunOnce runs one full pass: every node's status is re-read. It returns
// the pass's error: Rancher could not be observed (nothing was done), or
// some nodes could not be read or changed (the others were).
func (c *Controller) RunOnce(ctx context.Context) error {
	return c.runPass(ctx, true)
}

// runPass is one pass; full re-reads every node's status and repairs
// missing connections.
func (c *Controller) runPass(ctx context.Context, full bool) error {
	c.passMu.Lock()
	defer c.passMu.Unlock()
	start := c.opts.Now()
	c.passes++
	log := c.log.WithValues("pass", c.passes)
	snap, err := c.opts.Observer.Snapshot(ctx)
	var desired Desired
	if err == nil {
		desired, err = Desire(c.opts.Clusters, snap)
	}
	if err != nil {
		err = fmt.Errorf("observing rancher: %w", err)
		c.finishAborted(log, start, full, err)
		return err
	}
	desired, holds := c.guard.Guard(desired)
	c.forget(desired, c.takeAnnounced())
	observed, readErr := c.readStatuses(ctx, desired, full, start)
	changes := Calculate(desired, observed, PlanOptions{
		MinRevision:      ClockRevision(start),
		CheckConnections: full,
	})
	changes = ApplyPolicies(desired, changes)
	c.logMembers(log, desired, holds)
	var applyErr error
	if c.opts.DryRun {
		logPlan(log, changes)
	} else {
		applyErr = errors.Join(c.apply(ctx, log, changes), c.refresh(ctx, desired))
	}
	err = errors.Join(readErr, applyErr)
	c.finish(log, passDone{start: start, full: full, desired: desired, changes: changes, holds: holds, err: err})
	return err
}

// Run runs passes until ctx is done, then returns nil. It never sends
// anything on the way out: nodes keep their connections.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if c.opts.Watcher != nil {
		wg.Go(func() { c.watch(ctx) })
	}
	if c.opts.Lookup != nil {
		for range DefaultAnnounceWorkers {
			wg.Go(func() { c.followAnnouncements(ctx) })
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-timer.C:
		}
		if now := c.opts.Now(); c.ShouldRunOnce(now) {
			if err := c.runPass(ctx, c.takeFull()); err != nil && ctx.Err() == nil {
				c.log.Error(err, "pass failed")
			}
		}
		timer.Reset(c.untilNext(c.opts.Now()))
	}
}

// watch runs the Watcher, scheduling a pass for every change.
func (c *Controller) watch(ctx context.Context) {
	err := c.opts.Watcher.Watch(ctx, func() { c.ScheduleRunOnce(c.opts.Now()) })
	if err != nil && ctx.Err() == nil {
		c.log.Error(err, "watching rancher stopped")
	}
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
