package reconcile

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// fakeSource is a settable ClusterSource.
type fakeSource struct {
	mu    sync.Mutex
	set   ClusterSet
	calls int
	// after, when set, is what the source answers from call switchAt on
	// (what a snapshot's labels define).
	after    *ClusterSet
	switchAt int
}

func (f *fakeSource) Clusters() ClusterSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.after != nil && f.calls >= f.switchAt {
		f.set, f.after = *f.after, nil
	}
	return f.set
}

func (f *fakeSource) use(rev uint64, conds []Condition, clusters ...config.Cluster) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set = setOf(rev, conds, clusters...)
}

func setOf(rev uint64, conds []Condition, clusters ...config.Cluster) ClusterSet {
	set := ClusterSet{Revision: rev, Conditions: conds}
	for _, c := range clusters {
		mc := ManagedCluster{Cluster: c, Source: SourceFile}
		for _, k := range conds {
			if k.Type == ConditionConfigInvalid {
				mc.Conditions = append(mc.Conditions, k)
			}
		}
		set.Clusters = append(set.Clusters, mc)
	}
	return set
}

// twoClusters is a snapshot of clusters "hello" (1, 2) and "world" (3, 4).
func twoClusters() mesh.Snapshot {
	return mesh.Snapshot{Clusters: []mesh.Cluster{
		{Name: "hello", Stack: "demo", Services: []mesh.Service{{Name: "hello", Containers: []mesh.Member{up("hello", 1), up("hello", 2)}}}},
		{Name: "world", Stack: "demo", Services: []mesh.Service{{Name: "world", Containers: []mesh.Member{up("world", 3), up("world", 4)}}}},
	}}
}

// recordingRecorder records the clusters forgotten.
type recordingRecorder struct {
	noopRecorder
	mu        sync.Mutex
	forgotten []string
}

func (r *recordingRecorder) Forget(c string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgotten = append(r.forgotten, c)
}

func callsTo(calls []call, nodes ...mesh.NodeName) []call {
	return slices.DeleteFunc(slices.Clone(calls), func(c call) bool { return !slices.Contains(nodes, c.Node) })
}

func TestAddedClusterAppliesFromTheNextPass(t *testing.T) {
	obs := &fakeObserver{snap: twoClusters()}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2), name("world", 3), name("world", 4))
	src := &fakeSource{}
	src.use(1, nil, testCluster("hello", "hello"))
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters, o.Source = nil, src })
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := callsTo(nodes.takeCalls(), name("world", 3), name("world", 4)); len(got) > 0 {
		t.Fatalf("a cluster that is not configured was changed: %v", got)
	}
	src.use(2, nil, testCluster("hello", "hello"), testCluster("world", "world"))
	if err := eventPass(c); err != nil {
		t.Fatal(err)
	}
	if !nodes.fullMesh(names("world", 3, 4)) {
		t.Errorf("the added cluster is not meshed: 3 sees %v", nodes.connected(name("world", 3)))
	}
	if _, ok := c.Status().Cluster("world"); !ok {
		t.Error("the added cluster is not in the status")
	}
}

func TestRemovedClusterIsLeftAsItIs(t *testing.T) {
	obs := &fakeObserver{snap: twoClusters()}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2), name("world", 3), name("world", 4))
	src := &fakeSource{}
	src.use(1, nil, testCluster("hello", "hello"), testCluster("world", "world"))
	rec := &recordingRecorder{}
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters, o.Source, o.Recorder = nil, src, rec })
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	nodes.takeCalls()
	src.use(2, nil, testCluster("hello", "hello"))
	// Its containers stop meanwhile: a managed cluster would tell them to
	// leave and drop them from their peers.
	snap := twoClusters()
	snap.Clusters[1].Services[0].Containers = []mesh.Member{ctr("world", 3, "stopped", ""), up("world", 4)}
	obs.set(snap, nil)
	for range 3 {
		if err := c.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := callsTo(nodes.takeCalls(), name("world", 3), name("world", 4)); len(got) > 0 {
		t.Errorf("the nodes of a removed cluster were changed: %v", got)
	}
	if !nodes.fullMesh(names("world", 3, 4)) {
		t.Errorf("the removed cluster lost its links: 4 sees %v", nodes.connected(name("world", 4)))
	}
	st := c.Status()
	w, ok := st.Cluster("world")
	if !ok || !w.Unmanaged || w.UnmanagedSince.IsZero() || len(w.Nodes) != 2 {
		t.Fatalf("removed cluster in the status: %+v (present %v)", w, ok)
	}
	if m, _ := FindCondition(w.Conditions, ConditionManaged); m.Status != ConditionFalse || m.Reason != "LeftConfiguration" {
		t.Errorf("Managed condition %+v", m)
	}
	if st.Clusters[len(st.Clusters)-1].Name != "world" {
		t.Errorf("unmanaged clusters come after the managed ones: %v", st.Clusters)
	}
	if !slices.Equal(rec.forgotten, []string{"world"}) {
		t.Errorf("metrics forgotten %v, want [world] once", rec.forgotten)
	}

	src.use(3, nil, testCluster("hello", "hello"), testCluster("world", "world"))
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, _ = c.Status().Cluster("world")
	if _, has := FindCondition(w.Conditions, ConditionManaged); w.Unmanaged || has {
		t.Errorf("a cluster back in the configuration is still unmanaged: %+v", w)
	}
	if got := callsTo(nodes.takeCalls(), name("world", 4)); len(got) != 1 || len(got[0].Peers) != 0 {
		t.Errorf("the cluster back in the configuration is managed again: its member must drop the stopped node, calls %v", got)
	}
}

