package rancherapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// watching starts Watch in the background and returns the onChange count
// and a stop function that checks Watch returned ctx's error.
func watching(t *testing.T, c *Client) (*atomic.Int64, func()) {
	t.Helper()
	var calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func() { calls.Add(1) }) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v, want context.Canceled", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return &calls, stop
}

func TestWatchResyncsOnConnectAndTriggersOnRelevantEvents(t *testing.T) {
	f := newFakeRancher(t)
	c := f.newClient(t)
	calls, stop := watching(t, c)
	testwait.Eventually(t, 30*time.Second, "connect resync", func() bool { return calls.Load() >= 1 && c.StreamConnected() })
	for i := int64(0); i < 3; i++ {
		before := calls.Load()
		f.events <- `{"name":"resource.change","resourceType":"container","resourceId":"1i1","data":{"resource":{"id":"1i1"}}}`
		testwait.Eventually(t, 30*time.Second, "a call for a container event", func() bool { return calls.Load() > before })
	}
	stop()
	if c.StreamConnected() {
		t.Error("still connected after Watch returned")
	}
}

func TestWatchReconnectsAndResyncsAfterDrop(t *testing.T) {
	f := newFakeRancher(t)
	c := f.newClient(t)
	calls, _ := watching(t, c)
	testwait.Eventually(t, 30*time.Second, "first connection", func() bool { return f.accepted() == 1 && c.StreamConnected() })
	for round := 1; round <= 3; round++ {
		before := calls.Load()
		f.dropWebsockets()
		testwait.Eventually(t, 30*time.Second, "reconnect", func() bool { return f.accepted() == round+1 && c.StreamConnected() })
		testwait.Eventually(t, 30*time.Second, "resync after reconnect", func() bool { return calls.Load() > before })
	}
	if c.Reconnects() < 3 {
		t.Errorf("Reconnects = %d, want >= 3", c.Reconnects())
	}
}

func TestWatchPingDeadline(t *testing.T) {
	f := newFakeRancher(t)
	f.noPings = true // a silent server: the connection must be given up
	c := f.newClient(t, func(o *Options) { o.PingTimeout = 100 * time.Millisecond })
	watching(t, c)
	testwait.Eventually(t, 30*time.Second, "reconnects after silent streams", func() bool { return f.accepted() >= 3 })
}

func TestWatchPingsKeepStreamAlive(t *testing.T) {
	f := newFakeRancher(t)
	f.pingEvery = 20 * time.Millisecond
	c := f.newClient(t, func(o *Options) { o.PingTimeout = 2 * time.Second })
	calls, _ := watching(t, c)
	testwait.Eventually(t, 30*time.Second, "connected", func() bool { return c.StreamConnected() })
	// Behaviour, not timing: many pings later, the stream is the same one.
	before := f.requests()
	testwait.Eventually(t, 30*time.Second, "pings flowing", func() bool { return calls.Load() >= 1 })
	f.events <- `{"name":"ping"}`
	f.events <- `{"name":"resource.change","resourceType":"mount","resourceId":"1m1"}`
	f.events <- `{"name":"resource.change","resourceType":"stack","resourceId":"1st1"}`
	testwait.Eventually(t, 30*time.Second, "stack event", func() bool { return calls.Load() >= 2 })
	if f.accepted() != 1 || len(f.requests()) != len(before) {
		t.Errorf("stream was re-opened: accepted=%d", f.accepted())
	}
}

func TestWatchRecoversFromServerErrors(t *testing.T) {
	f := newFakeRancher(t)
	c := f.newClient(t)
	var refused atomic.Int32
	f.setFail(func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/subscribe") {
			refused.Add(1)
			return 500
		}
		return 0
	})
	calls, _ := watching(t, c)
	testwait.Eventually(t, 30*time.Second, "several refused attempts", func() bool { return refused.Load() >= 3 })
	if c.StreamConnected() || calls.Load() != 0 {
		t.Fatalf("connected=%v calls=%d while every attempt fails", c.StreamConnected(), calls.Load())
	}
	f.setFail(nil)
	testwait.Eventually(t, 30*time.Second, "recovered with a resync", func() bool { return c.StreamConnected() && calls.Load() >= 1 })
}

func TestWatchSlowOnChangeDoesNotBlockStream(t *testing.T) {
	f := newFakeRancher(t)
	c := f.newClient(t)
	release := make(chan struct{})
	var calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Watch(ctx, func() {
			calls.Add(1)
			<-release
		})
	}()
	defer func() { cancel(); close(release); <-done }()
	testwait.Eventually(t, 30*time.Second, "first call blocked", func() bool { return calls.Load() == 1 })
	for range 50 {
		f.events <- `{"name":"resource.change","resourceType":"container","resourceId":"1i1"}`
	}
	// The reader keeps draining while onChange blocks: the fake's event
	// channel empties, and the stream stays the same.
	testwait.Eventually(t, 30*time.Second, "events drained", func() bool { return len(f.events) == 0 })
	if f.accepted() != 1 || calls.Load() != 1 {
		t.Fatalf("accepted=%d calls=%d", f.accepted(), calls.Load())
	}
}
