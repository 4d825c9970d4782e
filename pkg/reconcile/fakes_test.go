package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
)

// testCluster returns a defaulted cluster of stack "demo".
func testCluster(name string, services ...string) config.Cluster {
	c := config.Cluster{Name: name, Stack: "demo", Services: services, Admin: config.Admin{Token: config.SecretRef{Value: "t"}}}
	c.Default()
	return c
}

// ctr is container i of a service: IP 10.42.0.i, id 1i<i>.
func ctr(service string, i int, state, health string) mesh.Member {
	return mesh.Member{ContainerID: fmt.Sprintf("1i%d", i), Name: fmt.Sprintf("demo-%s-%d", service, i),
		Service: service, IP: fmt.Sprintf("10.42.0.%d", i), State: state, HealthState: health, CreateIndex: int64(i)}
}

func up(service string, i int) mesh.Member { return ctr(service, i, "running", "healthy") }

// name is the default node name of container i of a service.
func name(service string, i int) mesh.NodeName {
	return mesh.NodeName(fmt.Sprintf("%s@10.42.0.%d", service, i))
}

func names(service string, is ...int) mesh.PeerSet {
	var out []mesh.NodeName
	for _, i := range is {
		out = append(out, name(service, i))
	}
	return mesh.NewPeerSet(out...)
}

// snapOf is a snapshot of one cluster "hello" with one service "hello".
func snapOf(ms ...mesh.Member) mesh.Snapshot {
	return mesh.Snapshot{Clusters: []mesh.Cluster{{Name: "hello", Stack: "demo",
		Services: []mesh.Service{{Name: "hello", Containers: ms}}}}}
}

// fakeObserver returns a settable snapshot or error.
type fakeObserver struct {
	mu      sync.Mutex
	snap    mesh.Snapshot
	err     error
	calls   int
	relists int
}

func (f *fakeObserver) Snapshot(_ context.Context, relist bool) (mesh.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if relist {
		f.relists++
	}
	return f.snap, f.err
}

func (f *fakeObserver) set(s mesh.Snapshot, err error) {
	f.mu.Lock()
	f.snap, f.err = s, err
	f.mu.Unlock()
}

// call is one recorded change.
type call struct {
	Action   Action
	Node     mesh.NodeName
	Revision uint64
	Peers    mesh.PeerSet
}

// fakeNodes is a recording fake of Nodes over an in-memory mesh: links are
// two-way, like Erlang distribution, and change under the Go agent's own
// revision rules (nodeagent.Decide and Plan), not a copy of them.
type fakeNodes struct {
	mu       sync.Mutex
	nodes    map[mesh.NodeName]*fakeNode
	links    map[[2]mesh.NodeName]bool
	calls    []call
	statuses int
	// afterCall, when set, is called after each recorded change with the
	// links as they are then (f.mu held: it must not call f's methods).
	afterCall func(c call, links map[[2]mesh.NodeName]bool)
}

type fakeNode struct {
	managed  mesh.PeerSet
	revision uint64
	leaving  bool
	down     bool
	hang     chan struct{} // calls block until it is closed or ctx ends
	// connectAll is the connect_all flag the node reports.
	connectAll bool
}

func newFakeNodes(ns ...mesh.NodeName) *fakeNodes {
	f := &fakeNodes{nodes: map[mesh.NodeName]*fakeNode{}, links: map[[2]mesh.NodeName]bool{}}
	for _, n := range ns {
		f.nodes[n] = &fakeNode{}
	}
	return f
}

func link(a, b mesh.NodeName) [2]mesh.NodeName {
	if b < a {
		a, b = b, a
	}
	return [2]mesh.NodeName{a, b}
}

func (f *fakeNodes) add(ns ...mesh.NodeName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range ns {
		if f.nodes[n] == nil {
			f.nodes[n] = &fakeNode{}
		}
	}
}

// restart resets a node as a restarted VM would: no links, no state.
func (f *fakeNodes) restart(n mesh.NodeName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropLinksLocked(n)
	f.nodes[n] = &fakeNode{}
}

func (f *fakeNodes) setDown(n mesh.NodeName, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[n].down = down
	if down {
		f.dropLinksLocked(n)
	}
}

func (f *fakeNodes) setHang(n mesh.NodeName, ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[n].hang = ch
}

func (f *fakeNodes) cut(a, b mesh.NodeName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.links, link(a, b))
}

func (f *fakeNodes) dropLinksLocked(n mesh.NodeName) {
	for l := range f.links {
		if l[0] == n || l[1] == n {
			delete(f.links, l)
		}
	}
}

func (f *fakeNodes) connectedLocked(n mesh.NodeName) mesh.PeerSet {
	var out []mesh.NodeName
	for l := range f.links {
		switch n {
		case l[0]:
			out = append(out, l[1])
		case l[1]:
			out = append(out, l[0])
		}
	}
	return mesh.NewPeerSet(out...)
}

// enter finds a node and waits out its hang; it returns with f.mu held.
func (f *fakeNodes) enter(ctx context.Context, n mesh.NodeName) (*fakeNode, error) {
	f.mu.Lock()
	node := f.nodes[n]
	if node != nil && node.hang != nil {
		ch := node.hang
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			f.mu.Lock()
			return nil, fmt.Errorf("calling %s: %w", n, ctx.Err()) // errors name the node (see Nodes)
		}
		f.mu.Lock()
	}
	if node == nil || node.down {
		return nil, fmt.Errorf("dial %s: connection refused", n)
	}
	return node, nil
}