func TestConfigConditionsShowOnTheControllerAndEveryCluster(t *testing.T) {
	obs := &fakeObserver{snap: twoClusters()}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2), name("world", 3), name("world", 4))
	src := &fakeSource{}
	src.use(1, nil, testCluster("hello", "hello"), testCluster("world", "world"))
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters, o.Source = nil, src })
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	invalid := Condition{Type: ConditionConfigInvalid, Status: ConditionTrue, Reason: "ReloadFailed", Message: "spec.clusters[0].admin.port: must be between 1 and 65535"}
	src.use(2, []Condition{invalid}, testCluster("hello", "hello"), testCluster("world", "world"))
	for _, relist := range []bool{false, true} {
		if _, err := c.runPass(context.Background(), work{Kind: KindConfig, Relist: relist}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Status()
	if got, _ := FindCondition(st.Conditions, ConditionConfigInvalid); got.Status != ConditionTrue || got.Message != invalid.Message {
		t.Errorf("controller condition %+v", got)
	}
	for _, cs := range st.Clusters {
		if got, _ := FindCondition(cs.Conditions, ConditionConfigInvalid); got.Status != ConditionTrue || got.LastTransitionTime.IsZero() {
			t.Errorf("cluster %s: ConfigInvalid %+v", cs.Name, got)
		}
	}
	obs.set(mesh.Snapshot{}, errRancherDown())
	if err := eventPass(c); err == nil {
		t.Fatal("want the pass to abort")
	}
	for _, cs := range c.Status().Clusters {
		if got, _ := FindCondition(cs.Conditions, ConditionConfigInvalid); got.Status != ConditionTrue {
			t.Errorf("an aborted pass dropped ConfigInvalid of %s: %+v", cs.Name, cs.Conditions)
		}
	}
}

func TestChangedSettingsRecomputeTheCluster(t *testing.T) {
	obs := &fakeObserver{snap: snapOf(up("hello", 1), up("hello", 2))}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2))
	src := &fakeSource{}
	src.use(1, nil, testCluster("hello", "hello"))
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters, o.Source = nil, src })
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	renamed := testCluster("hello", "hello")
	renamed.NodeName = "app@{{primaryIP}}"
	nodes.add("app@10.42.0.1", "app@10.42.0.2")
	src.use(2, nil, renamed)
	snap := snapOf(up("hello", 1), up("hello", 2))
	snap.Clusters[0].Generation = 7 // the same Rancher data as before
	obs.set(snap, nil)
	for range 2 {
		if err := eventPass(c); err != nil {
			t.Fatal(err)
		}
	}
	if !nodes.fullMesh(mesh.NewPeerSet("app@10.42.0.1", "app@10.42.0.2")) {
		t.Errorf("the new node names were not pushed: %v", nodes.takeCalls())
	}
}

