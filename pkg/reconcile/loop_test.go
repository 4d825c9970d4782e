package reconcile

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// fakeClock is the controller's one clock in a test: time moves only when
// the test advances it, and After fires then.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(3_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// advance moves the clock by d and fires the waiters due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// sleepingUntil reports whether someone waits for exactly at: the loop is
// idle until then.
func (c *fakeClock) sleepingUntil(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if w.at.Equal(at) {
			return true
		}
	}
	return false
}

// step waits until the loop sleeps until now+d, then advances to it.
func (c *fakeClock) step(t *testing.T, d time.Duration) {
	t.Helper()
	at := c.Now().Add(d)
	testwait.Eventually(t, 10*time.Second, fmt.Sprintf("the loop sleeps until +%v", d), func() bool { return c.sleepingUntil(at) })
	c.advance(d)
}

// runOn runs c until the test ends.
func runOn(t *testing.T, c *Controller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

func waitPasses(t *testing.T, c *Controller, n int64) {
	t.Helper()
	testwait.Eventually(t, 10*time.Second, fmt.Sprintf("pass %d", n), func() bool { return c.Status().Passes >= n })
}

func (f *fakeNodes) statusReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statuses
}

func (f *fakeObserver) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.relists
}

// The loop runs on the injected clock alone: the resync re-lists Rancher,
// drift passes re-read every node and do not re-list, and nothing runs in
// between.
func TestRunUsesOneClockForResyncAndDrift(t *testing.T) {
	clock := newFakeClock()
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Now, o.After = clock.Now, clock.After
		o.DriftInterval, o.ResyncInterval = 10*time.Second, 30*time.Second
	})
	runOn(t, c)
	waitPasses(t, c, 1)
	if calls, relists := obs.counts(); calls != 1 || relists != 1 || nodes.statusReads() != 3 {
		t.Fatalf("start: %d snapshots (%d re-lists), %d status reads; want 1 (1), 3", calls, relists, nodes.statusReads())
	}
	for i, want := range []struct {
		kind         Kind
		relists      int
		statusReads  int
		relist, full bool
	}{
		{KindDrift, 1, 6, false, true},
		{KindDrift, 1, 9, false, true},
		{KindResync, 2, 12, true, true}, // the resync at 30 s, with the drift due then
	} {
		clock.step(t, 10*time.Second)
		waitPasses(t, c, int64(i+2))
		lp := c.Status().LastPass
		_, relists := obs.counts()
		if Kind(lp.Kind) != want.kind || lp.Relist != want.relist || lp.Full != want.full || relists != want.relists ||
			nodes.statusReads() != want.statusReads {
			t.Errorf("pass %d: %s relist=%v full=%v, %d re-lists, %d status reads; want %s %v %v, %d, %d", i+2,
				lp.Kind, lp.Relist, lp.Full, relists, nodes.statusReads(), want.kind, want.relist, want.full, want.relists, want.statusReads)
		}
	}
	if calls := nodes.takeCalls(); len(calls) != 3 {
		t.Errorf("converged mesh got %d pushes after the first pass, want the first 3 only", len(calls))
	}
}

// cacheObserver answers like an event-fed cache: what it last listed,
// until a re-list.
type cacheObserver struct {
	mu             sync.Mutex
	cached, listed mesh.Snapshot
	relists        int
}

func (o *cacheObserver) Snapshot(_ context.Context, relist bool) (mesh.Snapshot, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if relist {
		o.cached = o.listed
		o.relists++
	}
	return o.cached, nil
}

