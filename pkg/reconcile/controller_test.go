package reconcile

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

func mustPass(t *testing.T, c *Controller) {
	t.Helper()
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

func condOf(t *testing.T, c *Controller, typ string) Condition {
	t.Helper()
	cs, ok := c.Status().Cluster("hello")
	if !ok {
		t.Fatalf("no status for cluster hello")
	}
	cd, _ := FindCondition(cs.Conditions, typ)
	return cd
}

func TestNewRequiresObserverNodesClusters(t *testing.T) {
	_, err := New(Options{})
	for _, w := range []string{"Observer", "Nodes", "cluster"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("New(Options{}) = %v, want it to name %s", err, w)
		}
	}
}

// Safety rule 1: a failed or partial observation aborts the pass; nothing
// is pushed, the last applied state stays, and Stale is reported.
func TestNeverActOnPartialKnowledge(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	c := newTestController(t, obs, nodes, nil)
	mustPass(t, c)
	nodes.takeCalls()
	if !c.Ready() {
		t.Fatalf("not ready after a good pass")
	}

	for _, bad := range []struct {
		name string
		snap mesh.Snapshot
		err  error
	}{
		{"API error with zero members", mesh.Snapshot{Clusters: []mesh.Cluster{{Name: "hello"}}}, errRancherDown()},
		{"cluster missing from the snapshot", mesh.Snapshot{}, nil},
	} {
		obs.set(bad.snap, bad.err)
		if err := c.RunOnce(context.Background()); err == nil {
			t.Errorf("%s: RunOnce succeeded", bad.name)
		}
		if calls := nodes.takeCalls(); len(calls) != 0 {
			t.Errorf("%s: pushed %+v", bad.name, calls)
		}
		if s := condOf(t, c, ConditionStale); s.Status != ConditionTrue {
			t.Errorf("%s: Stale = %+v", bad.name, s)
		}
		if c.Ready() {
			t.Errorf("%s: still ready", bad.name)
		}
		if !nodes.fullMesh(names("hello", 1, 2, 3)) {
			t.Errorf("%s: mesh changed", bad.name)
		}
		cs, _ := c.Status().Cluster("hello")
		if len(cs.Nodes) != 3 {
			t.Errorf("%s: status lost the last view: %d nodes", bad.name, len(cs.Nodes))
		}
	}

	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	mustPass(t, c)
	if s := condOf(t, c, ConditionStale); s.Status != ConditionFalse || !c.Ready() {
		t.Errorf("after recovery: Stale = %+v, ready %v", s, c.Ready())
	}
}

// Safety rule 3 (and external-dns's TestIdempotency): a pass right after a
// pass pushes nothing, and a repeated push changes nothing.
func TestPushesAreIdempotent(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	c := newTestController(t, obs, nodes, nil)
	mustPass(t, c)
	first := nodes.takeCalls()
	if len(first) != 3 {
		t.Fatalf("first pass: %+v", first)
	}
	for _, call := range first {
		if want := names("hello", 1, 2, 3).Minus(mesh.PeerSet{call.Node}); !call.Peers.Equal(want) {
			t.Errorf("%s got %v, want the full set %v", call.Node, call.Peers, want)
		}
	}
	mustPass(t, c)
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Errorf("second pass pushed %+v", calls)
	}
	// The same push again (a retry) is a no-op.
	ep := mesh.Endpoint{Cluster: "hello", Node: first[0].Node}
	before := nodes.connected(first[0].Node)
	if _, err := nodes.SetPeers(context.Background(), ep, first[0].Revision, first[0].Peers); err != nil {
		t.Fatalf("retried push: %v", err)
	}
	if !nodes.connected(first[0].Node).Equal(before) {
		t.Errorf("retried push changed connections")
	}
	if s := condOf(t, c, ConditionConverged); s.Status != ConditionTrue {
		t.Errorf("Converged = %+v", s)
	}
}

