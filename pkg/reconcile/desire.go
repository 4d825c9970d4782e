package reconcile

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// Desired is the mesh every node should hold, for every configured cluster,
// in config order. It is computed by Desire and never mutated afterwards.
type Desired struct {
	Clusters []DesiredCluster
}

// DesiredCluster is one cluster's wanted mesh.
type DesiredCluster struct {
	// Name is the cluster name from the config.
	Name string
	// Topology is the shape of the mesh (config.TopologyFullMesh or
	// config.TopologyBoundedDegree), Degree its k (0 for a full mesh).
	Topology string
	Degree   int
	// Policy is config.PolicySync or config.PolicyAddOnly.
	Policy string
	// MaxDropPercent is the sudden-drop threshold (see DropGuard).
	MaxDropPercent int
	// Members are the containers that count as members under the cluster's
	// membership rule, sorted by node name, each with its desired peers.
	Members []DesiredNode
	// Departing are containers that still exist with an IP but are not
	// members (stopping, stopped, unhealthy, not yet healthy, ...), sorted by
	// node name. Those that still hold peers are told to leave.
	Departing []DesiredNode
}

// DesiredNode is one node of a cluster.
type DesiredNode struct {
	Endpoint mesh.Endpoint
	// Container is what Rancher reported about the node's container.
	Container mesh.Member
	// Peers is the desired peer set; empty for departing nodes.
	Peers mesh.PeerSet
	// Held is true for a removed member kept in the mesh for one confirming
	// pass by the sudden-drop guard: it stays in its peers' sets, and
	// nothing is sent to it.
	Held bool
	// Refused is true for a member of a bounded-degree cluster that
	// reports connect_all true (see ExcludeTransitive): it is left out of
	// the overlay, and nothing is sent to it.
	Refused bool
}

// Cluster returns the desired cluster with the given name.
func (d Desired) Cluster(name string) (DesiredCluster, bool) {
	for _, c := range d.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return DesiredCluster{}, false
}

// MemberNames returns the names of the cluster's members (held ones
// included), sorted.
func (c DesiredCluster) MemberNames() mesh.PeerSet {
	names := make([]mesh.NodeName, 0, len(c.Members))
	for _, m := range c.Members {
		names = append(names, m.Endpoint.Node)
	}
	return mesh.NewPeerSet(names...)
}

// Desire joins the configured clusters with a snapshot into the desired
// mesh. Every cluster of the config must be in the snapshot: a missing one
// means the observation is partial, and Desire returns an error rather
// than a mesh without it (safety rule 1). It is pure.
func Desire(clusters []config.Cluster, snap mesh.Snapshot) (Desired, error) {
	out := Desired{Clusters: make([]DesiredCluster, 0, len(clusters))}
	for _, cc := range clusters {
		obs, ok := snap.Cluster(cc.Name)
		if !ok {
			return Desired{}, fmt.Errorf("cluster %s: %w", cc.Name, ErrPartialSnapshot)
		}
		out.Clusters = append(out.Clusters, desireCluster(cc, obs))
	}
	return out, nil
}

// desireCluster splits the cluster's containers into members and departing
// nodes and gives each member its peer set.
func desireCluster(cc config.Cluster, obs mesh.Cluster) DesiredCluster {
	dc := DesiredCluster{
		Name:     cc.Name,
		Topology: cc.Topology,
		Degree:   cc.DegreeOf(),
		Policy:   cc.Policy,
	}
	dc.MaxDropPercent = config.DefaultMaxDropPercent
	if cc.MaxDropPercent != nil {
		dc.MaxDropPercent = *cc.MaxDropPercent
	}
	members := map[mesh.NodeName]DesiredNode{}
	departing := map[mesh.NodeName]DesiredNode{}
	for _, svc := range obs.Services {
		for _, m := range svc.Containers {
			if m.IP == "" {
				continue // not reachable, and not nameable: nothing to do with it
			}
			n := DesiredNode{Endpoint: endpointFor(cc, obs.Stack, m), Container: m}
			if mesh.CheckNodeName(string(n.Endpoint.Node)) != nil {
				// Agents refuse a peer set naming it, so it would break its
				// peers' pushes: it is not nameable (config validation
				// renders a sample, but {{name}} comes from Rancher).
				continue
			}
			if IsMember(cc.Membership, m) {
				members[n.Endpoint.Node] = n
			} else {
				departing[n.Endpoint.Node] = n
			}
		}
	}
	for name := range members {
		delete(departing, name) // one IP, two containers: the member wins
	}
	dc.Members = sortedNodes(members)
	dc.Departing = sortedNodes(departing)
	dc.Members = withPeers(dc, dc.Members)
	return dc
}

// withPeers returns members (sorted by name) with their desired peer sets
// filled in for the cluster's topology: every other member in a full mesh,
// the overlay of Overlay otherwise. Refused members hold no peers and are
// nobody's peer.
func withPeers(dc DesiredCluster, members []DesiredNode) []DesiredNode {
	out := slices.Clone(members)
	if dc.Topology != config.TopologyBoundedDegree {
		all := make(mesh.PeerSet, 0, len(members))
		for _, m := range members {
			if !m.Refused {
				all = append(all, m.Endpoint.Node)
			}
		}
		for i := range out {
			out[i].Peers = nil
			if out[i].Refused {
				continue
			}
			peers := make(mesh.PeerSet, 0, len(all))
			for _, n := range all {
				if n != out[i].Endpoint.Node {
					peers = append(peers, n)
				}
			}
			out[i].Peers = peers // all is sorted, so peers is too
		}
		return out
	}
	at := make([]int, 0, len(members)) // indexes of the members in the overlay
	set := make(mesh.PeerSet, 0, len(members))
	for i, m := range members {
		out[i].Peers = nil
		if !m.Refused {
			at = append(at, i)
			set = append(set, m.Endpoint.Node)
		}
	}
	for j, peers := range overlayIndexes(dc.Topology, dc.Degree, set) {
		out[at[j]].Peers = peerSetOf(set, peers)
	}
	return out
}

// IsMember reports whether a container counts as a member under rule:
// its state is one of rule.States and its health state one of
// rule.HealthStates ("" standing for no health check).
func IsMember(rule config.Membership, m mesh.Member) bool {
	return slices.Contains(rule.States, m.State) && slices.Contains(rule.HealthStates, m.HealthState)
}

// endpointFor names a container's node and builds its admin endpoint.
func endpointFor(cc config.Cluster, stack string, m mesh.Member) mesh.Endpoint {
	name := config.RenderNodeName(cc.NodeName, config.NodeVars{
		Service: m.Service, Stack: stack, PrimaryIP: m.IP, Name: m.Name,
	})
	return mesh.Endpoint{
		Cluster:     cc.Name,
		Node:        mesh.NodeName(name),
		ContainerID: m.ContainerID,
		URL:         cc.Admin.Scheme + "://" + net.JoinHostPort(m.IP, strconv.Itoa(cc.Admin.Port)),
	}
}

func sortedNodes(m map[mesh.NodeName]DesiredNode) []DesiredNode {
	out := make([]DesiredNode, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	slices.SortFunc(out, compareNode)
	return out
}

func compareNode(a, b DesiredNode) int { return cmp.Compare(a.Endpoint.Node, b.Endpoint.Node) }
