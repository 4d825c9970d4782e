package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// connectedWithin reports whether all of keep are in one component of
// links.
func connectedWithin(links map[[2]mesh.NodeName]bool, keep mesh.PeerSet) bool {
	s := &linkSim{links: links}
	return s.together(keep)
}

// boundedController is a controller over the fakes for cluster "hello"
// with topology boundedDegree, degree k.
func boundedController(t *testing.T, obs *fakeObserver, nodes *fakeNodes, k int, mod func(*Options)) *Controller {
	t.Helper()
	return newTestController(t, obs, nodes, func(o *Options) {
		o.Clusters = []config.Cluster{boundedCluster(k)}
		if mod != nil {
			mod(o)
		}
	})
}

// checkHoldsOverlay checks that every member manages and is connected to
// exactly its overlay peers, within degree k.
func checkHoldsOverlay(t *testing.T, nodes *fakeNodes, members []mesh.NodeName, k int) {
	t.Helper()
	want := BoundedDegree(members, k)
	if err := checkOverlay(want, members, k); err != nil {
		t.Fatalf("overlay: %v", err)
	}
	for _, n := range members {
		if got := nodes.managed(n); !got.Equal(want[n]) {
			t.Errorf("%s manages %v, want %v", n, got, want[n])
		}
		if got := nodes.connected(n); !got.Equal(want[n]) {
			t.Errorf("%s is connected to %v, want %v", n, got, want[n])
		}
	}
}

// Through joins, nodes told to leave and a node that dies, every pass
// keeps the members that stay in one component after each single call
// the controller makes (the recording fake checks after every call), and
// ends with every member holding its overlay, within degree k.
func TestBoundedTopologyStaysConnectedThroughChurn(t *testing.T) {
	for _, k := range []int{2, 3, 4} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) { testBoundedChurn(t, k) })
	}
}

func testBoundedChurn(t *testing.T, k int) {
	obs := &fakeObserver{}
	nodes := newFakeNodes()
	var mu sync.Mutex
	var keep mesh.PeerSet
	var splits []string
	nodes.afterCall = func(c call, links map[[2]mesh.NodeName]bool) {
		mu.Lock()
		defer mu.Unlock()
		if !connectedWithin(links, keep) {
			splits = append(splits, fmt.Sprintf("%s %s r%d %v", c.Action, c.Node, c.Revision, c.Peers))
		}
	}
	state := map[int]mesh.Member{}
	ctl := boundedController(t, obs, nodes, k, nil)
	apply := func(step string, change func()) {
		t.Helper()
		before := map[int]bool{}
		for i, m := range state {
			before[i] = IsMember(boundedCluster(k).Membership, m)
		}
		change()
		var ms []mesh.Member
		var members []mesh.NodeName
		stay := mesh.PeerSet{}
		for i := 1; i <= 20; i++ {
			m, ok := state[i]
			if !ok {
				continue
			}
			ms = append(ms, m)
			nodes.add(name("hello", i))
			if IsMember(boundedCluster(k).Membership, m) {
				members = append(members, name("hello", i))
				if before[i] {
					stay = append(stay, name("hello", i))
				}
			}
		}
		mu.Lock()
		keep, splits = stay, nil
		mu.Unlock()
		obs.set(snapOf(ms...), nil)
		mustPass(t, ctl)
		mu.Lock()
		if len(splits) > 0 {
			t.Errorf("%s: the staying members split after %s", step, strings.Join(splits, "; then "))
		}
		mu.Unlock()
		checkHoldsOverlay(t, nodes, members, k)
	}
	apply("start with 12", func() {
		for i := 1; i <= 12; i++ {
			state[i] = up("hello", i)
		}
	})
	apply("two join", func() { state[13], state[14] = up("hello", 13), up("hello", 14) })
	apply("three turn unhealthy and are told to leave", func() {
		for _, i := range []int{2, 5, 9} {
			state[i] = ctr("hello", i, "running", "unhealthy")
		}
	})
	apply("one dies", func() {
		nodes.setDown(name("hello", 7), true)
		state[7] = ctr("hello", 7, "stopped", "healthy")
	})
	apply("the unhealthy ones recover while two more join", func() {
		for _, i := range []int{2, 5, 9} {
			state[i] = up("hello", i)
		}
		state[15], state[16] = up("hello", 15), up("hello", 16)
	})
}

