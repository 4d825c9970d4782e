package rancherapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// Tests of the cache fed by the stream, against the unit-test fake, whose
// hooks can hold a request while an event is sent.

// completeCache starts Watch and lists once; the cache is then complete.
func completeCache(t *testing.T, f *fakeRancher, c *Client) {
	t.Helper()
	watching(t, c)
	testwait.Eventually(t, 30*time.Second, "connected", c.StreamConnected)
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "complete", c.cache.complete)
}

// sendEvent sends a frame and waits until the cache has applied it.
func sendEvent(t *testing.T, f *fakeRancher, c *Client, frame string) {
	t.Helper()
	want := c.cache.seq.Load() + 1
	f.events <- frame
	testwait.Eventually(t, 30*time.Second, "event applied", func() bool {
		c.cache.mu.Lock()
		defer c.cache.mu.Unlock()
		return c.cache.applied >= want
	})
}

// cachedState reads a member's state from a snapshot answered by the
// cache, and checks that it cost no request.
func cachedState(t *testing.T, f *fakeRancher, c *Client, id string) string {
	t.Helper()
	f.resetLog()
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 0 || s.Requests != 0 {
		t.Fatalf("a snapshot of a complete cache made requests: %v", f.requests())
	}
	for _, cl := range s.Clusters {
		for _, m := range cl.Members() {
			if m.ContainerID == id {
				return m.State
			}
		}
	}
	return ""
}

// TestEventsAroundAListAreOrdered: an event received before a list
// started is superseded by it; one received while the list ran is not
// applied blindly: the object is read again by id; one received after the
// list is applied.
func TestEventsAroundAListAreOrdered(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	completeCache(t, f, c)

	// Before: an old event (1i3 stopped) arrives; the list that follows
	// reads the truth (running).
	f.set("containers", "1i3", "state", "stopped")
	sendEvent(t, f, c, f.eventFor("containers", "1i3"))
	f.set("containers", "1i3", "state", "running")

	// During: 1i2 stops while the containers list is in flight; the list
	// answers with what it read before (running), the event says stopped.
	inList := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	f.setFail(func(r *http.Request) int {
		switch {
		case strings.HasSuffix(r.URL.Path, "/containers"):
			once.Do(func() { close(inList); <-release })
		case strings.HasSuffix(r.URL.Path, "/containers/1i2"):
			f.set("containers", "1i2", "state", "stopped") // what Rancher has now
		}
		return 0
	})
	f.resetLog()
	done := make(chan error, 1)
	var snap mesh.Snapshot
	go func() {
		var err error
		snap, err = c.Snapshot(context.Background(), true)
		done <- err
	}()
	<-inList
	f.set("containers", "1i2", "state", "stopped")
	sendEvent(t, f, c, f.eventFor("containers", "1i2"))
	f.set("containers", "1i2", "state", "running") // the list's older view
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustEqual(t, f.byIDReads("containers"), []string{"1i2"})
	states := map[string]string{}
	for _, m := range snap.Clusters[0].Members() {
		states[m.ContainerID] = m.State
	}
	mustEqual(t, states, map[string]string{"1i1": "running", "1i2": "stopped", "1i3": "running"})

	// After: applied, and answered without a request.
	f.setFail(nil)
	f.set("containers", "1i1", "state", "stopping")
	sendEvent(t, f, c, f.eventFor("containers", "1i1"))
	if got := cachedState(t, f, c, "1i1"); got != "stopping" {
		t.Errorf("1i1 = %q after its event, want stopping", got)
	}
}

// TestRemovedObjectLeavesTheCache: a removal event drops the container at
// once; the service's instanceIds that still name it cost no by-id read.
func TestRemovedObjectLeavesTheCache(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	completeCache(t, f, c)
	f.set("containers", "1i2", "state", "removed")
	f.set("containers", "1i2", "removed", "2024-01-01T00:00:00Z")
	sendEvent(t, f, c, f.eventFor("containers", "1i2"))
	f.resetLog()
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(s), []string{"1i1", "1i3"})
	if len(f.requests()) != 0 {
		t.Errorf("requests = %v, want none", f.requests())
	}
}

// TestEventsThatFallBehindMakeTheCacheIncomplete: when the queue between
// the stream's reader and the cache overflows, the cache is not used
// until the next full list, which the next snapshot makes.
func TestEventsThatFallBehindMakeTheCacheIncomplete(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t, func(o *Options) { o.EventQueue = 1 })
	completeCache(t, f, c)
	c.cache.mu.Lock() // the cache is busy: the applier waits
	for range 5 {
		f.events <- f.eventFor("containers", "1i1")
	}
	testwait.Eventually(t, 30*time.Second, "events dropped", func() bool { return c.cache.losses.Load() >= 1 })
	c.cache.mu.Unlock()
	testwait.Eventually(t, 30*time.Second, "incomplete", func() bool { return !c.cache.complete() })
	f.resetLog()
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests < 3 {
		t.Errorf("%d requests: the snapshot did not list an incomplete cache", s.Requests)
	}
	mustEqual(t, memberIDs(s), wantIDs(3))
	if !c.cache.complete() {
		t.Error("not complete after the list")
	}
}