func (f *fakeNodes) statusLocked(n mesh.NodeName, node *fakeNode) mesh.NodeStatus {
	return mesh.NodeStatus{Node: n, Connected: f.connectedLocked(n), Managed: slices.Clone(node.managed),
		Revision: node.revision, Leaving: node.leaving, ConnectAll: node.connectAll}
}

// setConnectAll sets the connect_all flag a node reports.
func (f *fakeNodes) setConnectAll(n mesh.NodeName, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[n].connectAll = on
}

// recorded notes a change that was applied (or refused) and runs the hook.
func (f *fakeNodes) recorded(c call) {
	if f.afterCall != nil {
		f.afterCall(c, f.links)
	}
}

func (f *fakeNodes) Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error) {
	node, err := f.enter(ctx, ep.Node)
	defer f.mu.Unlock()
	f.statuses++
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return f.statusLocked(ep.Node, node), nil
}

// agentState is the node's state as the Go agent's revision rules see it.
func (n *fakeNode) agentState() nodeagent.State {
	return nodeagent.State{Revision: n.revision, Managed: n.managed.Strings(), Leaving: n.leaving}
}

// execute applies a command under the Go agent's own rules
// (nodeagent.Decide and Plan): a stale one is refused with
// ErrStaleRevision; otherwise links change as the agent would change them
// (a no-op repeat repairs missing links too). It reports whether the
// command changed the node's state.
func (f *fakeNodes) execute(n mesh.NodeName, node *fakeNode, c nodeagent.Command) (bool, error) {
	v, reason := nodeagent.Decide(node.agentState(), c)
	if v == nodeagent.Stale {
		return false, fmt.Errorf("node %s: %s: %w", n, reason, ErrStaleRevision)
	}
	connect, disconnect := nodeagent.Plan(node.agentState(), c, v, f.connectedLocked(n).Strings())
	for _, p := range disconnect {
		delete(f.links, link(n, mesh.NodeName(p)))
	}
	for _, p := range connect {
		if other := f.nodes[mesh.NodeName(p)]; other != nil && !other.down {
			f.links[link(n, mesh.NodeName(p))] = true
		}
	}
	if v == nodeagent.Noop {
		return false, nil
	}
	node.revision, node.leaving, node.managed = c.Revision, c.Leave, nil
	if !c.Leave {
		node.managed = mesh.NewPeerSet(namesOf(c.Peers)...)
	}
	return true, nil
}

func namesOf(ss []string) []mesh.NodeName {
	out := make([]mesh.NodeName, len(ss))
	for i, s := range ss {
		out[i] = mesh.NodeName(s)
	}
	return out
}

func (f *fakeNodes) SetPeers(ctx context.Context, ep mesh.Endpoint, rev uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	node, err := f.enter(ctx, ep.Node)
	defer f.mu.Unlock()
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	f.calls = append(f.calls, call{ActionSetPeers, ep.Node, rev, slices.Clone(peers)})
	changed, err := f.execute(ep.Node, node, nodeagent.Command{Revision: rev, Peers: peers.Strings()})
	if changed {
		f.recorded(call{ActionSetPeers, ep.Node, rev, slices.Clone(peers)})
	}
	return f.statusLocked(ep.Node, node), err
}

func (f *fakeNodes) Leave(ctx context.Context, ep mesh.Endpoint, rev uint64) (mesh.NodeStatus, error) {
	node, err := f.enter(ctx, ep.Node)
	defer f.mu.Unlock()
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	f.calls = append(f.calls, call{ActionLeave, ep.Node, rev, nil})
	changed, err := f.execute(ep.Node, node, nodeagent.Command{Leave: true, Revision: rev, Peers: []string{}})
	if changed {
		f.recorded(call{ActionLeave, ep.Node, rev, nil})
	}
	return f.statusLocked(ep.Node, node), err
}

// takeCalls returns and clears the recorded changes.
func (f *fakeNodes) takeCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// connected is a node's current connections.
func (f *fakeNodes) connected(n mesh.NodeName) mesh.PeerSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connectedLocked(n)
}

func (f *fakeNodes) managed(n mesh.NodeName) mesh.PeerSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.nodes[n].managed)
}

// fullMesh reports whether every node of want is connected to exactly the
// others of want.
func (f *fakeNodes) fullMesh(want mesh.PeerSet) bool {
	for _, n := range want {
		if !f.connected(n).Equal(want.Minus(mesh.PeerSet{n})) {
			return false
		}
	}
	return true
}

// newTestController builds a controller over the fakes with short
// intervals, for cluster "hello".
func newTestController(t *testing.T, obs *fakeObserver, nodes Nodes, mod func(*Options)) *Controller {
	t.Helper()
	o := Options{Observer: obs, Nodes: nodes, Clusters: []config.Cluster{testCluster("hello", "hello")},
		BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, ConfirmDelay: 10 * time.Millisecond,
		MinEventGap: 5 * time.Millisecond, StatusTimeout: 5 * time.Second}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// eventPass runs a pass as an event triggers it: no re-list, cached
// statuses.
func eventPass(c *Controller) error {
	_, err := c.runPass(context.Background(), work{Kind: KindEvent, Reasons: []Kind{KindEvent}})
	return err
}

func errRancherDown() error { return errors.New("rancher: 503 service unavailable") }
