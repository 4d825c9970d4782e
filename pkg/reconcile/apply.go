package reconcile

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
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

// mayBeAlive reports whether a departing container's agent may still
// answer: there is no point asking a stopped one.
func mayBeAlive(state string) bool {
	switch state {
	case "running", "stopping", "starting", "restarting", "updating-running":
		return true
	}
	return false
}

// readStatuses reads the statuses the plan needs, in the recomputed
// clusters: every node's on a full pass, otherwise only unknown ones;
// nodes that back off are skipped. Failures of members are returned
// joined; a departing node that does not answer is expected (it is
// stopping).
func (p *pass) readStatuses(ctx context.Context) error {
	var targets []statusTarget
	for _, w := range p.clusters {
		if !w.recompute {
			continue
		}
		for _, m := range w.desired.Members {
			if !m.Held {
				targets = p.target(targets, m.Endpoint, true)
			}
		}
		for _, n := range w.desired.Departing {
			if mayBeAlive(n.Container.State) {
				targets = p.target(targets, n.Endpoint, false)
			} else if f := p.mem.nodes.get(n.Endpoint); f != nil {
				f.status = nil // stopped: it holds nothing any more
			}
		}
	}
	return p.read(ctx, targets)
}

// statusTarget is a node whose status a pass reads.
type statusTarget struct {
	ep     mesh.Endpoint
	member bool
}

// target adds ep unless it backs off, or its status is known and the pass
// is not full.
func (p *pass) target(ts []statusTarget, ep mesh.Endpoint, member bool) []statusTarget {
	f := p.mem.nodes.get(ep)
	if f.backingOff(p.start) || (f != nil && f.status != nil && !p.job.Full) {
		return ts
	}
	return append(ts, statusTarget{ep, member})
}

// refresh re-reads, after the changes, the members whose last status
// lacks a connection: another node's push may have made it since.
func (p *pass) refresh(ctx context.Context) error {
	now := p.c.opts.Now()
	var targets []statusTarget
	for _, w := range p.clusters {
		if !w.recompute {
			continue
		}
		for _, m := range w.desired.Members {
			f := p.mem.nodes.get(m.Endpoint)
			if st := f.known(now); st != nil && !m.Held && !m.Peers.Equal(st.Connected) && len(m.Peers.Minus(st.Connected)) > 0 {
				targets = append(targets, statusTarget{m.Endpoint, true})
			}
		}
	}
	return p.read(ctx, targets)
}

