package rancherapi

import (
	"context"
	"sync"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// flightQueue runs at most one snapshot at a time with at most one queued.
// A caller that arrives while a snapshot runs joins the queued one (and
// creates it if needed), because the running one may have started before
// the change the caller wants to see. A burst of callers therefore costs
// at most two snapshots. The queued snapshot lists Rancher if any of its
// callers asked for a list.
//
// A flight runs with the context of the caller that created it, detached
// from its cancellation; it is cancelled when every caller waiting on it
// has gone.
type flightQueue struct {
	mu      sync.Mutex
	running *flight
	queued  *flight
}

type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	relist  bool
	waiters int
	done    chan struct{}
	snap    mesh.Snapshot
	err     error
}

// snapshotFunc takes one snapshot, listing first when relist is set.
type snapshotFunc func(ctx context.Context, relist bool) (mesh.Snapshot, error)

// do returns the result of a snapshot that starts no earlier than this
// call, and lists if relist is set.
func (q *flightQueue) do(ctx context.Context, relist bool, fn snapshotFunc) (mesh.Snapshot, error) {
	f := q.join(ctx, relist, fn)
	select {
	case <-f.done:
		return f.snap, f.err
	case <-ctx.Done():
		q.leave(f)
		return mesh.Snapshot{}, ctx.Err()
	}
}

// join adds the caller to the queued flight, or starts a new one.
func (q *flightQueue) join(ctx context.Context, relist bool, fn snapshotFunc) *flight {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running == nil {
		q.running = newFlight(ctx)
		q.running.waiters++
		q.running.relist = relist
		go q.run(q.running, fn)
		return q.running
	}
	if q.queued == nil || q.queued.waiters == 0 { // none, or abandoned and cancelled
		q.queued = newFlight(ctx)
	}
	q.queued.waiters++
	q.queued.relist = q.queued.relist || relist
	return q.queued
}

func newFlight(ctx context.Context) *flight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &flight{ctx: fctx, cancel: cancel, done: make(chan struct{})}
}

// run runs f, then promotes the queued flight, if any, and runs it.
func (q *flightQueue) run(f *flight, fn snapshotFunc) {
	for f != nil {
		q.mu.Lock()
		relist := f.relist
		q.mu.Unlock()
		f.snap, f.err = fn(f.ctx, relist)
		f.cancel()
		close(f.done)
		q.mu.Lock()
		f, q.running, q.queued = q.queued, q.queued, nil
		q.mu.Unlock()
	}
}

// leave records that a waiter gave up; the last one cancels the flight.
func (q *flightQueue) leave(f *flight) {
	q.mu.Lock()
	defer q.mu.Unlock()
	f.waiters--
	if f.waiters == 0 {
		f.cancel()
	}
}