// Safety rule 4: one slow or dead node never delays the others.
func TestSlowNodeNeverDelaysOthers(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3), up("hello", 4)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3, 4)...)
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Parallelism = 2
		o.StatusTimeout = 200 * time.Millisecond
		o.BackoffBase, o.BackoffMax = time.Minute, time.Minute
	})
	mustPass(t, c)
	nodes.takeCalls()

	// Node 4 hangs on every call; node 5 joins.
	release := make(chan struct{})
	defer close(release)
	nodes.setHang(name("hello", 4), release)
	nodes.add(name("hello", 5))
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3), up("hello", 4), up("hello", 5)), nil)
	done := make(chan error, 1)
	go func() { done <- c.RunOnce(context.Background()) }()
	testwait.Eventually(t, 10*time.Second, "the others get node 5 while node 4 hangs", func() bool {
		for _, n := range names("hello", 1, 2, 3, 5) {
			if !nodes.managed(n).Contains(name("hello", 5)) && n != name("hello", 5) {
				return false
			}
		}
		return nodes.managed(name("hello", 5)).Equal(names("hello", 1, 2, 3, 4))
	})
	if err := <-done; err == nil || !strings.Contains(err.Error(), "hello@10.42.0.4") {
		t.Errorf("RunOnce = %v, want an error naming node 4", err)
	}
	// The hanging node backs off: the next pass does not call it at all.
	nodes.mu.Lock()
	before := nodes.statuses
	nodes.mu.Unlock()
	mustPass(t, c)
	nodes.mu.Lock()
	if got := nodes.statuses - before; got != 4 {
		t.Errorf("second pass read %d statuses, want 4 (node 4 skipped)", got)
	}
	nodes.mu.Unlock()
	cs, _ := c.Status().Cluster("hello")
	for _, n := range cs.Nodes {
		if n.Node == name("hello", 4) && n.BackoffUntil.IsZero() {
			t.Errorf("node 4 not backing off: %+v", n)
		}
	}
}

// Safety rule 5: a controller that restarts finds the nodes converged and
// changes nothing; nodes kept their connections meanwhile.
func TestControllerRestartDoesNotFlap(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	mustPass(t, newTestController(t, obs, nodes, nil))
	nodes.takeCalls()

	// A new controller, with no memory, maybe hours later.
	restarted := newTestController(t, obs, nodes, nil)
	mustPass(t, restarted)
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Errorf("restarted controller pushed %+v", calls)
	}
	// And drift that happened meanwhile (one node restarted by hand) is
	// repaired without touching the others.
	nodes.restart(name("hello", 2))
	mustPass(t, restarted)
	calls := nodes.takeCalls()
	for _, call := range calls {
		if call.Node != name("hello", 2) {
			t.Errorf("repair touched %s: %+v", call.Node, call)
		}
	}
	if !nodes.fullMesh(names("hello", 1, 2, 3)) {
		t.Errorf("not repaired")
	}
}

// Two controllers at once with the same view do not fight: revisions only
// grow and the second finds nothing to do.
func TestTwoControllersDoNotFight(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	a := newTestController(t, obs, nodes, nil)
	b := newTestController(t, obs, nodes, nil)
	mustPass(t, a)
	mustPass(t, b)
	if calls := nodes.takeCalls(); len(calls) != 2 {
		t.Errorf("calls = %+v, want one push per node", calls)
	}
}

// A 409 is not retried blindly: the status is re-read by the next pass.
func TestStaleRevisionIsReReadNextPass(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	// A clock far in the past: another controller's revisions are higher.
	past := time.Unix(1, 0)
	c := newTestController(t, obs, nodes, func(o *Options) { o.Now = func() time.Time { return past } })
	nodes.mu.Lock()
	nodes.nodes[name("hello", 1)].revision = 1 << 50
	nodes.nodes[name("hello", 1)].managed = mesh.PeerSet{"other@10.0.0.1"}
	nodes.mu.Unlock()
	if err := eventPass(c); err != nil {
		t.Fatalf("a stale revision is not a pass error: %v", err)
	}
	// Make the cached view stale: someone else pushes revision 2^50+5.
	nodes.mu.Lock()
	nodes.nodes[name("hello", 1)].revision = 1<<50 + 5
	nodes.nodes[name("hello", 1)].managed = mesh.PeerSet{"other@10.0.0.2"}
	nodes.mu.Unlock()
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes.add(name("hello", 3))
	_ = eventPass(c) // cached revision 2^50+1: refused
	var stale int
	for _, call := range nodes.takeCalls() {
		if call.Node == name("hello", 1) && call.Revision == 1<<50+1 {
			stale++
		}
	}
	cs, _ := c.Status().Cluster("hello")
	if n := cs.Nodes[0]; n.LastPush == nil || n.LastPush.Result != pushStale {
		t.Fatalf("last push of node 1 = %+v, want stale", n.LastPush)
	}
	_ = eventPass(c)
	if got := nodes.managed(name("hello", 1)); !got.Equal(names("hello", 2, 3)) {
		t.Errorf("after re-read: managed = %v", got)
	}
	if stale != 1 {
		t.Errorf("stale pushes = %d, want 1", stale)
	}
}

