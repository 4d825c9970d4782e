package reconcile

import (
	"cmp"
	"slices"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Action is what a pass sends to one node.
type Action string

// Actions.
const (
	// ActionSetPeers sends the node its full desired peer set.
	ActionSetPeers Action = "set-peers"
	// ActionLeave tells a departing node to leave the mesh cleanly.
	ActionLeave Action = "leave"
)

// Reasons for a change, for logs and status.
const (
	ReasonJoin               = "join"                // the node holds no managed set yet
	ReasonRejoin             = "rejoin"              // the node left and is a member again
	ReasonPeersChanged       = "peers-changed"       // managed set differs from the desired set
	ReasonMissingConnections = "missing-connections" // drift: desired peers not connected
	ReasonDeparting          = "departing"           // not a member any more, still holds peers
)

// Change is one action for one node.
type Change struct {
	Action   Action
	Endpoint mesh.Endpoint
	// Revision to send; always above the node's observed revision.
	Revision uint64
	// Peers is the full desired peer set (set-peers only).
	Peers mesh.PeerSet
	// Added and Removed compare Peers with the node's managed set; Missing
	// lists desired peers the node is not connected to. For logs.
	Added, Removed, Missing mesh.PeerSet
	Reason                  string
}

// Changes is a plan. Leave is the first phase: departing nodes leave
// before, in the second phase (SetPeers), their peers drop them. Both are
// sorted by cluster, then node.
type Changes struct {
	Leave    []Change
	SetPeers []Change
}

// Len returns the number of changes.
func (c Changes) Len() int { return len(c.Leave) + len(c.SetPeers) }

// ForCluster returns the changes of one cluster.
func (c Changes) ForCluster(name string) Changes {
	in := func(ch Change) bool { return ch.Endpoint.Cluster != name }
	return Changes{
		Leave:    slices.DeleteFunc(slices.Clone(c.Leave), in),
		SetPeers: slices.DeleteFunc(slices.Clone(c.SetPeers), in),
	}
}

// PlanOptions tunes Calculate.
type PlanOptions struct {
	// MinRevision is the lowest revision to send: a clock-based value
	// (ClockRevision), so that revisions grow with time even when a status
	// is stale and two controllers at once do not keep outbidding each
	// other by one. Each change gets max(observed+1, MinRevision).
	MinRevision uint64
	// CheckConnections repairs drift: a member whose connected set lacks a
	// desired peer gets its set again with a new revision. Set it when the
	// statuses were just read (a drift pass), not for cached ones.
	CheckConnections bool
}

// Calculate compares the desired mesh with what the nodes reported and
// returns what to send. It is pure and deterministic.
//
//	node      | desired   | observed (managed / connected) | action
//	----------|-----------|--------------------------------|--------------------------------
//	a         | {b,c}     | {b,c} / {b,c}                  | none
//	a         | {b,c}     | {} / {}, revision 0            | set-peers {b,c} (join)
//	a         | {b,c}     | {b} / {b}                      | set-peers {b,c} (added c)
//	a         | {b}       | {b,c} / {b,c}                  | set-peers {b} (removed c)
//	a         | {b,c}     | {b,c} / {b}, CheckConnections  | set-peers {b,c} (missing c), new revision,
//	          |           |                                | unless c gets its own set in this pass
//	a         | {b,c}     | leaving                        | set-peers {b,c} (rejoin)
//	d         | departing | {a,b} / {a,b}                  | leave, in the first phase
//	d         | departing | leaving, or holds nothing      | none
//	h         | held      | anything                       | none; h stays in the others' sets
//	any       | any       | not read (unreachable)         | none
func Calculate(desired Desired, observed map[mesh.NodeName]mesh.NodeStatus, opts PlanOptions) Changes {
	var out Changes
	for _, c := range desired.Clusters {
		part := CalculateCluster(c, observed, opts)
		out.Leave = append(out.Leave, part.Leave...)
		out.SetPeers = append(out.SetPeers, part.SetPeers...)
	}
	sortChanges(out.Leave)
	sortChanges(out.SetPeers)
	return out
}

// CalculateCluster is Calculate for one cluster: pure, sorted by node.
func CalculateCluster(c DesiredCluster, observed map[mesh.NodeName]mesh.NodeStatus, opts PlanOptions) Changes {
	var out Changes
	for _, d := range c.Departing {
		if s, ok := observed[d.Endpoint.Node]; ok {
			if ch, act := planDeparting(d, s, opts); act {
				out.Leave = append(out.Leave, ch)
			}
		}
	}
	out.SetPeers = planMembers(c, observed, opts)
	sortChanges(out.Leave)
	sortChanges(out.SetPeers)
	return out
}

// planMembers plans a cluster's members. Connections are judged last: a
// peer that gets its own set in this pass connects the link itself, so
// its absence is no reason to push to the other side too.
func planMembers(c DesiredCluster, observed map[mesh.NodeName]mesh.NodeStatus, opts PlanOptions) []Change {
	var out, idle []Change
	pushed := map[mesh.NodeName]bool{}
	for _, m := range c.Members {
		s, ok := observed[m.Endpoint.Node]
		if !ok || m.Held {
			continue
		}
		if ch, act := planMember(m, s, opts); act {
			out = append(out, ch)
			pushed[m.Endpoint.Node] = true
		} else if opts.CheckConnections {
			idle = append(idle, ch)
		}
	}
	for _, ch := range idle {
		connected := observed[ch.Endpoint.Node].Connected
		if ch.Peers.Equal(connected) {
			continue
		}
		missing := slices.DeleteFunc(ch.Peers.Minus(connected), func(n mesh.NodeName) bool { return pushed[n] })
		if len(missing) > 0 {
			ch.Missing, ch.Reason = missing, ReasonMissingConnections
			out = append(out, ch)
		}
	}
	return out
}

// planMember decides whether a member needs its peer set for its managed
// set or leaving flag. When it does not, it returns the change it would
// make, for the connection check.
func planMember(m DesiredNode, s mesh.NodeStatus, opts PlanOptions) (Change, bool) {
	ch := Change{
		Action:   ActionSetPeers,
		Endpoint: m.Endpoint,
		Revision: NextRevision(s.Revision, opts.MinRevision),
		Peers:    m.Peers,
	}
	if !m.Peers.Equal(s.Managed) {
		ch.Added, ch.Removed = m.Peers.Minus(s.Managed), s.Managed.Minus(m.Peers)
	}
	switch {
	case s.Leaving:
		ch.Reason = ReasonRejoin
	case s.Revision == 0 && len(s.Managed) == 0 && len(m.Peers) > 0:
		ch.Reason = ReasonJoin
	case len(ch.Added) > 0 || len(ch.Removed) > 0:
		ch.Reason = ReasonPeersChanged
	default:
		return ch, false
	}
	return ch, true
}

// planDeparting tells a departing node to leave while it still holds or
// is connected to peers.
func planDeparting(d DesiredNode, s mesh.NodeStatus, opts PlanOptions) (Change, bool) {
	if s.Leaving || (len(s.Managed) == 0 && len(s.Connected) == 0) {
		return Change{}, false
	}
	return Change{
		Action:   ActionLeave,
		Endpoint: d.Endpoint,
		Revision: NextRevision(s.Revision, opts.MinRevision),
		Removed:  s.Managed,
		Reason:   ReasonDeparting,
	}, true
}

// NextRevision is the revision that follows observed: never lower than
// observed+1, and at least floor.
func NextRevision(observed, floor uint64) uint64 {
	return max(observed+1, floor)
}

func sortChanges(cs []Change) {
	slices.SortFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Endpoint.Cluster, b.Endpoint.Cluster), cmp.Compare(a.Endpoint.Node, b.Endpoint.Node))
	})
}
