package reconcile

import (
	"context"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Observer returns a complete snapshot of every configured cluster, or an
// error. It never returns a partial snapshot (safety rule 1).
// pkg/rancherapi implements it.
type Observer interface {
	Snapshot(ctx context.Context) (mesh.Snapshot, error)
}

// Watcher calls onChange whenever something relevant may have changed. It
// blocks until ctx is done, reconnecting on its own. Events are triggers,
// not data: a pass always re-reads state. pkg/rancherapi implements it.
type Watcher interface {
	Watch(ctx context.Context, onChange func()) error
}

// ContainerLookup reads one container by its primary IP, for the fast path
// after a node's announcement. ok is false when no container has that IP.
// pkg/rancherapi implements it.
type ContainerLookup interface {
	ContainerByIP(ctx context.Context, ip string) (m mesh.Member, ok bool, err error)
}

// Nodes talks to node agents. pkg/nodeapi.Client implements it. Every call
// is bounded by ctx and the implementation's own timeouts.
type Nodes interface {
	Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error)
	SetPeers(ctx context.Context, ep mesh.Endpoint, revision uint64, peers mesh.PeerSet) (mesh.NodeStatus, error)
	Leave(ctx context.Context, ep mesh.Endpoint, revision uint64) (mesh.NodeStatus, error)
}
