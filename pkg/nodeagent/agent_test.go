package nodeagent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

// TestGoAgentConformance runs the shared refusal suite against the Go
// agent holding two live links.
func TestGoAgentConformance(t *testing.T) {
	m := nodeagent.NewMemoryMesh(nodeagent.MemoryMeshOptions{})
	m.Connector("b@127.0.0.2")
	m.Connector("c@127.0.0.3")
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{
		Node: "a@127.0.0.1", Token: "s3cret-token", Connector: m.Connector("a@127.0.0.1"), Logger: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	url := nodeapitest.ServeAgent(t, a)
	c := nodeapitest.NewClient(t, "s3cret-token")
	if _, err := c.SetPeers(t.Context(), nodeapitest.Endpoint(url, "a@127.0.0.1"), 3, nodeapitest.PeerSet("b@127.0.0.2", "c@127.0.0.3")); err != nil {
		t.Fatal(err)
	}
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: url, Token: "s3cret-token"})
	if got := m.Connected("b@127.0.0.2"); len(got) != 1 || got[0] != "a@127.0.0.1" {
		t.Errorf("b's links after the suite = %v, want [a@127.0.0.1]", got)
	}
}

// agentFixture is a Go agent "a@127.0.0.1" on a shared mesh with live nodes
// b, c and d, served over HTTP.
type agentFixture struct {
	mesh    *nodeagent.MemoryMesh
	url     string
	ep      mesh.Endpoint
	client  *nodeapi.Client
	mu      sync.Mutex
	changes []nodeagent.Change
}

func newAgentFixture(t *testing.T, opts nodeagent.AgentOptions) *agentFixture {
	t.Helper()
	f := &agentFixture{mesh: nodeagent.NewMemoryMesh(nodeagent.MemoryMeshOptions{})}
	for _, n := range []string{"b@127.0.0.2", "c@127.0.0.3", "d@127.0.0.4"} {
		f.mesh.Connector(n)
	}
	opts.Node, opts.Token, opts.Logger = "a@127.0.0.1", secret, testr.New(t)
	if opts.Connector == nil {
		opts.Connector = f.mesh.Connector(opts.Node)
	}
	opts.OnChange = func(c nodeagent.Change) { f.mu.Lock(); f.changes = append(f.changes, c); f.mu.Unlock() }
	a, err := nodeagent.NewAgent(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.url = nodeapitest.ServeAgent(t, a)
	f.ep = nodeapitest.Endpoint(f.url, opts.Node)
	f.client = nodeapitest.NewClient(t, secret)
	return f
}

func (f *agentFixture) changeCount() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.changes) }

func TestAgentIdempotentPush(t *testing.T) {
	f := newAgentFixture(t, nodeagent.AgentOptions{})
	set := nodeapitest.PeerSet("b@127.0.0.2", "c@127.0.0.3")
	for range 3 {
		st, err := f.client.SetPeers(t.Context(), f.ep, 1, set)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Connected.Equal(set) || !st.Managed.Equal(set) || st.Revision != 1 {
			t.Fatalf("status = %+v", st)
		}
	}
	if got := f.changeCount(); got != 1 {
		t.Errorf("changes = %d, want 1 for the same revision pushed three times", got)
	}
	// A repeated push repairs a lost link without counting as a change.
	f.mesh.SetUp("b@127.0.0.2", false)
	f.mesh.SetUp("b@127.0.0.2", true)
	st, err := f.client.SetPeers(t.Context(), f.ep, 1, set)
	if err != nil || !st.Connected.Equal(set) || f.changeCount() != 1 {
		t.Errorf("repair push: err %v, status %+v, changes %d", err, st, f.changeCount())
	}
}

