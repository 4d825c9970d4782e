package reconcile

import (
	"slices"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// DropGuard holds a sudden drop of members for one confirming pass: when a
// pass would remove more than a cluster's MaxDropPercent of the members
// the previous pass had, the removed members are kept (Held) in their
// peers' sets and nothing is sent to them; the next snapshot must report
// them gone again before they are removed. A bad observation rarely
// survives two snapshots; a real mass stop only waits one pass.
//
// The zero value is ready to use; it is not safe for concurrent use.
type DropGuard struct {
	last map[string][]DesiredNode // members (held ones included) of the last pass
	held map[string]mesh.PeerSet  // removals held by the last pass
}

// Guard returns d with sudden drops held, and the held nodes per cluster.
// It remembers d's members for the next call. The first call for a
// cluster holds nothing.
func (g *DropGuard) Guard(d Desired) (Desired, map[string]mesh.PeerSet) {
	out := Desired{Clusters: make([]DesiredCluster, len(d.Clusters))}
	holds := map[string]mesh.PeerSet{}
	for i, c := range d.Clusters {
		gc, held := g.GuardCluster(c)
		out.Clusters[i] = gc
		if len(held) > 0 {
			holds[c.Name] = held
		}
	}
	return out, holds
}

// GuardCluster is Guard for one cluster: it returns c with a sudden drop
// held, and the held nodes, and remembers c's members for the next call.
// A pass that leaves a cluster alone (its data unchanged, nothing held)
// need not call it: the guard's view of it stays right.
func (g *DropGuard) GuardCluster(c DesiredCluster) (DesiredCluster, mesh.PeerSet) {
	if g.last == nil {
		g.last = map[string][]DesiredNode{}
		g.held = map[string]mesh.PeerSet{}
	}
	prev, seen := g.last[c.Name]
	gc, held := c, mesh.PeerSet(nil)
	if seen {
		gc, held = guardCluster(prev, g.held[c.Name], c)
	}
	g.last[c.Name] = gc.Members
	g.held[c.Name] = held
	return gc, held
}

// guardCluster is the pure core of Guard: prev are the members of the last
// pass, held the removals it held. Removals held last time are confirmed
// now; fresh removals above the threshold are held.
func guardCluster(prev []DesiredNode, held mesh.PeerSet, cur DesiredCluster) (DesiredCluster, mesh.PeerSet) {
	curNames := cur.MemberNames()
	var fresh []DesiredNode
	for _, p := range prev {
		if !curNames.Contains(p.Endpoint.Node) && !held.Contains(p.Endpoint.Node) {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 || len(fresh)*100 <= cur.MaxDropPercent*len(prev) {
		return cur, nil
	}
	out := cur
	names := make([]mesh.NodeName, 0, len(fresh))
	members := slices.Clone(cur.Members)
	for _, f := range fresh {
		f.Held, f.Peers = true, nil
		members = append(members, f)
		names = append(names, f.Endpoint.Node)
	}
	newHeld := mesh.NewPeerSet(names...)
	slices.SortFunc(members, compareNode)
	out.Members = withPeers(cur.Topology, members)
	out.Departing = slices.DeleteFunc(slices.Clone(cur.Departing), func(n DesiredNode) bool {
		return newHeld.Contains(n.Endpoint.Node)
	})
	return out, newHeld
}