// Drift: a connection dropped (net_ticktime, partition) is repaired by the
// drift pass with a new revision.
func TestDriftPassRepairsLostConnections(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	c := newTestController(t, obs, nodes, nil)
	mustPass(t, c)
	nodes.takeCalls()
	nodes.cut(name("hello", 1), name("hello", 2))
	if err := eventPass(c); err != nil {
		t.Fatal(err)
	}
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Errorf("a quick pass judged cached connections: %+v", calls)
	}
	if s := condOf(t, c, ConditionConverged); s.Status != ConditionTrue {
		t.Logf("converged before drift check: %+v", s)
	}
	mustPass(t, c)
	calls := nodes.takeCalls()
	if len(calls) != 2 || !nodes.fullMesh(names("hello", 1, 2, 3)) {
		t.Errorf("drift pass: %+v", calls)
	}
}

// A node whose admin endpoint is down: the others converge; it is retried
// with backoff and converges once back.
func TestDeadNodeBacksOffAndConvergesWhenBack(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	nodes.setDown(name("hello", 3), true)
	c := newTestController(t, obs, nodes, func(o *Options) { o.DriftInterval = time.Hour; o.ResyncInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	testwait.Eventually(t, 10*time.Second, "the others converge", func() bool {
		return nodes.managed(name("hello", 1)).Equal(names("hello", 2, 3)) && nodes.managed(name("hello", 2)).Equal(names("hello", 1, 3))
	})
	testwait.Eventually(t, 10*time.Second, "degraded", func() bool { return condOf(t, c, ConditionDegraded).Status == ConditionTrue })
	nodes.setDown(name("hello", 3), false)
	testwait.Eventually(t, 10*time.Second, "node 3 converges once back", func() bool { return nodes.fullMesh(names("hello", 1, 2, 3)) })
	testwait.Eventually(t, 10*time.Second, "ready", func() bool { return condOf(t, c, ConditionReady).Status == ConditionTrue })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestDryRunPushesNothing(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	var lines []string
	var mu sync.Mutex
	log := funcr.New(func(prefix, args string) { mu.Lock(); lines = append(lines, args); mu.Unlock() }, funcr.Options{})
	c := newTestController(t, obs, nodes, func(o *Options) { o.DryRun, o.Logger = true, log })
	mustPass(t, c)
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Errorf("dry run pushed %+v", calls)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := countContaining(lines, "dry run: would change node"); n != 2 {
		t.Errorf("dry run logged %d planned changes, want 2:\n%s", n, strings.Join(lines, "\n"))
	}
}

func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// One log line per change, none for a pass that changes nothing.
func TestLogsOneLinePerChange(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	var lines []string
	var mu sync.Mutex
	log := funcr.New(func(prefix, args string) { mu.Lock(); lines = append(lines, args); mu.Unlock() }, funcr.Options{Verbosity: 0})
	c := newTestController(t, obs, nodes, func(o *Options) { o.Logger = log })
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		l := lines
		lines = nil
		return l
	}
	mustPass(t, c)
	take()
	for range 3 {
		mustPass(t, c)
	}
	if l := take(); len(l) != 0 {
		t.Errorf("passes without change logged:\n%s", strings.Join(l, "\n"))
	}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	mustPass(t, c)
	l := take()
	if countContaining(l, `"pushed peers"`) != 3 || countContaining(l, `"member added"`) != 1 || len(l) != 4 {
		t.Errorf("join logged:\n%s", strings.Join(l, "\n"))
	}
}

func TestStatusIsADeepCopy(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	c := newTestController(t, obs, newFakeNodes(names("hello", 1, 2)...), nil)
	mustPass(t, c)
	s := c.Status()
	s.Clusters[0].Nodes[0].Desired[0] = "mutated@1.2.3.4"
	s.Clusters[0].Nodes[0].Observed.Managed[0] = "mutated@1.2.3.4"
	s.Clusters[0].Conditions[0].Status = "mutated"
	again := c.Status()
	if again.Clusters[0].Nodes[0].Desired[0] == "mutated@1.2.3.4" ||
		again.Clusters[0].Nodes[0].Observed.Managed[0] == "mutated@1.2.3.4" ||
		again.Clusters[0].Conditions[0].Status == "mutated" {
		t.Errorf("Status shares memory with the controller")
	}
}

// Conditions keep their transition time while unchanged.
func TestConditionTransitionTimes(t *testing.T) {
	now := time.Unix(5000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1)), nil)
	c := newTestController(t, obs, newFakeNodes(name("hello", 1)), func(o *Options) { o.Now = clock })
	mustPass(t, c)
	first := condOf(t, c, ConditionStale)
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	mustPass(t, c)
	if got := condOf(t, c, ConditionStale); !got.LastTransitionTime.Equal(first.LastTransitionTime) {
		t.Errorf("unchanged condition moved: %v -> %v", first.LastTransitionTime, got.LastTransitionTime)
	}
	obs.set(mesh.Snapshot{}, errors.New("boom"))
	_ = c.RunOnce(context.Background())
	if got := condOf(t, c, ConditionStale); !got.LastTransitionTime.Equal(now) || got.Reason != "ObservationFailed" {
		t.Errorf("Stale after failure = %+v", got)
	}
}

