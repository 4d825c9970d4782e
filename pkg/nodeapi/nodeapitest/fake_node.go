package nodeapitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// StartNode starts a fake node and stops it when the test ends.
func StartNode(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.Network == nil {
		opts.Network = NewNetwork()
	}
	if opts.Node == "" {
		opts.Node = opts.Network.nextName()
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Cluster == "" {
		opts.Cluster = DefaultCluster
	}
	n := &Node{name: opts.Node, opts: opts, wake: make(chan struct{})}
	n.conn = opts.Network.mesh.Connector(opts.Node)
	if err := n.newAgent(); err != nil {
		t.Fatalf("starting fake node: %v", err)
	}
	if err := n.listen(); err != nil {
		t.Fatalf("starting fake node: %v", err)
	}
	t.Cleanup(func() {
		n.SetFault(FaultNone) // releases hanging requests
		_ = n.srv.Close()
		opts.Network.mesh.Remove(opts.Node)
	})
	return n
}

// listen serves the node on a free loopback port.
func (n *Node) listen() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv, err := nodeapi.NewServer(nodeapi.ServerOptions{Handler: http.HandlerFunc(n.serve), TLS: n.opts.TLS, Limits: n.opts.Limits})
	if err != nil {
		_ = ln.Close()
		return err
	}
	scheme := "http"
	if n.opts.TLS != nil {
		scheme = "https"
	}
	n.srv, n.url = srv, scheme+"://"+ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// StartNodes starts count fake nodes on one network (opts.Network, or a
// new one) and returns them with their endpoints. opts.Node is ignored.
func StartNodes(t testing.TB, count int, opts Options) ([]*Node, []mesh.Endpoint) {
	t.Helper()
	if opts.Network == nil {
		opts.Network = NewNetwork()
	}
	opts.Node = ""
	nodes := make([]*Node, count)
	eps := make([]mesh.Endpoint, count)
	for i := range nodes {
		nodes[i] = StartNode(t, opts)
		eps[i] = nodes[i].Endpoint()
	}
	return nodes, eps
}

func (n *Node) newAgent() error {
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{
		Node: n.opts.Node, Token: n.opts.Token, Connector: n.conn,
		ConnectTimeout: n.opts.ConnectTimeout, Flags: n.opts.Flags,
		OnChange: func(c nodeagent.Change) { n.mu.Lock(); n.chgs = append(n.chgs, c); n.mu.Unlock() },
	})
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.agent = a
	n.mu.Unlock()
	return nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// URL returns the agent's base URL.
func (n *Node) URL() string { return n.url }

// Token returns the agent's token.
func (n *Node) Token() string { return n.opts.Token }

// Endpoint returns where the controller reaches the node.
func (n *Node) Endpoint() mesh.Endpoint {
	return mesh.Endpoint{Cluster: n.opts.Cluster, Node: mesh.NodeName(n.name), ContainerID: "fake-" + n.name, URL: n.url}
}

// Connected returns the node's links, sorted.
func (n *Node) Connected() []string { return n.conn.Connected() }

// Status returns the agent's status, whatever the fault.
func (n *Node) Status() nodeapi.Status {
	n.mu.Lock()
	a := n.agent
	n.mu.Unlock()
	return a.Status()
}

// Calls returns every peer-set and leave request received so far.
func (n *Node) Calls() []Call {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// Changes returns every applied peer set and leave (no-op repeats and
// refused requests excluded).
func (n *Node) Changes() []nodeagent.Change {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.chgs)
}

// SetFault makes the node misbehave (or behave again with FaultNone). A
// node coming back from FaultDown has lost its links but keeps its agent
// state, like a node after a network outage.
func (n *Node) SetFault(f Fault) {
	n.mu.Lock()
	old := n.fault
	n.fault = f
	close(n.wake)
	n.wake = make(chan struct{})
	n.mu.Unlock()
	if f == FaultDown || old == FaultDown {
		n.opts.Network.mesh.SetUp(n.name, f != FaultDown)
	}
}

// Restart replaces the agent with a fresh one (revision 0, nothing
// managed), drops the node's links and clears any fault, like a node that
// restarted.
func (n *Node) Restart() {
	n.opts.Network.mesh.SetUp(n.name, false)
	_ = n.newAgent() // the options were valid at start
	n.SetFault(FaultNone)
	n.opts.Network.mesh.SetUp(n.name, true)
}

// serve applies the fault, records peer-set and leave calls and hands the
// request to the agent.
func (n *Node) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	fault, wake, agent := n.fault, n.wake, n.agent
	n.mu.Unlock()
	call, recorded := n.record(r)
	switch {
	case fault == FaultDown:
		n.appendCall(call, recorded)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	case fault == FaultHang:
		n.appendCall(call, recorded)
		select {
		case <-r.Context().Done():
		case <-wake:
		}
		return
	case fault == FaultError && r.URL.Path != nodeapi.PathHealth:
		n.appendCall(call, recorded)
		w.Header().Set("Content-Type", nodeapi.MediaType)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"code":"internal","message":"fault injected by nodeapitest"}`))
		return
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	agent.Handler().ServeHTTP(rec, r)
	call.StatusCode = rec.code
	n.appendCall(call, recorded)
}

// record reads a peer-set or leave body (restoring it for the agent).
func (n *Node) record(r *http.Request) (Call, bool) {
	leave := r.Method == http.MethodPost && r.URL.Path == nodeapi.PathLeave
	if !leave && (r.Method != http.MethodPut || r.URL.Path != nodeapi.PathPeers) {
		return Call{}, false
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, nodeapi.MaxBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	var req nodeapi.SetPeersRequest
	_ = json.Unmarshal(b, &req)
	c := Call{Leave: leave, Revision: req.Revision}
	if !leave {
		c.Peers = req.Peers
	}
	return c, true
}

func (n *Node) appendCall(c Call, ok bool) {
	if !ok {
		return
	}
	n.mu.Lock()
	n.calls = append(n.calls, c)
	n.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
