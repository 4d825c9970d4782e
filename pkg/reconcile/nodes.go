package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Push results, as in PushResult.Result and Recorder.Push.
const (
	pushOK    = "ok"
	pushError = "error"
	pushStale = "stale"
)

// nodeBackoff holds calls to a node back after failures.
type nodeBackoff struct {
	failures int
	until    time.Time
}

// backoffDelay is the exponential delay after n consecutive failures.
func backoffDelay(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (c *Controller) fail(node mesh.NodeName, now time.Time) {
	b := c.backoff[node]
	b.failures++
	b.until = now.Add(backoffDelay(b.failures, c.opts.BackoffBase, c.opts.BackoffMax))
	c.backoff[node] = b
}

func (c *Controller) backingOff(node mesh.NodeName, now time.Time) bool {
	b, ok := c.backoff[node]
	return ok && now.Before(b.until)
}

// forget drops what the controller knows about nodes whose container
// changed (new id, restarted) or that announced themselves, and about
// nodes that are gone.
func (c *Controller) forget(d Desired, announced map[string]bool) {
	seen := map[mesh.NodeName]containerKey{}
	for _, cl := range d.Clusters {
		for _, n := range slices.Concat(cl.Members, cl.Departing) {
			name := n.Endpoint.Node
			key := containerKey{n.Container.ContainerID, n.Container.StartCount}
			if old, ok := c.containers[name]; (ok && old != key) || announced[n.Container.IP] {
				delete(c.cache, name)
				delete(c.backoff, name)
			}
			seen[name] = key
		}
	}
	c.containers = seen
	prune(c.cache, seen)
	prune(c.backoff, seen)
	prune(c.lastPush, seen)
}

// prune deletes the keys of m that are not in keep.
func prune[V any](m map[mesh.NodeName]V, keep map[mesh.NodeName]containerKey) {
	for name := range m {
		if _, ok := keep[name]; !ok {
			delete(m, name)
		}
	}
}

// mayBeAlive reports whether a departing container's agent may still
// answer: there is no point asking a stopped one.
func mayBeAlive(state string) bool {
	switch state {
	case "running", "stopping", "starting", "restarting", "updating-running":
		return true
	}
	return false
}

// statusTarget is a node whose status a pass needs.
type statusTarget struct {
	ep     mesh.Endpoint
	member bool
}

// readStatuses returns the statuses the plan can rely on: cached ones (all
// of them are re-read when full) and fresh reads, skipping nodes that back
// off. Failures of members are returned joined; a departing node that does
// not answer is expected (it is stopping).
func (c *Controller) readStatuses(ctx context.Context, d Desired, full bool, now time.Time) (map[mesh.NodeName]mesh.NodeStatus, error) {
	var targets []statusTarget
	for _, cl := range d.Clusters {
		for _, m := range cl.Members {
			if !m.Held {
				targets = append(targets, statusTarget{m.Endpoint, true})
			}
		}
		for _, n := range cl.Departing {
			if mayBeAlive(n.Container.State) {
				targets = append(targets, statusTarget{n.Endpoint, false})
			} else {
				delete(c.cache, n.Endpoint.Node) // stopped: it holds nothing any more
			}
		}
	}
	targets = slices.DeleteFunc(targets, func(t statusTarget) bool {
		_, cached := c.cache[t.ep.Node]
		return c.backingOff(t.ep.Node, now) || (cached && !full)
	})
	err := c.read(ctx, targets)
	observed := make(map[mesh.NodeName]mesh.NodeStatus, len(c.cache))
	for name, st := range c.cache {
		if !c.backingOff(name, now) {
			observed[name] = st
		}
	}
	return observed, err
}

// refresh re-reads, after the changes, the members whose last status
// lacks a connection: another node's push may have made it since.
func (c *Controller) refresh(ctx context.Context, d Desired) error {
	now := c.opts.Now()
	var targets []statusTarget
	for _, cl := range d.Clusters {
		for _, m := range cl.Members {
			st, ok := c.cache[m.Endpoint.Node]
			if ok && !m.Held && !c.backingOff(m.Endpoint.Node, now) && len(m.Peers.Minus(st.Connected)) > 0 {
				targets = append(targets, statusTarget{m.Endpoint, true})
			}
		}
	}
	return c.read(ctx, targets)
}

// read reads the targets' statuses into the cache, in parallel, within
// StatusTimeout; a node that fails backs off.
func (c *Controller) read(ctx context.Context, targets []statusTarget) error {
	type result struct {
		st  mesh.NodeStatus
		err error
		ok  bool
	}
	results := make([]result, len(targets))
	phase, cancel := context.WithTimeout(ctx, c.opts.StatusTimeout)
	defer cancel()
	forEach(phase, c.opts.Parallelism, len(targets), func(ctx context.Context, i int) {
		cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
		st, err := c.opts.Nodes.Status(cctx, targets[i].ep)
		results[i] = result{st, err, true}
	})
	now := c.opts.Now()
	var errs []error
	for i, r := range results {
		node := targets[i].ep.Node
		switch {
		case !r.ok: // not started before the phase ended: unknown this pass
			delete(c.cache, node)
		case r.err != nil:
			delete(c.cache, node)
			c.fail(node, now)
			if targets[i].member {
				errs = append(errs, fmt.Errorf("reading status of %s: %w", node, r.err))
			}
		default:
			c.cache[node] = r.st
			delete(c.backoff, node)
		}
	}
	return errors.Join(errs...)
}

// callResult is the outcome of one change.
type callResult struct {
	st      mesh.NodeStatus
	err     error
	at      time.Time
	latency time.Duration
	done    bool
}

// apply sends the plan in three phases, each in parallel: leaves, then
// the peer sets of joining nodes, then every other peer set. A phase waits
// for the one before it at most LeaveWait:
//   - a leaving node that answers is out of the mesh within milliseconds,
//     and one that cannot be reached (a host cut off) must not hold up its
//     peers' new sets for a whole call timeout;
//   - a joiner connects to its peers before they are told about it, so
//     each new link is dialled from one side only, and the peers' pushes
//     find it connected (measured: join p99 194 -> 142 ms and join from
//     VM ready p50 46 -> 40 ms at 20 nodes, docs/benchmarks.md).
func (c *Controller) apply(ctx context.Context, log logr.Logger, changes Changes) error {
	var joins, others []Change
	for _, ch := range changes.SetPeers {
		if ch.Reason == ReasonJoin || ch.Reason == ReasonRejoin {
			joins = append(joins, ch)
		} else {
			others = append(others, ch)
		}
	}
	phases := [][]Change{changes.Leave, joins, others}
	results := make([][]callResult, len(phases))
	done := make([]chan struct{}, len(phases))
	for i, phase := range phases {
		results[i] = make([]callResult, len(phase))
		done[i] = make(chan struct{})
		go func() {
			defer close(done[i])
			c.callAll(ctx, phase, results[i])
		}()
		if len(phase) > 0 && i < len(phases)-1 {
			waitAtMost(ctx, done[i], c.opts.LeaveWait)
		}
	}
	var errs []error
	for i, phase := range phases {
		<-done[i]
		errs = append(errs, c.recordAll(log, phase, results[i]))
	}
	return errors.Join(errs...)
}

// waitAtMost waits until done is closed, d has passed or ctx is done.
func waitAtMost(ctx context.Context, done <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// callAll makes the changes in parallel, at most Parallelism at once,
// storing each outcome in results.
func (c *Controller) callAll(ctx context.Context, changes []Change, results []callResult) {
	forEach(ctx, c.opts.Parallelism, len(changes), func(ctx context.Context, i int) {
		results[i] = c.call(ctx, changes[i])
	})
}

// recordAll records the outcomes of the changes that were made.
func (c *Controller) recordAll(log logr.Logger, changes []Change, results []callResult) error {
	var errs []error
	for i, r := range results {
		if r.done {
			errs = append(errs, c.record(log, changes[i], r))
		}
	}
	return errors.Join(errs...)
}

// call makes one change, bounded by CallTimeout.
func (c *Controller) call(ctx context.Context, ch Change) callResult {
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	t0 := time.Now()
	var r callResult
	if ch.Action == ActionLeave {
		r.st, r.err = c.opts.Nodes.Leave(ctx, ch.Endpoint, ch.Revision)
	} else {
		r.st, r.err = c.opts.Nodes.SetPeers(ctx, ch.Endpoint, ch.Revision, ch.Peers)
	}
	r.latency, r.at, r.done = time.Since(t0), c.opts.Now(), true
	return r
}

// record keeps the outcome of one change, logs it, and returns its error.
func (c *Controller) record(log logr.Logger, ch Change, r callResult) error {
	node := ch.Endpoint.Node
	res := PushResult{Action: ch.Action, Revision: ch.Revision, Peers: ch.Peers, Reason: ch.Reason,
		Result: pushOK, At: r.at, Latency: r.latency}
	log = log.WithValues("cluster", ch.Endpoint.Cluster, "node", node, "revision", ch.Revision)
	var err error
	switch {
	case r.err == nil:
		c.cache[node] = r.st
		delete(c.backoff, node)
		logChange(log, ch)
	case c.opts.IsStaleRevision(r.err):
		res.Result, res.Error = pushStale, r.err.Error()
		delete(c.cache, node) // re-read next pass, never retried blindly
		log.Info("node refused a stale revision; its status is re-read next pass")
	default:
		res.Result, res.Error = pushError, r.err.Error()
		c.fail(node, r.at)
		verb := "pushing peers to"
		if ch.Action == ActionLeave {
			verb = "telling to leave"
		}
		err = fmt.Errorf("%s %s: %w", verb, node, r.err)
	}
	c.lastPush[node] = res
	c.opts.Recorder.Push(ch.Action, res.Result, r.latency)
	return err
}

// logChange logs one applied change.
func logChange(log logr.Logger, ch Change) {
	if ch.Action == ActionLeave {
		log.Info("told node to leave", "reason", ch.Reason, "dropped", ch.Removed.Strings())
		return
	}
	log.Info("pushed peers", "reason", ch.Reason, "peers", len(ch.Peers),
		"added", ch.Added.Strings(), "removed", ch.Removed.Strings(), "missing", ch.Missing.Strings())
}

// logPlan logs a plan that is not applied (dry run).
func logPlan(log logr.Logger, changes Changes) {
	for _, ch := range slices.Concat(changes.Leave, changes.SetPeers) {
		log.Info("dry run: would change node", "action", ch.Action, "cluster", ch.Endpoint.Cluster,
			"node", ch.Endpoint.Node, "revision", ch.Revision, "reason", ch.Reason, "peers", ch.Peers.Strings(),
			"added", ch.Added.Strings(), "removed", ch.Removed.Strings())
	}
}

// forEach calls fn for indexes 0..n-1 with at most limit calls at once,
// and returns when all started calls are done. Indexes not started when
// ctx ends are skipped.
func forEach(ctx context.Context, limit, n int, fn func(ctx context.Context, i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, i)
		})
	}
}
