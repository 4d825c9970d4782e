package nodeagent

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/go-logr/logr"
)

// Connector is how an agent links its node to peers. On BEAM it is
// net_kernel:connect_node/1 and erlang:disconnect_node/1; tests use a
// MemoryMesh.
type Connector interface {
	// Connect links the node to peer; it may block until ctx is done.
	Connect(ctx context.Context, peer string) error
	// Disconnect drops the link to peer. Dropping a link that does not
	// exist is not an error.
	Disconnect(peer string) error
	// Connected returns the visible nodes the node is linked to.
	Connected() []string
}

// DefaultConnectTimeout bounds each peer connect. It stays under the
// client's DefaultTimeout (2 s), because the agent answers a push only
// after its connects: a dead peer must not make every push time out. A
// warm connect takes milliseconds; a peer that is not reached in time is
// reported in Status.Failed and retried on the next push.
const DefaultConnectTimeout = 1500 * time.Millisecond

// maxParallelConnects bounds concurrent connects of one request. It is
// nodeapi.MaxPeers: every peer of a set is dialled at once, so even a set of
// unreachable peers is answered after one connect timeout (1.5 s), within
// the client's 2 s.
const maxParallelConnects = nodeapi.MaxPeers

// The re-announcement rule of docs/nodeapi.md ("Announce"), as the BEAM
// agent applies it (drover_agent_http.erl, REANNOUNCE_GAP and
// REANNOUNCE_FOR): after answering a health probe, while no peer set has
// been applied, at most every ReannounceGap, during the agent's first
// ReannounceFor. Rancher turns a container healthy right after the probe
// that passes its threshold; the announcement makes the controller read
// it then, not at Cattle's next event tick.
const (
	ReannounceGap = 500 * time.Millisecond
	ReannounceFor = 2 * time.Minute
)

// AgentOptions configures an Agent.
type AgentOptions struct {
	// Node is the agent's own node name, e.g. "hello@10.42.3.7". Required.
	Node string
	// Token is the bearer token every call except health must carry.
	// Required.
	Token string
	// Connector links the node to peers. Default: a private MemoryMesh in
	// which every connect succeeds.
	Connector Connector
	// ConnectTimeout bounds each peer connect. Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// OTPRelease is reported in the status. Default "go".
	OTPRelease string
	// Flags are reported in the status as they are.
	Flags nodeapi.Flags
	// OnChange, when set, is called after every applied peer set or leave
	// (not after a no-op repeat), while the next request waits.
	OnChange func(Change)
	// TLS, when CertFile is set, makes the agent's Server speak HTTPS
	// with this certificate, and require client certificates signed by
	// ClientCAFile when that is set too. Default: plain HTTP.
	TLS nodeapi.TLSFiles
	// Limits are the Server's connection limits; zero fields take the
	// protocol's defaults.
	Limits nodeapi.Limits
	// Reannounce, when set, is called (in its own goroutine) when the
	// re-announcement rule asks for an "up" after a health probe; the
	// caller sends it (the agent owns no announcer).
	Reannounce func()
	// Logger receives V(1) request logs and errors. Default: discard.
	Logger logr.Logger
}

// Change is an applied peer set or leave.
type Change struct {
	// Leave is true for a leave, false for a peer set.
	Leave    bool
	Revision uint64
	// Peers is the new managed set (empty after a leave), sorted.
	Peers []string
	// Failed are the peers that could not be connected.
	Failed []nodeapi.PeerError
}

// Agent serves the node admin protocol for one node. Create it with
// NewAgent; it is safe for concurrent use.
type Agent struct {
	node      string
	tokenHash [sha256.Size]byte
	conn      Connector
	timeout   time.Duration
	release   string
	flags     nodeapi.Flags
	onChange  func(Change)
	tls       *tls.Config // nil: plain HTTP
	limits    nodeapi.Limits
	log       logr.Logger

	reannounce func()
	started    time.Time
	reMu       sync.Mutex
	lastRe     time.Time

	applyMu sync.Mutex // serialises peer-set and leave requests
	mu      sync.Mutex // guards st
	st      State
}

