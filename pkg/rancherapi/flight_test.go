package rancherapi

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
)

func TestFlightQueue(t *testing.T) {
	var q flightQueue
	gate := make(chan struct{})
	var runs atomic.Int32
	fn := func(ctx context.Context, _ bool) (mesh.Snapshot, error) {
		n := runs.Add(1)
		if n == 1 {
			select {
			case <-gate:
			case <-ctx.Done():
				return mesh.Snapshot{}, ctx.Err()
			}
		}
		return mesh.Snapshot{Requests: int(n)}, nil
	}
	type result struct {
		s   mesh.Snapshot
		err error
	}
	start := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() { s, err := q.do(ctx, false, fn); ch <- result{s, err} }()
		return ch
	}
	first := start(context.Background())
	testwait.Eventually(t, 30*time.Second, "first run", func() bool { return runs.Load() == 1 })

	// A queued caller that gives up leaves no cancelled flight behind.
	ctxB, cancelB := context.WithCancel(context.Background())
	b := start(ctxB)
	testwait.Eventually(t, 30*time.Second, "b queued", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.queued != nil && q.queued.waiters == 1
	})
	cancelB()
	if r := <-b; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("b: %v", r.err)
	}
	c := start(context.Background())
	d := start(context.Background())
	testwait.Eventually(t, 30*time.Second, "c and d queued", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.queued != nil && q.queued.waiters == 2
	})
	close(gate)
	if r := <-first; r.err != nil || r.s.Requests != 1 {
		t.Fatalf("first: %+v", r)
	}
	rc, rd := <-c, <-d
	if rc.err != nil || rd.err != nil || rc.s.Requests != 2 || rd.s.Requests != 2 {
		t.Fatalf("c=%+v d=%+v: want both from the second run", rc, rd)
	}
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
}

func TestFlightCancelledWhenEveryWaiterLeaves(t *testing.T) {
	var q flightQueue
	cancelled := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.do(ctx, false, func(fctx context.Context, _ bool) (mesh.Snapshot, error) {
			<-fctx.Done()
			close(cancelled)
			return mesh.Snapshot{}, fctx.Err()
		})
		errc <- err
	}()
	testwait.Eventually(t, 30*time.Second, "running", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running != nil
	})
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(30 * time.Second):
		t.Fatal("the abandoned snapshot kept running")
	}
}

// A queued snapshot lists when any of its callers asked to, and the one
// running is not changed by callers that arrive meanwhile.
func TestFlightQueuedListsIfAnyCallerAsked(t *testing.T) {
	var q flightQueue
	gate := make(chan struct{})
	var lists []bool
	var runs atomic.Int32
	fn := func(ctx context.Context, relist bool) (mesh.Snapshot, error) {
		if runs.Add(1) == 1 {
			<-gate
		}
		lists = append(lists, relist) // runs are serial
		return mesh.Snapshot{}, nil
	}
	done := make(chan struct{}, 3)
	call := func(relist bool) {
		go func() { _, _ = q.do(context.Background(), relist, fn); done <- struct{}{} }()
	}
	call(false)
	testwait.Eventually(t, 30*time.Second, "first run", func() bool { return runs.Load() == 1 })
	call(false)
	call(true)
	testwait.Eventually(t, 30*time.Second, "two queued", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.queued != nil && q.queued.waiters == 2
	})
	close(gate)
	for range 3 {
		<-done
	}
	mustEqual(t, lists, []bool{false, true})
}