func TestAgentDisconnectsOnlyManaged(t *testing.T) {
	f := newAgentFixture(t, nodeagent.AgentOptions{})
	if err := f.mesh.Connector("d@127.0.0.4").Connect(t.Context(), "a@127.0.0.1"); err != nil {
		t.Fatal(err) // d links to a on its own, like a remote shell
	}
	if _, err := f.client.SetPeers(t.Context(), f.ep, 1, nodeapitest.PeerSet("b@127.0.0.2", "c@127.0.0.3")); err != nil {
		t.Fatal(err)
	}
	st, err := f.client.SetPeers(t.Context(), f.ep, 2, nodeapitest.PeerSet("c@127.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	if want := nodeapitest.PeerSet("c@127.0.0.3", "d@127.0.0.4"); !st.Connected.Equal(want) {
		t.Errorf("connected = %v, want %v (b dropped, d untouched)", st.Connected, want)
	}
	if got := f.mesh.Connected("b@127.0.0.2"); len(got) != 0 {
		t.Errorf("b still sees %v", got)
	}
}

func TestAgentLeave(t *testing.T) {
	f := newAgentFixture(t, nodeagent.AgentOptions{})
	_ = f.mesh.Connector("d@127.0.0.4").Connect(t.Context(), "a@127.0.0.1")
	if _, err := f.client.SetPeers(t.Context(), f.ep, 1, nodeapitest.PeerSet("b@127.0.0.2", "c@127.0.0.3")); err != nil {
		t.Fatal(err)
	}
	st, err := f.client.Leave(t.Context(), f.ep, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Leaving || st.Revision != 2 || len(st.Managed) != 0 || len(st.Connected) != 0 {
		t.Errorf("after leave: %+v", st)
	}
	if _, err := f.client.Leave(t.Context(), f.ep, 2); err != nil {
		t.Errorf("repeated leave: %v", err)
	}
	if _, err := f.client.SetPeers(t.Context(), f.ep, 2, nil); !nodeapi.IsStaleRevision(err) {
		t.Errorf("peers at the leave's revision: err %v, want stale", err)
	}
	st, err = f.client.SetPeers(t.Context(), f.ep, 3, nodeapitest.PeerSet("b@127.0.0.2"))
	if err != nil || st.Leaving || !st.Connected.Equal(nodeapitest.PeerSet("b@127.0.0.2")) {
		t.Errorf("rejoin: err %v, status %+v", err, st)
	}
	if got := f.changeCount(); got != 3 {
		t.Errorf("changes = %d, want 3", got)
	}
}

// barrierConnector connects only once n connects are in flight together,
// so it fails every connect when they run one after another; it never
// connects "slow@..." peers.
type barrierConnector struct {
	n       int
	mu      sync.Mutex
	waiting int
	all     chan struct{}
	links   map[string]bool
}

func (b *barrierConnector) Connect(ctx context.Context, peer string) error {
	if strings.HasPrefix(peer, "slow@") {
		<-ctx.Done()
		return ctx.Err()
	}
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		b.mu.Lock()
		b.links[peer] = true
		b.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *barrierConnector) Disconnect(peer string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.links, peer)
	return nil
}

func (b *barrierConnector) Connected() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for p := range b.links {
		out = append(out, p)
	}
	return out
}

func TestAgentConnectsInParallel(t *testing.T) {
	conn := &barrierConnector{n: 3, all: make(chan struct{}), links: map[string]bool{}}
	f := newAgentFixture(t, nodeagent.AgentOptions{Connector: conn, ConnectTimeout: 30 * time.Second})
	want := nodeapitest.PeerSet("b@127.0.0.2", "c@127.0.0.3", "d@127.0.0.4")
	st, err := f.client.SetPeers(t.Context(), f.ep, 1, want)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Connected.Equal(want) || len(st.Failed) != 0 {
		t.Errorf("connected = %v, failed = %v, want %v and no failure", st.Connected, st.Failed, want)
	}
}