// TestReconnectListsBeforeUse: a dropped stream makes the cache
// incomplete; after the reconnect, the first snapshot lists.
func TestReconnectListsBeforeUse(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	completeCache(t, f, c)
	f.dropWebsockets()
	testwait.Eventually(t, 30*time.Second, "reconnected", func() bool { return f.accepted() == 2 && c.StreamConnected() })
	if c.cache.complete() {
		t.Fatal("complete right after a reconnect, before any list")
	}
	f.resetLog()
	s, err := c.Snapshot(context.Background(), false)
	if err != nil || s.Requests != 3 {
		t.Fatalf("snapshot after reconnect: %d requests, %v; want a list (3)", s.Requests, err)
	}
	if !c.cache.complete() {
		t.Error("not complete after the list")
	}
	if s, _ := c.Snapshot(context.Background(), false); s.Requests != 0 {
		t.Errorf("the next snapshot made %d requests", s.Requests)
	}
}

// TestFailingListNeverGivesLess (safety rule 1 at this level): a list that
// fails half way gives an error and no snapshot, and leaves the cache as
// it was; with the stream down, a failing list is an error, never the
// cache's old answer.
func TestFailingListNeverGivesLess(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(5)
	c := f.newClient(t, func(o *Options) { o.PageSize = 2 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func() {}) }()
	testwait.Eventually(t, 30*time.Second, "connected", c.StreamConnected)
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	f.setFail(func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "containers") && r.URL.Query().Get("marker") != "" {
			return 500
		}
		return 0
	})
	s, err := c.Snapshot(context.Background(), true)
	if err == nil || !IsTransient(err) || len(s.Clusters) != 0 {
		t.Fatalf("failing re-list: %v, %d clusters; want a transient error and nothing", err, len(s.Clusters))
	}
	if s, err := c.Snapshot(context.Background(), false); err != nil || !slices.Equal(memberIDs(s), wantIDs(5)) {
		t.Fatalf("the cache after a failed re-list: %v, %v", memberIDs(s), err)
	}
	cancel()
	<-done
	if c.cache.complete() {
		t.Fatal("complete with the stream down")
	}
	s, err = c.Snapshot(context.Background(), false)
	if err == nil || len(s.Clusters) != 0 {
		t.Fatalf("stream down, list failing: %v, %d clusters; want an error and nothing", err, len(s.Clusters))
	}
}

// TestGenerationsChangeWithTheirClusterOnly: a change in one cluster gives
// it a new generation and leaves the other's; nothing changed, or a list
// that finds the same, keeps both.
func TestGenerationsChangeWithTheirClusterOnly(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t, func(o *Options) {
		o.Clusters = []ClusterRef{{Name: "a", Stack: "demo", Services: []string{"web"}}, {Name: "b", Stack: "other", Services: []string{"web"}}}
	})
	completeCache(t, f, c)
	gens := func(relist bool) [2]uint64 {
		t.Helper()
		s, err := c.Snapshot(context.Background(), relist)
		if err != nil {
			t.Fatal(err)
		}
		return [2]uint64{s.Clusters[0].Generation, s.Clusters[1].Generation}
	}
	g0 := gens(false)
	if g0[0] == 0 || g0[1] == 0 || g0[0] == g0[1] {
		t.Fatalf("generations %v", g0)
	}
	sendEvent(t, f, c, f.eventFor("containers", "1i1")) // the same data
	if g := gens(false); g != g0 {
		t.Errorf("an event without a change: %v -> %v", g0, g)
	}
	if g := gens(true); g != g0 {
		t.Errorf("a re-list of the same data: %v -> %v", g0, g)
	}
	f.set("containers", "1i2", "healthState", "unhealthy")
	sendEvent(t, f, c, f.eventFor("containers", "1i2"))
	g1 := gens(false)
	if g1[0] == g0[0] || g1[1] != g0[1] {
		t.Errorf("a change in a: %v -> %v, want a new generation for a only", g0, g1)
	}
}