// NewAgent checks opts, applies defaults and returns an Agent.
func NewAgent(opts AgentOptions) (*Agent, error) {
	if err := mesh.CheckNodeName(opts.Node); err != nil {
		return nil, fmt.Errorf("agent node: %w", err)
	}
	if opts.Token == "" {
		return nil, errors.New("agent token is required")
	}
	if opts.Connector == nil {
		opts.Connector = NewMemoryMesh(MemoryMeshOptions{AllowUnknown: true}).Connector(opts.Node)
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.OTPRelease == "" {
		opts.OTPRelease = "go"
	}
	tlsConfig, err := nodeapi.OptionalServerTLS(opts.TLS)
	if err != nil {
		return nil, fmt.Errorf("agent TLS: %w", err)
	}
	return &Agent{
		node:      opts.Node,
		tokenHash: sha256.Sum256([]byte(opts.Token)),
		conn:      opts.Connector,
		timeout:   opts.ConnectTimeout,
		release:   opts.OTPRelease,
		flags:     opts.Flags,
		onChange:  opts.OnChange,
		tls:       tlsConfig,
		limits:    opts.Limits,
		log:       opts.Logger,
		st:        State{Managed: []string{}},

		reannounce: opts.Reannounce,
		started:    time.Now(),
	}, nil
}

// healthAnswered applies the re-announcement rule after a health answer.
func (a *Agent) healthAnswered() {
	if a.reannounce == nil {
		return
	}
	a.mu.Lock()
	unapplied := a.st.Revision == 0 && !a.st.Leaving
	a.mu.Unlock()
	now := time.Now()
	if !unapplied || now.Sub(a.started) >= ReannounceFor {
		return
	}
	a.reMu.Lock()
	due := a.lastRe.IsZero() || now.Sub(a.lastRe) >= ReannounceGap
	if due {
		a.lastRe = now
	}
	a.reMu.Unlock()
	if due {
		go a.reannounce()
	}
}

// Node returns the agent's node name.
func (a *Agent) Node() string { return a.node }

// Status returns the node's current status.
func (a *Agent) Status() nodeapi.Status {
	a.mu.Lock()
	st := a.st
	a.mu.Unlock()
	return nodeapi.Status{
		Node:       a.node,
		Connected:  normalize(a.conn.Connected(), a.node),
		Managed:    st.Managed,
		Revision:   st.Revision,
		Leaving:    st.Leaving,
		OTPRelease: a.release,
		Flags:      a.flags,
		Failed:     st.Failed,
	}
}

// Execute applies a peer-set or leave command under the revision rules and
// returns the status after it, or a protocol error (stale_revision).
func (a *Agent) execute(ctx context.Context, c Command) (nodeapi.Status, *nodeapi.Error) {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	a.mu.Lock()
	cur := a.st
	a.mu.Unlock()

	v, reason := Decide(cur, c)
	if v == Stale {
		return nodeapi.Status{}, &nodeapi.Error{Code: nodeapi.CodeStaleRevision, Message: reason}
	}
	connect, disconnect := Plan(cur, c, v, a.conn.Connected())
	for _, p := range disconnect {
		if err := a.conn.Disconnect(p); err != nil {
			a.log.Error(err, "disconnect failed", "node", a.node, "peer", p)
		}
	}
	failed := a.connectAll(ctx, connect)
	next := State{Revision: c.Revision, Managed: c.Peers, Leaving: c.Leave, Failed: failed}
	if c.Leave {
		next.Managed = []string{}
	}
	a.mu.Lock()
	a.st = next
	a.mu.Unlock()
	if v == Apply {
		a.log.V(1).Info("peer set applied", "node", a.node, "revision", c.Revision, "leave", c.Leave,
			"peers", len(next.Managed), "connected", len(connect)-len(failed), "disconnected", len(disconnect), "failed", len(failed))
		if a.onChange != nil {
			a.onChange(Change{Leave: c.Leave, Revision: c.Revision, Peers: next.Managed, Failed: failed})
		}
	}
	return a.Status(), nil
}

// connectAll connects peers in parallel, each bounded by the connect
// timeout, and returns the failures sorted by node.
func (a *Agent) connectAll(ctx context.Context, peers []string) []nodeapi.PeerError {
	errs := make([]error, len(peers))
	sem := make(chan struct{}, maxParallelConnects)
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = a.connectOne(ctx, p)
		}()
	}
	wg.Wait()
	var failed []nodeapi.PeerError
	for i, err := range errs {
		if err != nil {
			failed = append(failed, nodeapi.PeerError{Node: peers[i], Reason: err.Error()})
		}
	}
	return failed
}

// connectOne connects one peer; a panicking connector counts as a failure.
func (a *Agent) connectOne(ctx context.Context, peer string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("connector panicked: %v", v)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
	defer cancel()
	return a.conn.Connect(ctx, peer)
}

// Handler returns the http.Handler that serves the whole protocol. Serve
// it with nodeapi.NewServer (or the agent's Server), which adds the protocol's
// connection limits and transport-level answers; a plain http.Server
// lacks them.
func (a *Agent) Handler() http.Handler {
	return nodeapi.Recoverer(a.log, http.HandlerFunc(a.route))
}

// Server returns a Server for the agent's handler, with the agent's TLS
// settings and limits. Serve it on the admin port:
//
//	srv, err := agent.Server()
//	...
//	go srv.Serve(ln)
//	defer srv.Shutdown(ctx)
func (a *Agent) Server() (*nodeapi.Server, error) {
	return nodeapi.NewServer(nodeapi.ServerOptions{Handler: a.Handler(), TLS: a.tls, Limits: a.limits, Logger: a.log})
}