func TestAgentConnectTimeout(t *testing.T) {
	conn := &barrierConnector{n: 1, all: make(chan struct{}), links: map[string]bool{}}
	f := newAgentFixture(t, nodeagent.AgentOptions{Connector: conn, ConnectTimeout: 50 * time.Millisecond})
	st, err := f.client.SetPeers(t.Context(), f.ep, 1, nodeapitest.PeerSet("b@127.0.0.2", "slow@127.0.0.9"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Connected.Equal(nodeapitest.PeerSet("b@127.0.0.2")) {
		t.Errorf("connected = %v, want [b@127.0.0.2]", st.Connected)
	}
	if _, ok := st.Failed["slow@127.0.0.9"]; !ok || len(st.Failed) != 1 {
		t.Errorf("failed = %v, want only slow@127.0.0.9", st.Failed)
	}
	if !st.Managed.Contains("slow@127.0.0.9") {
		t.Errorf("a failed peer must stay managed: %v", st.Managed)
	}
}

// panicConnector panics everywhere.
type panicConnector struct{}

func (panicConnector) Connect(context.Context, string) error { panic("connect") }
func (panicConnector) Disconnect(string) error               { panic("disconnect") }
func (panicConnector) Connected() []string                   { panic("connected") }

func TestAgentSurvivesPanics(t *testing.T) {
	f := newAgentFixture(t, nodeagent.AgentOptions{Connector: panicConnector{}})
	_, err := f.client.Status(t.Context(), f.ep)
	var apiErr *nodeapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Code != nodeapi.CodeInternal {
		t.Errorf("status with a panicking connector: %v, want 500 internal", err)
	}
	if err := f.client.Health(t.Context(), f.ep); err != nil {
		t.Errorf("health after panics: %v", err)
	}
}

func TestAgentChunkedOversizedBody(t *testing.T) {
	f := newAgentFixture(t, nodeagent.AgentOptions{})
	body := io.MultiReader(strings.NewReader(`{"revision":1,"peers":[],"x":"`), strings.NewReader(strings.Repeat("x", nodeapi.MaxBodyBytes)))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, f.url+nodeapi.PathPeers, io.NopCloser(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

func TestNewAgentChecksOptions(t *testing.T) {
	for _, o := range []nodeagent.AgentOptions{{Token: "x"}, {Node: "bad", Token: "x"}, {Node: "a@1"}} {
		if _, err := nodeagent.NewAgent(o); err == nil {
			t.Errorf("NewAgent(%+v): want an error", o)
		}
	}
}

// countingConnector counts connects; every connect succeeds.
type countingConnector struct {
	mu    sync.Mutex
	calls int
}

func (c *countingConnector) Connect(context.Context, string) error {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return nil
}
func (c *countingConnector) Disconnect(string) error { return nil }
func (c *countingConnector) Connected() []string     { return nil }

func manyNames(n int) mesh.PeerSet {
	names := make([]mesh.NodeName, n)
	for i := range names {
		names[i] = mesh.NodeName(fmt.Sprintf("p%d@10.1.%d.%d", i, i/250, i%250+1))
	}
	return mesh.NewPeerSet(names...)
}

// TestAgentRefusesOversizedPeerSetsWithoutConnecting sends sets over
// MaxPeers straight over HTTP (the client refuses to send them): 400
// too_many_peers, no connect, nothing applied.
func TestAgentRefusesOversizedPeerSetsWithoutConnecting(t *testing.T) {
	conn := &countingConnector{}
	f := newAgentFixture(t, nodeagent.AgentOptions{Connector: conn})
	for _, n := range []int{nodeapi.MaxPeers + 1, 10000} {
		body, _ := json.Marshal(nodeapi.SetPeersRequest{Revision: 1, Peers: manyNames(n).Strings()})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, f.url+nodeapi.PathPeers, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		t.Logf("%d peers refused in %v", n, time.Since(start))
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"code":"too_many_peers"`) {
			t.Errorf("%d peers: status %d, body %.200s; want 400 too_many_peers", n, resp.StatusCode, b)
		}
	}
	if conn.calls != 0 || f.changeCount() != 0 {
		t.Errorf("connects %d, changes %d after refused sets; want none", conn.calls, f.changeCount())
	}
	if _, err := f.client.SetPeers(t.Context(), f.ep, 1, manyNames(nodeapi.MaxPeers+1)); err == nil || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("client sending 1001 peers: %v, want a refusal before sending", err)
	}
}

// TestAgentConnectsAThousandPeersAtOnce: the largest allowed set is dialled
// all at once, so even unreachable peers cost one connect timeout, within
// the client's 2 s. The barrier connector fails every connect unless all
// 1000 are in flight together.
func TestAgentConnectsAThousandPeersAtOnce(t *testing.T) {
	conn := &barrierConnector{n: nodeapi.MaxPeers, all: make(chan struct{}), links: map[string]bool{}}
	f := newAgentFixture(t, nodeagent.AgentOptions{Connector: conn})
	want := manyNames(nodeapi.MaxPeers)
	start := time.Now()
	st, err := f.client.SetPeers(t.Context(), f.ep, 1, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a set of %d peers answered in %v", len(want), time.Since(start))
	if len(st.Failed) != 0 || !st.Connected.Equal(want) {
		t.Errorf("%d failed, %d connected; want all %d connected", len(st.Failed), len(st.Connected), len(want))
	}
}

// TestReannouncesUpAfterHealthProbesUntilAPeerSetApplies checks the
// re-announcement rule: a health answer asks for an "up" while no peer set
// is applied, at most every ReannounceGap, and none once one is.
func TestReannouncesUpAfterHealthProbesUntilAPeerSetApplies(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{Node: "a@127.0.0.1", Token: secret, Logger: testr.New(t),
		Reannounce: func() { mu.Lock(); calls++; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	url := nodeapitest.ServeAgent(t, a)
	count := func() int { mu.Lock(); defer mu.Unlock(); return calls }
	probe := func() {
		t.Helper()
		resp, err := http.Get(url + nodeapi.PathHealth)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	probe()
	probe() // within ReannounceGap: no second call
	testwait.Eventually(t, 0, "one re-announcement", func() bool { return count() == 1 })
	c := nodeapitest.NewClient(t, secret)
	if _, err := c.SetPeers(t.Context(), nodeapitest.Endpoint(url, "a@127.0.0.1"), 1, nodeapitest.PeerSet()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(nodeagent.ReannounceGap) // not a threshold: lets the gap pass so only the rule can refuse
	probe()
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 1 {
		t.Errorf("%d re-announcements after a peer set applied, want still 1", n)
	}
}