// fakeLookup answers ContainersByIP from a script of answers (the last
// one repeats) and records every read.
type fakeLookup struct {
	mu      sync.Mutex
	answers []mesh.Member
	reads   [][]string
}

func (f *fakeLookup) ContainersByIP(_ context.Context, ips []string) (map[string]mesh.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, ips)
	m := f.answers[min(len(f.reads), len(f.answers))-1]
	out := map[string]mesh.Member{}
	if slices.Contains(ips, m.IP) {
		out[m.IP] = m
	}
	return out, nil
}

// count returns how many reads were made.
func (f *fakeLookup) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reads)
}

// runUntilFirstPass runs c until the test ends and waits for its first pass.
func runUntilFirstPass(t *testing.T, c *Controller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = c.Run(ctx) }()
	testwait.Eventually(t, 10*time.Second, "first pass", func() bool { return c.Status().Passes >= 1 })
}

// The fast path: an "up" announcement makes the controller read the
// container on the poll plan, and give up while Rancher says it is not a
// member; the announcement alone never adds anyone. Once Rancher calls it
// a member, the next announcement's read decides, and a pass adds it.
func TestAnnounceReadsRancherThenRunsAPass(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), ctr("hello", 2, "running", "initializing")), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	plan := len(announce.DefaultPlan().Up)
	var answers []mesh.Member
	for range plan {
		answers = append(answers, ctr("hello", 2, "running", "initializing"))
	}
	lookup := &fakeLookup{answers: append(answers, up("hello", 2))}
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Lookup = lookup
		o.DriftInterval, o.ResyncInterval = time.Hour, time.Hour
	})
	runUntilFirstPass(t, c)

	// Rancher still says initializing: the plan's reads, then nothing.
	c.Announce(EventUp, "10.42.0.2")
	testwait.Eventually(t, 10*time.Second, "reads", func() bool { return lookup.count() >= plan })
	testwait.Eventually(t, 10*time.Second, "the follow-up gives up", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.sched.reads.Pending() == 0
	})
	if got := nodes.managed(name("hello", 1)); len(got) != 0 {
		t.Errorf("announcement alone added a peer: %v", got)
	}
	if n := lookup.count(); n != plan {
		t.Errorf("reads = %d, want the plan's %d", n, plan)
	}
	// Rancher reports it healthy (the event-fed cache does not know yet):
	// the next announcement's read decides, and the pass adds it.
	c.Announce(EventUp, "10.42.0.2")
	testwait.Eventually(t, 10*time.Second, "joined after Rancher said healthy", func() bool { return nodes.fullMesh(names("hello", 1, 2)) })
}

// pkg/reconcile never imports go-rancher, net/http or an adapter package.
func TestImportsStayClean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", strings.HasPrefix(dep, "github.com/rancher/"),
			strings.HasPrefix(dep, "github.com/drover-mesh/drover/pkg/rancherapi"),
			strings.HasPrefix(dep, "github.com/drover-mesh/drover/pkg/nodeapi"):
			t.Errorf("pkg/reconcile depends on %s", dep)
		}
	}
}

// The status of a fresh controller is empty but usable.
func TestStatusBeforeFirstPass(t *testing.T) {
	c := newTestController(t, &fakeObserver{}, newFakeNodes(), func(o *Options) { o.Logger = logr.Discard() })
	if c.Ready() || len(c.Status().Clusters) != 0 {
		t.Errorf("fresh controller: ready %v, status %+v", c.Ready(), c.Status())
	}
	_ = config.DefaultParallelism
}