// A member that runs with connect_all true gets no peer set, no other
// member links to it, the node and the cluster say why and what to set,
// and the refusal is logged once; once it runs with connect_all false it
// joins the overlay.
func TestConnectAllNodeIsRefusedABoundedTopology(t *testing.T) {
	obs := &fakeObserver{}
	five := []mesh.Member{up("hello", 1), up("hello", 2), up("hello", 3), up("hello", 4), up("hello", 5)}
	obs.set(snapOf(five...), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3, 4, 5)...)
	refused := name("hello", 3)
	nodes.setConnectAll(refused, true)
	var lines []string
	var mu sync.Mutex
	log := funcr.New(func(_, args string) { mu.Lock(); lines = append(lines, args); mu.Unlock() }, funcr.Options{})
	c := boundedController(t, obs, nodes, 2, func(o *Options) { o.Logger = log })
	for range 3 {
		mustPass(t, c)
	}
	for _, call := range nodes.takeCalls() {
		if call.Node == refused || call.Peers.Contains(refused) {
			t.Errorf("a call involves the refused node: %+v", call)
		}
	}
	rest := []mesh.NodeName{name("hello", 1), name("hello", 2), name("hello", 4), name("hello", 5)}
	checkHoldsOverlay(t, nodes, rest, 2)
	if got := nodes.connected(refused); len(got) != 0 {
		t.Errorf("the refused node is connected to %v", got)
	}
	cs, _ := c.Status().Cluster("hello")
	if cs.Topology != config.TopologyBoundedDegree || cs.Degree != 2 {
		t.Errorf("status says topology %q degree %d, want boundedDegree 2", cs.Topology, cs.Degree)
	}
	cc, _ := FindCondition(cs.Conditions, ConditionConverged)
	if cc.Status != ConditionFalse || cc.Reason != ReasonConnectAllEnabled || !strings.Contains(cc.Message, string(refused)) ||
		!strings.Contains(cc.Message, "-kernel connect_all false") {
		t.Errorf("cluster Converged = %+v, want False/%s naming the node and the flag to set", cc, ReasonConnectAllEnabled)
	}
	i := slices.IndexFunc(cs.Nodes, func(n NodeStatus) bool { return n.Node == refused })
	n := cs.Nodes[i]
	nc, _ := FindCondition(n.Conditions, ConditionReady)
	if !n.Refused || len(n.Desired) != 0 || nc.Status != ConditionFalse || nc.Reason != ReasonConnectAllEnabled ||
		!strings.Contains(nc.Message, "-kernel connect_all false") {
		t.Errorf("node status %+v, Ready %+v: want refused, no desired peers, and the fix", n, nc)
	}
	mu.Lock()
	if got := countContaining(lines, "refusing a bounded topology"); got != 1 {
		t.Errorf("the refusal is logged %d times over 3 passes, want once:\n%s", got, strings.Join(lines, "\n"))
	}
	mu.Unlock()

	// Restarted with connect_all false: a new container run, then it joins.
	nodes.restart(refused)
	restarted := up("hello", 3)
	restarted.StartCount = 1
	obs.set(snapOf(up("hello", 1), up("hello", 2), restarted, up("hello", 4), up("hello", 5)), nil)
	mustPass(t, c)
	checkHoldsOverlay(t, nodes, names("hello", 1, 2, 3, 4, 5), 2)
	if cc := condOf(t, c, ConditionConverged); cc.Status != ConditionTrue {
		t.Errorf("after the restart Converged = %+v", cc)
	}
}