// The fast path on the injected clock: the read after an announcement sees
// what the cache does not yet, and the pass it triggers acts on that read;
// when the cache never catches up, a re-list confirms it, and the node is
// never dropped meanwhile.
func TestAnnouncedReadIsSeenBeforeTheCacheCatchesUp(t *testing.T) {
	clock := newFakeClock()
	obs := &cacheObserver{listed: snapOf(up("hello", 1), ctr("hello", 2, "running", "initializing"))}
	nodes := newFakeNodes(names("hello", 1, 2)...)
	lookup := &fakeLookup{answers: []mesh.Member{up("hello", 2)}}
	c := newTestController(t, &fakeObserver{}, nodes, func(o *Options) {
		o.Observer, o.Lookup = obs, lookup
		o.Now, o.After = clock.Now, clock.After
		o.DriftInterval, o.ResyncInterval = 10*time.Second, time.Hour
	})
	runOn(t, c)
	waitPasses(t, c, 1)
	obs.mu.Lock()
	obs.listed = snapOf(up("hello", 1), up("hello", 2)) // Rancher now says healthy; the cache does not know
	obs.mu.Unlock()

	c.Announce(EventUp, "10.42.0.2")
	clock.step(t, announceFirstRead)
	waitPasses(t, c, 2)
	if !nodes.fullMesh(names("hello", 1, 2)) {
		t.Fatalf("the pass after the decided read did not join node 2")
	}
	if got := c.Status().LastPass.Kind; got != string(KindAnnounce) {
		t.Errorf("pass kind %q, want announce", got)
	}
	if n := lookup.count(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
	// The drift pass 10 s later still finds the cache behind: the read
	// holds, and a re-list follows.
	clock.step(t, 10*time.Second-announceFirstRead)
	waitPasses(t, c, 3)
	clock.step(t, 5*time.Millisecond) // the test controller's MinEventGap
	waitPasses(t, c, 4)
	if lp := c.Status().LastPass; lp.Kind != string(KindResync) || !lp.Relist {
		t.Errorf("after a stale read: pass %+v, want a re-listing resync", lp)
	}
	for _, call := range nodes.takeCalls() {
		if call.Action == ActionLeave || (call.Node == name("hello", 1) && !call.Peers.Contains(name("hello", 2))) {
			t.Errorf("node 2 was dropped while the cache was behind: %+v", call)
		}
	}
	if !nodes.fullMesh(names("hello", 1, 2)) {
		t.Errorf("mesh lost node 2")
	}
}

// An observer whose snapshots hold what its lookup read (a cache the
// reads feed) may be ahead of a read: the read is not laid over it, so a
// container the cache already saw removed is not brought back, and no
// re-list is asked for.
func TestObserverHoldingLookupsIsNotOverlaid(t *testing.T) {
	clock := newFakeClock()
	snap := snapOf(up("hello", 1), up("hello", 2))
	snap.HoldsLookups = true
	obs := &fakeObserver{snap: snap}
	nodes := newFakeNodes(names("hello", 1, 2)...)
	lookup := &fakeLookup{answers: []mesh.Member{ctr("hello", 2, "stopping", "")}}
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Lookup = lookup
		o.Now, o.After = clock.Now, clock.After
		o.DriftInterval, o.ResyncInterval = 10*time.Second, time.Hour
	})
	runOn(t, c)
	waitPasses(t, c, 1)
	obs.mu.Lock()
	obs.snap = snapOf(up("hello", 1)) // node 2 stopped and was removed: the cache saw it all
	obs.snap.HoldsLookups = true
	obs.mu.Unlock()
	c.Announce(EventStopping, "10.42.0.2") // read at once
	testwait.Eventually(t, 10*time.Second, "the read", func() bool { return lookup.count() >= 1 })
	waitPasses(t, c, 2)           // a decided read's pass does not wait for MinEventGap
	clock.step(t, 10*time.Second) // a drift pass, past freshFor
	waitPasses(t, c, 3)
	clock.step(t, 10*time.Second)                 // idle until the next drift: no re-list was asked for
	if _, relists := obs.counts(); relists != 1 { // the start pass's
		t.Errorf("%d re-lists, want only the start pass's: the read was laid over the cache", relists)
	}
	if lp := c.Status().LastPass; lp.Kind == string(KindResync) {
		t.Errorf("last pass %+v: a resync after a read the cache already held", lp)
	}
}

// announceFirstRead is the plan's first offset after "up".
const announceFirstRead = announce.DefaultUpFirst

// countingClusters records which clusters a pass reported.
type countingClusters struct {
	noopRecorder
	mu       sync.Mutex
	clusters []string
}

func (r *countingClusters) Cluster(name string, _ int, _ bool) {
	r.mu.Lock()
	r.clusters = append(r.clusters, name)
	r.mu.Unlock()
}

func (r *countingClusters) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.clusters
	r.clusters = nil
	return c
}