// read reads the targets' statuses into the node book, in parallel, within
// StatusTimeout; a node that fails backs off.
func (p *pass) read(ctx context.Context, targets []statusTarget) error {
	type result struct {
		st  mesh.NodeStatus
		err error
		ok  bool
	}
	results := make([]result, len(targets))
	phase, cancel := context.WithTimeout(ctx, p.c.opts.StatusTimeout)
	defer cancel()
	forEach(phase, p.c.opts.Parallelism, len(targets), func(ctx context.Context, i int) {
		ctx, cancel := p.callContext(ctx, targets[i].ep.Cluster)
		defer cancel()
		st, err := p.c.opts.Nodes.Status(ctx, targets[i].ep)
		results[i] = result{st, err, true}
	})
	now := p.c.opts.Now()
	var errs []error
	for i, r := range results {
		if r.ok {
			p.reads++
		}
		f := p.mem.nodes.get(targets[i].ep)
		switch {
		case f == nil:
		case !r.ok: // not started before the phase ended: unknown this pass
			f.status = nil
		case r.err != nil:
			f.failed(now, p.c.opts.BackoffBase, p.c.opts.BackoffMax)
			if targets[i].member {
				errs = append(errs, r.err) // it names the node and the call (see Nodes)
			}
		default:
			f.answered(r.st)
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

// apply sends the plan phase by phase (see Phase), each phase in
// parallel. A phase waits for the one before it at most LeaveWait:
//   - a leaving node that answers is out of the mesh within milliseconds,
//     and one that cannot be reached (a host cut off) must not hold up its
//     peers' new sets for a whole call timeout;
//   - a joiner connects to its peers before they are told about it, so
//     each new link is dialled from one side only, and the peers' pushes
//     find it connected (measured: join p99 194 -> 142 ms and join from
//     VM ready p50 46 -> 40 ms at 20 nodes, docs/benchmarks.md);
//   - in a bounded-degree cluster the links that replace a leaver's, or
//     that a joiner brings, exist before any old link is dropped.
func (p *pass) apply(ctx context.Context) error {
	phases := make([][]Change, PhaseSettle+1)
	for _, ch := range slices.Concat(p.changes.Leave, p.changes.SetPeers) {
		phases[ch.Phase] = append(phases[ch.Phase], ch)
	}
	phases = slices.DeleteFunc(phases, func(cs []Change) bool { return len(cs) == 0 })
	results := make([][]callResult, len(phases))
	done := make([]chan struct{}, len(phases))
	after := priorCalls(phases)
	for i, phase := range phases {
		results[i] = make([]callResult, len(phase))
		done[i] = make(chan struct{})
		go func() {
			defer close(done[i])
			forEach(ctx, p.c.opts.Parallelism, len(phase), func(ctx context.Context, j int) {
				defer close(after[i][j].done)
				if prev := after[i][j].prev; prev != nil {
					select { // a node's bridge is answered before its final set is sent
					case <-prev:
					case <-ctx.Done():
					}
				}
				results[i][j] = p.call(ctx, phase[j])
			})
		}()
		if i < len(phases)-1 {
			p.waitAtMost(ctx, done[i], p.c.opts.LeaveWait)
		}
	}
	var errs []error
	for i, phase := range phases {
		<-done[i]
		for j, r := range results[i] {
			if r.done {
				errs = append(errs, p.record(phase[j], r))
			}
		}
	}
	return errors.Join(errs...)
}

// callOrder links a call to the earlier call of the same node in the
// same pass (a bridge before its final set), if any.
type callOrder struct {
	done chan struct{} // closed when the call is done (or skipped)
	prev chan struct{} // the earlier call's done; nil when none
}

// priorCalls returns a callOrder for every call of phases.
func priorCalls(phases [][]Change) [][]callOrder {
	last := map[mesh.Endpoint]chan struct{}{}
	out := make([][]callOrder, len(phases))
	for i, phase := range phases {
		out[i] = make([]callOrder, len(phase))
		for j, ch := range phase {
			o := callOrder{done: make(chan struct{}), prev: last[ch.Endpoint]}
			last[ch.Endpoint] = o.done
			out[i][j] = o
		}
	}
	return out
}

// waitAtMost waits until done is closed, d has passed on the controller's
// clock, or ctx is done.
func (p *pass) waitAtMost(ctx context.Context, done <-chan struct{}, d time.Duration) {
	select {
	case <-done:
	case <-p.c.opts.After(d):
	case <-ctx.Done():
	}
}

// call makes one change, bounded by its cluster's call timeout.
func (p *pass) call(ctx context.Context, ch Change) callResult {
	ctx, cancel := p.callContext(ctx, ch.Endpoint.Cluster)
	defer cancel()
	t0 := p.c.opts.Now()
	var r callResult
	if ch.Action == ActionLeave {
		r.st, r.err = p.c.opts.Nodes.Leave(ctx, ch.Endpoint, ch.Revision)
	} else {
		r.st, r.err = p.c.opts.Nodes.SetPeers(ctx, ch.Endpoint, ch.Revision, ch.Peers)
	}
	r.at, r.done = p.c.opts.Now(), true
	r.latency = r.at.Sub(t0)
	return r
}

// record keeps the outcome of one change in the node book, logs it, and
// returns its error.
func (p *pass) record(ch Change, r callResult) error {
	node := ch.Endpoint.Node
	res := PushResult{Action: ch.Action, Revision: ch.Revision, Peers: ch.Peers, Reason: ch.Reason,
		Result: pushOK, At: r.at, Latency: r.latency}
	log := p.log.WithValues("cluster", ch.Endpoint.Cluster, "node", node, "revision", ch.Revision)
	f := p.mem.nodes.get(ch.Endpoint)
	var err error
	switch {
	case r.err == nil:
		f.answered(r.st)
		logChange(log, ch)
	case p.c.opts.IsStaleRevision(r.err):
		res.Result, res.Error = pushStale, r.err.Error()
		f.status = nil // re-read next pass, never retried blindly
		log.Info("node refused a stale revision; its status is re-read next pass")
	default:
		res.Result, res.Error = pushError, r.err.Error()
		f.failed(r.at, p.c.opts.BackoffBase, p.c.opts.BackoffMax)
		err = r.err // it names the node and the call (see Nodes)
	}
	f.lastPush = &res
	p.c.opts.Recorder.Push(ch.Action, res.Result, r.latency)
	return err
}

// logChange logs one applied change.
func logChange(log logr.Logger, ch Change) {
	if ch.Action == ActionLeave {
		log.Info("told node to leave", "reason", ch.Reason, "phase", ch.Phase.String(), "dropped", ch.Removed.Strings())
		return
	}
	log.Info("pushed peers", "reason", ch.Reason, "phase", ch.Phase.String(), "peers", len(ch.Peers),
		"added", ch.Added.Strings(), "removed", ch.Removed.Strings(), "missing", ch.Missing.Strings())
}

// logPlan logs a plan that is not applied (dry run, standby) at level v.
func logPlan(log logr.Logger, changes Changes, msg string, v int) {
	for _, ch := range slices.Concat(changes.Leave, changes.SetPeers) {
		log.V(v).Info(msg, "action", ch.Action, "cluster", ch.Endpoint.Cluster,
			"node", ch.Endpoint.Node, "revision", ch.Revision, "reason", ch.Reason, "phase", ch.Phase.String(), "peers", ch.Peers.Strings(),
			"added", ch.Added.Strings(), "removed", ch.Removed.Strings())
	}
}

// forEach calls fn for indexes 0..n-1 on at most limit goroutines, and
// returns when all started calls are done. Indexes not started when ctx
// ends are skipped.
func forEach(ctx context.Context, limit, n int, fn func(ctx context.Context, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for range min(limit, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				fn(ctx, i)
			}
		})
	}
}
