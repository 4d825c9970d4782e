package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrNodeUnreachable is returned by a MemoryMesh connect to a node that is
// down, isolated or unknown.
var ErrNodeUnreachable = errors.New("node unreachable")

// MemoryMeshOptions tunes a MemoryMesh.
type MemoryMeshOptions struct {
	// AllowUnknown lets nodes connect to names that were never registered,
	// as if every name were a live node. Default false: connecting to an
	// unregistered name fails, as connecting to a node that does not exist.
	AllowUnknown bool
}

// MemoryMesh is an in-memory model of distributed Erlang links shared by
// several Go agents: a link is bidirectional (it shows in both nodes'
// Connected), a node that is down or isolated loses every link and cannot
// be connected, and nothing is connected transitively (as with
// -connect_all false). It is safe for concurrent use.
type MemoryMesh struct {
	allowUnknown bool

	mu       sync.Mutex
	up       map[string]bool            // registered nodes and whether they are up
	isolated map[string]bool            // nodes cut off from the network
	links    map[string]map[string]bool // undirected adjacency
}

// NewMemoryMesh returns an empty mesh.
func NewMemoryMesh(opts MemoryMeshOptions) *MemoryMesh {
	return &MemoryMesh{
		allowUnknown: opts.AllowUnknown,
		up:           map[string]bool{},
		isolated:     map[string]bool{},
		links:        map[string]map[string]bool{},
	}
}

// Connector returns the Connector of node, registering it as up.
func (m *MemoryMesh) Connector(node string) *MemoryConnector {
	m.SetUp(node, true)
	return &MemoryConnector{mesh: m, self: node}
}

// SetUp marks node as up or down. A node going down loses every link.
func (m *MemoryMesh) SetUp(node string, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.up[node] = up
	if !up {
		m.dropLocked(node)
	}
}

// Isolate cuts node off the network (cut=true: every link dropped, no new
// connection either way) or heals it (cut=false; links stay dropped until
// someone connects again).
func (m *MemoryMesh) Isolate(node string, cut bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.isolated[node] = cut
	if cut {
		m.dropLocked(node)
	}
}

// Remove forgets node entirely (its links too).
func (m *MemoryMesh) Remove(node string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropLocked(node)
	delete(m.up, node)
	delete(m.isolated, node)
}

// Connected returns the sorted names linked to node.
func (m *MemoryMesh) Connected(node string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.links[node]))
	for p := range m.links[node] {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (m *MemoryMesh) reachableLocked(node string) bool {
	if m.isolated[node] {
		return false
	}
	up, known := m.up[node]
	return up || !known && m.allowUnknown
}

func (m *MemoryMesh) connect(from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if from == to {
		return nil
	}
	if !m.reachableLocked(from) || !m.reachableLocked(to) {
		return fmt.Errorf("connecting %s to %s: %w", from, to, ErrNodeUnreachable)
	}
	m.linkLocked(from, to)
	m.linkLocked(to, from)
	return nil
}

func (m *MemoryMesh) disconnect(a, b string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.links[a], b)
	delete(m.links[b], a)
}

func (m *MemoryMesh) linkLocked(a, b string) {
	if m.links[a] == nil {
		m.links[a] = map[string]bool{}
	}
	m.links[a][b] = true
}

func (m *MemoryMesh) dropLocked(node string) {
	for p := range m.links[node] {
		delete(m.links[p], node)
	}
	delete(m.links, node)
}

// MemoryConnector is one node's Connector on a MemoryMesh.
type MemoryConnector struct {
	mesh *MemoryMesh
	self string
}

// Connect links the node to peer, or fails with ErrNodeUnreachable.
func (c *MemoryConnector) Connect(ctx context.Context, peer string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.mesh.connect(c.self, peer)
}

// Disconnect drops the link to peer, if any.
func (c *MemoryConnector) Disconnect(peer string) error {
	c.mesh.disconnect(c.self, peer)
	return nil
}

// Connected returns the sorted names linked to the node.
func (c *MemoryConnector) Connected() []string { return c.mesh.Connected(c.self) }