// TestSetClustersAppliesAtTheNextSnapshot: the cache holds the whole
// environment, so a new cluster is observed at once, at no request.
func TestSetClustersAppliesAtTheNextSnapshot(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	completeCache(t, f, c)
	if err := c.SetClusters([]ClusterRef{{Name: "bad"}}); !IsTerminal(err) || !strings.Contains(err.Error(), "clusters[0].stack") {
		t.Fatalf("invalid clusters: %v", err)
	}
	refs := []ClusterRef{{Name: "demo", Stack: "demo", Services: []string{"web"}}, {Name: "other", Stack: "other", Services: []string{"web"}}}
	if err := c.SetClusters(refs); err != nil {
		t.Fatal(err)
	}
	f.resetLog()
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clusters) != 2 || s.Clusters[1].Name != "other" || len(s.Clusters[1].Members()) != 2 || len(f.requests()) != 0 {
		t.Fatalf("clusters %+v, requests %v", s.Clusters, f.requests())
	}
}

// TestOlderCattleShapesThroughEvents: whatever member sources a server
// leaves out, the cache fed by events in the same shape keeps every
// member, answered at no request.
func TestOlderCattleShapesThroughEvents(t *testing.T) {
	for _, s := range shapes() {
		if s.wantNoSourceAt {
			continue // no source at all: lists fail (TestOlderCattleShapesAreNeverEmpty)
		}
		t.Run(s.String(), func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(5)
			s.apply(f)
			c := f.newClient(t)
			completeCache(t, f, c)
			f.set("containers", "1i2", "healthState", "initializing")
			sendEvent(t, f, c, f.eventFor("containers", "1i2"))
			f.resetLog()
			snap, err := c.Snapshot(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, memberIDs(snap), wantIDs(5))
			if snap.Clusters[0].Services[0].Containers[1].HealthState != "initializing" || len(f.requests()) != 0 {
				t.Errorf("member %+v, requests %v", snap.Clusters[0].Services[0].Containers[1], f.requests())
			}
		})
	}
}

// TestLabelledServicesComeFromTheCache: services that declare a cluster by
// label are found in the cache, wherever their stack, with their labels.
func TestLabelledServicesComeFromTheCache(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(1)
	f.set("services", "1s2", "launchConfig", map[string]any{"labels": map[string]any{"io.drover.cluster": "chat", "io.drover.admin.port": 4001}})
	c := f.newClient(t)
	if got, complete := c.LabelledServices("io.drover.cluster"); len(got) != 0 || complete {
		t.Fatalf("before any list: %v, complete %v", got, complete)
	}
	completeCache(t, f, c)
	got, complete := c.LabelledServices("io.drover.cluster")
	want := []LabelledService{{Stack: "other", StackID: "1st2", Service: "web", ServiceID: "1s2",
		Labels: map[string]string{"io.drover.cluster": "chat", "io.drover.admin.port": "4001"}}}
	if !complete {
		t.Error("not complete")
	}
	mustEqual(t, got, want)
}

// TestSnapshotOfNoClusterListsTheEnvironment: a client may observe no
// cluster (every cluster may come from labels): its snapshot is empty and
// fills the cache, where the labelled services are then found.
func TestSnapshotOfNoClusterListsTheEnvironment(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(2)
	f.set("services", "1s2", "launchConfig", map[string]any{"labels": map[string]any{"io.drover.cluster": "chat"}})
	c := f.newClient(t, func(o *Options) { o.Clusters = nil })
	s, err := c.Snapshot(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clusters) != 0 {
		t.Errorf("clusters %+v, want none", s.Clusters)
	}
	if got, _ := c.LabelledServices("io.drover.cluster"); len(got) != 1 || got[0].Service != "web" || got[0].Stack != "other" {
		t.Errorf("labelled services after the list: %+v", got)
	}
}

// TestWatchedLabelMakesServiceEventsRelevant: an event about a service of
// a stack no cluster names triggers a pass when the service carries the
// watched label, and not otherwise.
func TestWatchedLabelMakesServiceEventsRelevant(t *testing.T) {
	for _, watch := range []bool{false, true} {
		t.Run(fmt.Sprintf("watched=%v", watch), func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(2)
			c := f.newClient(t, func(o *Options) {
				if watch {
					o.WatchLabel = "io.drover.cluster"
				}
			})
			calls, _ := watching(t, c)
			testwait.Eventually(t, 30*time.Second, "connected", c.StreamConnected)
			if _, err := c.Snapshot(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			testwait.Eventually(t, 30*time.Second, "complete", c.cache.complete)
			time.Sleep(100 * time.Millisecond) // let the connect's own trigger pass; not a threshold
			before := calls.Load()
			f.set("services", "1s2", "launchConfig", map[string]any{"labels": map[string]any{"io.drover.cluster": "chat"}})
			sendEvent(t, f, c, f.eventFor("services", "1s2"))
			if watch {
				testwait.Eventually(t, 30*time.Second, "a pass asked for", func() bool { return calls.Load() > before })
				return
			}
			time.Sleep(200 * time.Millisecond) // no trigger may come; not a threshold
			if got := calls.Load(); got != before {
				t.Errorf("an unlabelled watch called onChange %d times for a service of another stack", got-before)
			}
		})
	}
}
