package nodeapitest

import (
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// DefaultToken is the token of fake nodes when Options.Token is empty.
const DefaultToken = "nodeapitest-token"

// DefaultCluster is the cluster of fake nodes' endpoints when
// Options.Cluster is empty.
const DefaultCluster = "test"

// Network is the shared mesh of fake nodes started with it: a link shows
// in both nodes' Connected, and a node that is down disappears from every
// other node's view.
type Network struct {
	mesh *nodeagent.MemoryMesh
	mu   sync.Mutex
	seq  int
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{mesh: nodeagent.NewMemoryMesh(nodeagent.MemoryMeshOptions{})}
}

// Mesh returns the network's links.
func (n *Network) Mesh() *nodeagent.MemoryMesh { return n.mesh }

func (n *Network) nextName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	return fmt.Sprintf("node%d@127.0.0.1", n.seq)
}

// Options configures a fake node.
type Options struct {
	// Node is the node's name. Default "node<N>@127.0.0.1", N counting up
	// per network.
	Node string
	// Token is the agent's bearer token. Default DefaultToken.
	Token string
	// Cluster goes into the node's Endpoint. Default DefaultCluster.
	Cluster string
	// Network is the mesh the node joins. Default: a network of its own.
	Network *Network
	// ConnectTimeout is the agent's connect timeout. Default
	// nodeagent.DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Flags are reported in the node's status.
	Flags nodeapi.Flags
	// TLS, when set, makes the node serve HTTPS with it (its URL is then
	// https://...).
	TLS *tls.Config
	// Limits are the node's connection limits; zero fields take the
	// protocol's defaults.
	Limits nodeapi.Limits
}

// Fault is how a fake node misbehaves.
type Fault int

const (
	// FaultNone: the node answers normally.
	FaultNone Fault = iota
	// FaultError: every call but health gets 500 internal.
	FaultError
	// FaultHang: every call hangs until the client gives up or the fault
	// changes.
	FaultHang
	// FaultDown: connections are closed without an answer, and the node is
	// out of the mesh (no links; nobody can connect to it).
	FaultDown
)

// Call is a peer-set or leave request the node received, whatever the
// answer.
type Call struct {
	// Leave is true for POST /v1/leave.
	Leave    bool
	Revision uint64
	// Peers as sent (nil for a leave).
	Peers []string
	// StatusCode is the HTTP status of the answer (0 when the node was
	// down or hanging).
	StatusCode int
}

// Node is a recording fake node: the Go agent behind its hardened server
// on a loopback port.
type Node struct {
	name  string
	opts  Options
	srv   *nodeapi.Server
	url   string
	conn  nodeagent.Connector
	mu    sync.Mutex
	agent *nodeagent.Agent
	fault Fault
	wake  chan struct{} // closed and replaced whenever the fault changes
	calls []Call
	chgs  []nodeagent.Change
}