// An event pass recomputes only the clusters whose Rancher data changed
// (their generation); the others keep their status and their nodes are
// not called. Generation 0 means unknown: every cluster is recomputed.
func TestEventPassRecomputesOnlyChangedClusters(t *testing.T) {
	snap := func(genB uint64, bs ...mesh.Member) mesh.Snapshot {
		return mesh.Snapshot{Clusters: []mesh.Cluster{
			{Name: "a", Stack: "demo", Generation: 1, Services: []mesh.Service{{Name: "a", Containers: []mesh.Member{up("a", 1), up("a", 2)}}}},
			{Name: "b", Stack: "demo", Generation: genB, Services: []mesh.Service{{Name: "b", Containers: bs}}},
		}}
	}
	obs := &fakeObserver{}
	obs.set(snap(1, up("b", 3), up("b", 4)), nil)
	nodes := newFakeNodes(name("a", 1), name("a", 2), name("b", 3), name("b", 4), name("b", 5))
	rec := &countingClusters{}
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Clusters = []config.Cluster{testCluster("a", "a"), testCluster("b", "b")}
		o.Recorder = rec
	})
	mustPass(t, c)
	if err := eventPass(c); err != nil { // settles: the first pass planned changes
		t.Fatal(err)
	}
	rec.take()
	nodes.takeCalls()
	before := c.Status()
	reads := nodes.statusReads()

	obs.set(snap(2, up("b", 3), up("b", 4), up("b", 5)), nil)
	if err := eventPass(c); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0] != "b" {
		t.Errorf("clusters recomputed: %v, want [b]", got)
	}
	if got := nodes.statusReads() - reads; got != 1 {
		t.Errorf("%d status reads, want 1 (the new node of b)", got)
	}
	for _, call := range nodes.takeCalls() {
		if call.Node == name("a", 1) || call.Node == name("a", 2) {
			t.Errorf("cluster a was called: %+v", call)
		}
	}
	if !nodes.fullMesh(names("b", 3, 4, 5)) {
		t.Errorf("b did not converge")
	}
	after := c.Status()
	if a0, a1 := before.Clusters[0], after.Clusters[0]; len(a0.Nodes) != len(a1.Nodes) || a0.Conditions[0] != a1.Conditions[0] {
		t.Errorf("cluster a's status changed: %+v -> %+v", a0, a1)
	}

	unknown := snap(0, up("b", 3), up("b", 4), up("b", 5))
	unknown.Clusters[0].Generation = 0 // an observer that does not know generations
	obs.set(unknown, nil)
	if err := eventPass(c); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 2 {
		t.Errorf("with unknown generations recomputed %v, want both clusters", got)
	}
}

// deadlineNodes records, per cluster, how long each call had before its
// deadline.
type deadlineNodes struct {
	*fakeNodes
	mu   sync.Mutex
	left map[string][]time.Duration
}

func (d *deadlineNodes) SetPeers(ctx context.Context, ep mesh.Endpoint, rev uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	if dl, ok := ctx.Deadline(); ok {
		d.mu.Lock()
		d.left[ep.Cluster] = append(d.left[ep.Cluster], time.Until(dl))
		d.mu.Unlock()
	}
	return d.fakeNodes.SetPeers(ctx, ep, rev, peers)
}

// Each node call is bounded by its own cluster's admin.timeout (half as
// long again, for one retry: CallTimeoutFor), not by the longest of all.
func TestAdminTimeoutIsPerCluster(t *testing.T) {
	fast, slow := testCluster("fast", "fast"), testCluster("slow", "slow")
	fast.Admin.Timeout.Duration, slow.Admin.Timeout.Duration = 200*time.Millisecond, 20*time.Second
	obs := &fakeObserver{}
	obs.set(mesh.Snapshot{Clusters: []mesh.Cluster{
		{Name: "fast", Services: []mesh.Service{{Name: "fast", Containers: []mesh.Member{up("fast", 1), up("fast", 2)}}}},
		{Name: "slow", Services: []mesh.Service{{Name: "slow", Containers: []mesh.Member{up("slow", 3), up("slow", 4)}}}},
	}}, nil)
	nodes := &deadlineNodes{fakeNodes: newFakeNodes(name("fast", 1), name("fast", 2), name("slow", 3), name("slow", 4)),
		left: map[string][]time.Duration{}}
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters = []config.Cluster{fast, slow} })
	mustPass(t, c)
	for cluster, bound := range map[string]time.Duration{"fast": CallTimeoutFor(fast.Admin.Timeout.Duration),
		"slow": CallTimeoutFor(slow.Admin.Timeout.Duration)} {
		left := nodes.left[cluster]
		if len(left) != 2 {
			t.Fatalf("%s: %d pushes, want 2", cluster, len(left))
		}
		for _, l := range left {
			if l > bound || l < bound/2 {
				t.Errorf("%s: a push had %v before its deadline, want its cluster's bound %v", cluster, l, bound)
			}
		}
	}
}

// A node whose status read did not start within StatusTimeout is read by
// a pass that follows at once, not only at the next drift pass: with one
// call at a time and node 1 hanging past the timeout, node 2 gets its
// peers once node 1 answers, with drift and resync an hour away (and node
// 1's backoff over before its pass ends, so that no backoff pass is due).
func TestUnreadNodeIsReadByAFollowingPass(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	release := make(chan struct{})
	nodes.setHang(name("hello", 1), release)
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Parallelism = 1
		o.StatusTimeout = 50 * time.Millisecond
		o.BackoffBase, o.BackoffMax = time.Microsecond, time.Microsecond // node 1's backoff ends within the pass
		o.DriftInterval, o.ResyncInterval = time.Hour, time.Hour
	})
	runOn(t, c)
	waitPasses(t, c, 1)
	close(release)
	testwait.Eventually(t, 10*time.Second, "both nodes hold each other", func() bool {
		return nodes.fullMesh(names("hello", 1, 2))
	})
}
