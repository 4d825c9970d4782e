package reconcile

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// desiredOf builds the desired mesh of cluster "hello" from containers.
func desiredOf(t *testing.T, ms ...mesh.Member) Desired {
	t.Helper()
	d, err := Desire([]config.Cluster{testCluster("hello", "hello")}, snapOf(ms...))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// brief is a change in one line, for comparisons.
func brief(c Change) string {
	return fmt.Sprintf("%s %s r%d %v (%s)", c.Action, c.Endpoint.Node, c.Revision, c.Peers, c.Reason)
}

func briefs(cs Changes) []string {
	var out []string
	for _, c := range cs.Leave {
		out = append(out, brief(c))
	}
	for _, c := range cs.SetPeers {
		out = append(out, brief(c))
	}
	return out
}

func st(n mesh.NodeName, rev uint64, managed, connected mesh.PeerSet) mesh.NodeStatus {
	return mesh.NodeStatus{Node: n, Revision: rev, Managed: managed, Connected: connected}
}

func TestCalculate(t *testing.T) {
	a, b, c, d := name("hello", 1), name("hello", 2), name("hello", 3), name("hello", 4)
	three := []mesh.Member{up("hello", 1), up("hello", 2), up("hello", 3)}
	tests := []struct {
		name     string
		members  []mesh.Member
		observed []mesh.NodeStatus
		opts     PlanOptions
		want     []string
	}{{
		name:    "converged: nothing to do",
		members: three,
		observed: []mesh.NodeStatus{st(a, 5, mesh.PeerSet{b, c}, mesh.PeerSet{b, c}),
			st(b, 5, mesh.PeerSet{a, c}, mesh.PeerSet{a, c}), st(c, 5, mesh.PeerSet{a, b}, mesh.PeerSet{a, b})},
		opts: PlanOptions{CheckConnections: true},
	}, {
		name:     "new node: join with the full set",
		members:  three,
		observed: []mesh.NodeStatus{st(a, 0, nil, nil)},
		want:     []string{"set-peers hello@10.42.0.1 r1 [hello@10.42.0.2 hello@10.42.0.3] (join)"},
	}, {
		name:     "a peer added: the full set, revision above the observed one",
		members:  three,
		observed: []mesh.NodeStatus{st(a, 7, mesh.PeerSet{b}, mesh.PeerSet{b})},
		want:     []string{"set-peers hello@10.42.0.1 r8 [hello@10.42.0.2 hello@10.42.0.3] (peers-changed)"},
	}, {
		name:     "node leaves: peers drop it",
		members:  []mesh.Member{up("hello", 1), up("hello", 2)},
		observed: []mesh.NodeStatus{st(a, 7, mesh.PeerSet{b, c}, mesh.PeerSet{b, c})},
		want:     []string{"set-peers hello@10.42.0.1 r8 [hello@10.42.0.2] (peers-changed)"},
	}, {
		name:     "drift check: a lost connection is pushed again with a new revision",
		members:  three,
		observed: []mesh.NodeStatus{st(a, 7, mesh.PeerSet{b, c}, mesh.PeerSet{b})},
		opts:     PlanOptions{CheckConnections: true, MinRevision: 100},
		want:     []string{"set-peers hello@10.42.0.1 r100 [hello@10.42.0.2 hello@10.42.0.3] (missing-connections)"},
	}, {
		name:     "without a drift check, cached connections are not judged",
		members:  three,
		observed: []mesh.NodeStatus{st(a, 7, mesh.PeerSet{b, c}, mesh.PeerSet{b})},
	}, {
		name:     "a node that left and is a member again rejoins",
		members:  three,
		observed: []mesh.NodeStatus{{Node: a, Revision: 9, Leaving: true}},
		want:     []string{"set-peers hello@10.42.0.1 r10 [hello@10.42.0.2 hello@10.42.0.3] (rejoin)"},
	}, {
		name:    "departing node holding peers leaves first; its peers drop it in the same pass",
		members: []mesh.Member{up("hello", 1), up("hello", 2), ctr("hello", 4, "stopping", "healthy")},
		observed: []mesh.NodeStatus{st(a, 3, mesh.PeerSet{b, d}, mesh.PeerSet{b, d}),
			st(b, 3, mesh.PeerSet{a, d}, mesh.PeerSet{a, d}), st(d, 3, mesh.PeerSet{a, b}, mesh.PeerSet{a, b})},
		want: []string{"leave hello@10.42.0.4 r4 [] (departing)",
			"set-peers hello@10.42.0.1 r4 [hello@10.42.0.2] (peers-changed)",
			"set-peers hello@10.42.0.2 r4 [hello@10.42.0.1] (peers-changed)"},
	}, {
		name:     "departing node that already left: nothing",
		members:  []mesh.Member{up("hello", 1), ctr("hello", 4, "stopping", "healthy")},
		observed: []mesh.NodeStatus{st(a, 3, nil, nil), {Node: d, Revision: 4, Leaving: true}},
	}, {
		name:    "unread nodes get nothing",
		members: three,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := map[mesh.NodeName]mesh.NodeStatus{}
			for _, s := range tt.observed {
				obs[s.Node] = s
			}
			got := briefs(Calculate(desiredOf(t, tt.members...), obs, tt.opts))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Calculate:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCalculateIsDeterministic(t *testing.T) {
	d := desiredOf(t, up("hello", 3), up("hello", 1), up("hello", 2))
	obs := map[mesh.NodeName]mesh.NodeStatus{}
	for _, n := range names("hello", 1, 2, 3) {
		obs[n] = st(n, 0, nil, nil)
	}
	first := briefs(Calculate(d, obs, PlanOptions{}))
	for range 20 {
		if got := briefs(Calculate(d, obs, PlanOptions{})); !reflect.DeepEqual(got, first) {
			t.Fatalf("Calculate changed between calls: %q then %q", first, got)
		}
	}
}

func TestNextRevision(t *testing.T) {
	tests := []struct{ observed, floor, want uint64 }{
		{0, 0, 1}, {5, 0, 6}, {5, 100, 100}, {100, 100, 101}, {200, 100, 201},
	}
	for _, tt := range tests {
		if got := NextRevision(tt.observed, tt.floor); got != tt.want {
			t.Errorf("NextRevision(%d, %d) = %d, want %d", tt.observed, tt.floor, got, tt.want)
		}
	}
}

func TestAddOnlyPolicyNeverRemoves(t *testing.T) {
	a, b, c, d := name("hello", 1), name("hello", 2), name("hello", 3), name("hello", 4)
	desired := desiredOf(t, up("hello", 1), up("hello", 2), up("hello", 3), ctr("hello", 4, "stopping", ""))
	obs := map[mesh.NodeName]mesh.NodeStatus{
		a: st(a, 1, mesh.PeerSet{b, d}, mesh.PeerSet{b, d}), // gains c, would lose d
		b: st(b, 1, mesh.PeerSet{a, c, d}, mesh.PeerSet{a, c, d}),
		d: st(d, 1, mesh.PeerSet{a, b}, mesh.PeerSet{a, b}),
	}
	got := briefs(AddOnlyPolicy{}.Apply(Calculate(desired, obs, PlanOptions{})))
	want := []string{"set-peers hello@10.42.0.1 r2 [hello@10.42.0.2 hello@10.42.0.3 hello@10.42.0.4] (peers-changed)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("add-only:\n got %q\nwant %q", got, want)
	}

	// Through the controller: scale 3 -> 1 under add-only removes nobody.
	o := &fakeObserver{}
	o.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3)...)
	ctl := newTestController(t, o, nodes, func(opts *Options) { opts.Clusters[0].Policy = config.PolicyAddOnly })
	mustPass(t, ctl)
	o.set(snapOf(up("hello", 1)), nil)
	for range 3 {
		mustPass(t, ctl)
	}
	if !nodes.fullMesh(names("hello", 1, 2, 3)) {
		t.Errorf("add-only removed a peer: 1=%v", nodes.connected(a))
	}
	for _, call := range nodes.takeCalls()[3:] {
		t.Errorf("unexpected call after scale down: %+v", call)
	}
}

func TestSuddenDropHeldForOnePass(t *testing.T) {
	o := &fakeObserver{}
	five := []mesh.Member{up("hello", 1), up("hello", 2), up("hello", 3), up("hello", 4), up("hello", 5)}
	o.set(snapOf(five...), nil)
	nodes := newFakeNodes(names("hello", 1, 2, 3, 4, 5)...)
	ctl := newTestController(t, o, nodes, nil) // maxDropPercent 50
	mustPass(t, ctl)
	nodes.takeCalls()

	// 3 of 5 gone at once (60% > 50%): held, nothing removed.
	o.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	mustPass(t, ctl)
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Fatalf("held pass changed nodes: %+v", calls)
	}
	cs, _ := ctl.Status().Cluster("hello")
	if c, _ := FindCondition(cs.Conditions, ConditionConverged); c.Reason != "DropHeld" {
		t.Errorf("Converged = %+v, want reason DropHeld", c)
	}

	// A bad observation that does not survive: nothing ever removed.
	o.set(snapOf(five...), nil)
	mustPass(t, ctl)
	if calls := nodes.takeCalls(); len(calls) != 0 || !nodes.fullMesh(names("hello", 1, 2, 3, 4, 5)) {
		t.Fatalf("recovered observation changed nodes: %+v", calls)
	}

	// A real drop: held once, applied by the confirming pass.
	o.set(snapOf(up("hello", 1), up("hello", 2)), nil)
	mustPass(t, ctl)
	if calls := nodes.takeCalls(); len(calls) != 0 {
		t.Fatalf("held pass changed nodes: %+v", calls)
	}
	mustPass(t, ctl)
	if !nodes.managed(name("hello", 1)).Equal(names("hello", 2)) || !nodes.managed(name("hello", 2)).Equal(names("hello", 1)) {
		t.Errorf("confirming pass did not remove: 1=%v 2=%v", nodes.managed(name("hello", 1)), nodes.managed(name("hello", 2)))
	}

	// A drop within the threshold is applied at once.
	o.set(snapOf(up("hello", 1)), nil)
	mustPass(t, ctl)
	if !nodes.managed(name("hello", 1)).Equal(nil) {
		t.Errorf("50%% drop not applied at once: 1=%v", nodes.managed(name("hello", 1)))
	}
}

func TestGuardClusterConfirmsOnlyHeldRemovals(t *testing.T) {
	prev := desiredOf(t, up("hello", 1), up("hello", 2), up("hello", 3), up("hello", 4)).Clusters[0]
	cur := desiredOf(t, up("hello", 1)).Clusters[0]
	g, held := guardCluster(prev.Members, nil, cur)
	if !held.Equal(names("hello", 2, 3, 4)) || len(g.Members) != 4 {
		t.Fatalf("held = %v, members = %d", held, len(g.Members))
	}
	if p := g.Members[0].Peers; !p.Equal(names("hello", 2, 3, 4)) {
		t.Errorf("held nodes left the peer set early: %v", p)
	}
	g2, held2 := guardCluster(g.Members, held, cur)
	if len(held2) != 0 || len(g2.Members) != 1 {
		t.Errorf("confirmation: held %v, members %d", held2, len(g2.Members))
	}
}

// ExampleCalculate: node 3 stops; it leaves first, and both others drop it
// in the same pass.
func ExampleCalculate() {
	hello := config.Cluster{Name: "hello", Stack: "demo", Services: []string{"hello"}}
	hello.Default()
	snap := mesh.Snapshot{Clusters: []mesh.Cluster{{Name: "hello", Stack: "demo", Services: []mesh.Service{{
		Name: "hello", Containers: []mesh.Member{
			{ContainerID: "1i1", Service: "hello", IP: "10.42.0.1", State: "running", HealthState: "healthy"},
			{ContainerID: "1i2", Service: "hello", IP: "10.42.0.2", State: "running", HealthState: "healthy"},
			{ContainerID: "1i3", Service: "hello", IP: "10.42.0.3", State: "stopping", HealthState: "healthy"},
		}}}}}}
	desired, _ := Desire([]config.Cluster{hello}, snap)
	full := func(n string, peers ...mesh.NodeName) mesh.NodeStatus {
		return mesh.NodeStatus{Node: mesh.NodeName(n), Revision: 41, Managed: peers, Connected: peers}
	}
	observed := map[mesh.NodeName]mesh.NodeStatus{
		"hello@10.42.0.1": full("hello@10.42.0.1", "hello@10.42.0.2", "hello@10.42.0.3"),
		"hello@10.42.0.2": full("hello@10.42.0.2", "hello@10.42.0.1", "hello@10.42.0.3"),
		"hello@10.42.0.3": full("hello@10.42.0.3", "hello@10.42.0.1", "hello@10.42.0.2"),
	}
	changes := Calculate(desired, observed, PlanOptions{})
	for _, c := range append(changes.Leave, changes.SetPeers...) {
		fmt.Println(c.Action, c.Endpoint.Node, c.Revision, c.Peers, "removed:", c.Removed)
	}
	// Output:
	// leave hello@10.42.0.3 42 [] removed: [hello@10.42.0.1 hello@10.42.0.2]
	// set-peers hello@10.42.0.1 42 [hello@10.42.0.2] removed: [hello@10.42.0.3]
	// set-peers hello@10.42.0.2 42 [hello@10.42.0.1] removed: [hello@10.42.0.3]
}