func TestASnapshotThatChangesTheClustersAsksForAnotherPass(t *testing.T) {
	src := &fakeSource{}
	src.use(1, nil, testCluster("hello", "hello"))
	next := setOf(2, nil, testCluster("hello", "hello"), testCluster("world", "world"))
	obs := &fakeObserver{snap: twoClusters()}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2), name("world", 3), name("world", 4))
	c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters, o.Source = nil, src })
	src.mu.Lock()
	src.after, src.switchAt = &next, src.calls+2 // the pass's second call, after its snapshot
	src.mu.Unlock()
	o, err := c.runPass(context.Background(), work{Kind: KindStart, Relist: true, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Reconfigured {
		t.Fatal("the pass did not report that the clusters changed")
	}
	now0 := time.Unix(1000, 0)
	s := newScheduler(scheduleConfig{resync: time.Minute, drift: 10 * time.Second, backoffBase: time.Millisecond, backoffMax: time.Second}, nil, now0)
	s.Due(now0)
	s.PassDone(now0, o)
	if jobs := s.Due(now0); len(jobs) != 1 || jobs[0].Kind != KindConfig {
		t.Errorf("after a reconfigured pass the scheduler runs %+v, want a config pass at once", jobs)
	}
}

// fakeElector answers a settable election.
type fakeElector struct {
	mu sync.Mutex
	e  Election
}

func (f *fakeElector) Elect(mesh.Snapshot) Election {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.e
}

func (f *fakeElector) set(e Election) {
	f.mu.Lock()
	f.e = e
	f.mu.Unlock()
}

func TestStandbyPushesNothingAndShowsThePlan(t *testing.T) {
	obs := &fakeObserver{snap: snapOf(up("hello", 1), up("hello", 2))}
	nodes := newFakeNodes(name("hello", 1), name("hello", 2))
	el := &fakeElector{e: Election{Self: "drover-1", Holder: "drover-0", Reason: "drover-0 has the lowest createIndex"}}
	c := newTestController(t, obs, nodes, func(o *Options) { o.Elector = el })
	if got := c.Status().Leadership.Role; got != RoleStandby {
		t.Errorf("before its first pass a controller with an elector is %s, want standby", got)
	}
	for range 2 {
		if err := c.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if calls := nodes.takeCalls(); len(calls) > 0 {
		t.Fatalf("a standby changed nodes: %v", calls)
	}
	st := c.Status()
	if l := st.Leadership; l.Role != RoleStandby || l.Holder != "drover-0" || l.Self != "drover-1" || l.Since.IsZero() {
		t.Errorf("leadership %+v", l)
	}
	hello, _ := st.Cluster("hello")
	for _, n := range hello.Nodes {
		if n.Plan == nil || n.Plan.NotSentBecause != RoleStandby || n.Plan.Action != ActionSetPeers || len(n.Plan.Peers) != 1 {
			t.Errorf("%s: plan %+v, want a set-peers not sent by the standby", n.Node, n.Plan)
		}
	}

	el.set(Election{Leader: true, Self: "drover-1", Holder: "drover-1", Reason: "drover-0 stopped"})
	reads := nodes.statuses
	if err := eventPass(c); err != nil {
		t.Fatal(err)
	}
	if !nodes.fullMesh(names("hello", 1, 2)) {
		t.Errorf("the controller that took over did not push: %v", nodes.takeCalls())
	}
	if nodes.statuses-reads < 2 {
		t.Errorf("taking over re-read %d statuses, want every node's", nodes.statuses-reads)
	}
	st = c.Status()
	if st.Leadership.Role != RoleLeader {
		t.Errorf("leadership %+v", st.Leadership)
	}
	hello, _ = st.Cluster("hello")
	for _, n := range hello.Nodes {
		if n.Plan != nil || n.LastPush == nil {
			t.Errorf("%s: plan %+v, last push %+v after the takeover", n.Node, n.Plan, n.LastPush)
		}
	}
}

func TestStatusNamesTheContainerAndTheRule(t *testing.T) {
	obs := &fakeObserver{snap: snapOf(up("hello", 1), ctr("hello", 2, "running", "initializing"))}
	c := newTestController(t, obs, newFakeNodes(name("hello", 1), name("hello", 2)), nil)
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	hello, _ := c.Status().Cluster("hello")
	if hello.Source != SourceFile || hello.Stack != "demo" || !slices.Equal(hello.Services, []string{"hello"}) ||
		!slices.Equal(hello.Membership.States, []string{"running"}) {
		t.Errorf("cluster %+v", hello)
	}
	for _, n := range hello.Nodes {
		if n.ContainerName == "" || n.Service != "hello" || n.IP == "" {
			t.Errorf("node %+v lacks its container's name, service or IP", n)
		}
	}
}