// hangingLeaves wraps fakeNodes: Leave blocks until release is closed or
// the call's context ends, and counts its calls.
type hangingLeaves struct {
	*fakeNodes
	release chan struct{}
	mu      sync.Mutex
	leaves  int
}

func (h *hangingLeaves) Leave(ctx context.Context, ep mesh.Endpoint, rev uint64) (mesh.NodeStatus, error) {
	h.mu.Lock()
	h.leaves++
	h.mu.Unlock()
	select {
	case <-h.release:
		return h.fakeNodes.Leave(ctx, ep, rev)
	case <-ctx.Done():
		return mesh.NodeStatus{}, ctx.Err()
	}
}

// A departing node that does not answer its leave (a host cut off) must not
// hold up its peers' new sets for a whole call timeout (safety rule 4).
func TestUnreachableLeaverDoesNotHoldUpPeers(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := &hangingLeaves{fakeNodes: newFakeNodes(names("hello", 1, 2, 3)...), release: make(chan struct{})}
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.CallTimeout = time.Minute // the leave hangs far longer than the test
		o.LeaveWait = 50 * time.Millisecond
	})
	mustPass(t, c)

	// Node 3 turns unhealthy: it departs, and its leave hangs.
	obs.set(snapOf(up("hello", 1), up("hello", 2), ctr("hello", 3, "running", "unhealthy")), nil)
	done := make(chan error, 1)
	go func() { done <- c.RunOnce(context.Background()) }()
	testwait.Eventually(t, 10*time.Second, "the peers drop node 3 while its leave still hangs", func() bool {
		return nodes.managed(name("hello", 1)).Equal(names("hello", 2)) &&
			nodes.managed(name("hello", 2)).Equal(names("hello", 1))
	})
	select {
	case err := <-done:
		t.Fatalf("the pass ended (%v) before the hanging leave was released", err)
	default:
	}
	nodes.mu.Lock()
	leaves := nodes.leaves
	nodes.mu.Unlock()
	if leaves != 1 {
		t.Errorf("leave calls = %d, want 1 (node 3 is told to leave first)", leaves)
	}
	close(nodes.release)
	if err := <-done; err != nil {
		t.Errorf("RunOnce = %v", err)
	}
	if !nodes.managed(name("hello", 3)).Equal(nil) {
		t.Errorf("node 3 still manages %v after its leave", nodes.managed(name("hello", 3)))
	}
}

// A joiner gets its peer set before its peers are told about it, so every
// new link is dialled from one side only.
func TestJoinerIsPushedBeforeItsPeers(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	c := newTestController(t, obs, nodes, nil)
	mustPass(t, c)
	nodes.takeCalls()

	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	mustPass(t, c)
	calls := nodes.takeCalls()
	if len(calls) != 3 {
		t.Fatalf("calls = %+v, want 3 pushes", calls)
	}
	if calls[0].Node != name("hello", 3) || calls[0].Action != ActionSetPeers {
		t.Errorf("first call = %+v, want the joiner's peer set", calls[0])
	}
}

// A re-announcement starts the plan again: the controller reads the
// container right when the agent says something changed (it re-announces
// after each health probe it answers), not at the next slow read.
func TestReAnnouncementReadsAtOnce(t *testing.T) {
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), ctr("hello", 2, "running", "initializing")), nil)
	nodes := newFakeNodes(names("hello", 1, 2)...)
	lookup := &fakeLookup{answers: []mesh.Member{ctr("hello", 2, "running", "initializing"), up("hello", 2)}}
	c := newTestController(t, obs, nodes, func(o *Options) {
		o.Lookup = lookup
		o.Announce.Up = []time.Duration{time.Millisecond, time.Hour} // the second read never comes in this test
		o.DriftInterval, o.ResyncInterval = time.Hour, time.Hour
	})
	runUntilFirstPass(t, c)

	c.Announce(EventUp, "10.42.0.2")
	testwait.Eventually(t, 10*time.Second, "first read", func() bool { return lookup.count() == 1 })
	obs.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	c.Announce(EventUp, "10.42.0.2")
	testwait.Eventually(t, 10*time.Second, "joined after the re-announcement", func() bool { return nodes.fullMesh(names("hello", 1, 2)) })
}
