package reconcile

import (
	"context"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Observer returns complete snapshots of every configured cluster.
// pkg/rancherapi implements it.
type Observer interface {
	// Snapshot returns a complete snapshot of every configured cluster. With
	// relist false it may answer from a cache fed by events (no API
	// request); with relist true it lists Rancher first (the resync). It
	// never returns a partial snapshot (safety rule 1).
	Snapshot(ctx context.Context, relist bool) (mesh.Snapshot, error)
}

// Watcher calls onChange whenever something relevant may have changed. It
// blocks until ctx is done, reconnecting on its own. Events are triggers,
// not data: a pass always reads state. pkg/rancherapi implements it.
type Watcher interface {
	Watch(ctx context.Context, onChange func()) error
}

// ContainerLookup reads announced containers, for the fast path after
// node announcements. pkg/rancherapi implements it.
type ContainerLookup interface {
	// ContainersByIP reads, in one targeted request where Rancher allows,
	// the containers of the configured services whose primary IP is one of
	// ips; IPs without a container are absent from the map.
	ContainersByIP(ctx context.Context, ips []string) (map[string]mesh.Member, error)
}

// Nodes talks to node agents. pkg/nodeapi.Client implements it. Every call
// is bounded by ctx and the implementation's own timeouts. An error names
// the call and the node, as os.PathError names the path (nodeapi.Client:
// "reading status of hello@10.42.3.7: ..."): the loop joins and logs
// errors as they are, without adding the node again.
type Nodes interface {
	Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error)
	SetPeers(ctx context.Context, ep mesh.Endpoint, revision uint64, peers mesh.PeerSet) (mesh.NodeStatus, error)
	Leave(ctx context.Context, ep mesh.Endpoint, revision uint64) (mesh.NodeStatus, error)
}
