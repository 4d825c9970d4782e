package ranchersim_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// flakyRuntime fails the first n starts, as a runtime whose container IP
// is taken does.
type flakyRuntime struct {
	mu       sync.Mutex
	fails    int
	attempts int
}

func (r *flakyRuntime) Start(_ context.Context, c ranchersim.ContainerSpec, _ func(error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.attempts <= r.fails {
		return errors.New("listen tcp " + c.IP + ":4001: bind: address already in use")
	}
	return nil
}

func (r *flakyRuntime) Stop(context.Context, string, time.Duration) error { return nil }

func (r *flakyRuntime) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

func TestFailedStartGoesToErrorWithTheReasonAndBacksOff(t *testing.T) {
	rt := &flakyRuntime{fails: 2}
	s := demo(t, ranchersim.Options{Runtime: rt, RemoveDelay: time.Hour}, 1, nil)
	// demo settles only once a container runs: the third start.
	views := s.Containers("demo", "hello")
	if len(views) != 3 || views[0].State != "removed" || views[1].State != "removed" || views[2].State != "running" {
		t.Fatalf("containers %+v", views)
	}
	status, first := call(t, s, "GET", "/containers/"+views[0].ID, nil)
	if status != 200 || !strings.Contains(first["transitioningMessage"].(string), "address already in use") {
		t.Fatalf("failed container %d %v", status, first)
	}
	// One start per attempt: the failed containers were replaced, not
	// restarted in a loop (the backoff between attempts is
	// TestRetryDelayDoublesUpToItsCap).
	if rt.count() != 3 {
		t.Errorf("%d starts, want 3", rt.count())
	}
	_, svc := call(t, s, "GET", "/services/"+views[2].ServiceID, nil)
	if svc["transitioning"] != "no" || svc["transitioningMessage"] != nil {
		t.Errorf("service still in error after recovering: %v", svc)
	}
}

func TestFailingStartShowsOnTheContainerAndTheService(t *testing.T) {
	rt := &flakyRuntime{fails: 1 << 30}
	s := demo(t, ranchersim.Options{Runtime: rt}, 0, nil)
	if err := s.Scale("demo", "hello", 1); err != nil {
		t.Fatal(err)
	}
	var ct map[string]any
	testwait.Eventually(t, settleTimeout, "the error state", func() bool {
		_, body := call(t, s, "GET", "/containers?state=error", nil)
		if list := data(body); len(list) == 1 {
			ct = list[0]
			return true
		}
		return false
	})
	if ct["transitioning"] != "error" || !strings.Contains(ct["transitioningMessage"].(string), "address already in use") {
		t.Fatalf("container in error: %v", ct)
	}
	_, svc := call(t, s, "GET", "/services/"+ct["serviceId"].(string), nil)
	if svc["transitioning"] != "error" || !strings.Contains(svc["transitioningMessage"].(string), "failed to start") {
		t.Fatalf("service: %v", svc)
	}
}
