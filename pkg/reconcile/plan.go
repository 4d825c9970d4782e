package reconcile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/drover-mesh/drover/pkg/config"
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
	ReasonLinkFirst          = "link-first"          // bounded degree: new links before the set that drops old ones
)

// Phase orders the calls of a pass: the calls of one phase are made in
// parallel, and the next phase starts when they are done, or after
// Options.LeaveWait at most.
//
//	phase        | full mesh                  | bounded degree
//	-------------|----------------------------|-------------------------------------------
//	leave        | departing nodes leave      | -
//	link         | joiners' sets              | every set that adds links (joiners, drift
//	             |                            | repairs, bridges: desired ∪ live old peers)
//	leave-linked | -                          | departing nodes leave
//	settle       | every other set            | the sets that drop links
//
// A full mesh under OTP 25's prevent_overlapping_partitions must see a
// leaver call global:disconnect/0 before any peer drops it. A bounded
// overlay (connect_all false, so global does not react to removals) is
// kept connected instead: the links that replace a leaver's, or that a
// joiner brings, exist before any old link goes.
type Phase int

// Phases, in the order a pass applies them.
const (
	PhaseLeave Phase = iota
	PhaseLink
	PhaseLeaveLinked
	PhaseSettle
)

// String names the phase for logs.
func (p Phase) String() string {
	switch p {
	case PhaseLeave:
		return "leave"
	case PhaseLink:
		return "link"
	case PhaseLeaveLinked:
		return "leave-linked"
	case PhaseSettle:
		return "settle"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

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
	// Phase is when in the pass the call is made.
	Phase Phase
}

// Changes is a plan: the leaves of departing nodes and the peer sets of
// members, each sorted by cluster, then node (a member may have two sets
// in one pass: a link-first bridge, then its final set). Each change
// carries its Phase.
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
//	r         | refused   | connect_all true, bounded      | none; r is left out of the overlay
//	any       | any       | not read (unreachable)         | none
//
// Each change gets its Phase (see Phase); in a bounded-degree cluster a
// member that gains a link no other link-phase call brings and drops a
// live one gets two sets: a bridge (desired plus the live peers it
// drops) in the link phase, and its desired set, one revision later, in
// the settle phase.
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
// It applies ExcludeTransitive first.
func CalculateCluster(c DesiredCluster, observed map[mesh.NodeName]mesh.NodeStatus, opts PlanOptions) Changes {
	c = ExcludeTransitive(c, observed)
	var out Changes
	for _, d := range c.Departing {
		if s, ok := observed[d.Endpoint.Node]; ok {
			if ch, act := planDeparting(d, s, opts); act {
				out.Leave = append(out.Leave, ch)
			}
		}
	}
	out.SetPeers = planMembers(c, observed, opts)
	if c.Topology == config.TopologyBoundedDegree {
		out = phaseBounded(c, out)
	} else {
		phaseFullMesh(out)
	}
	sortChanges(out.Leave)
	sortChanges(out.SetPeers)
	return out
}

// phaseFullMesh sets the phases of a full mesh's changes (in place):
// leaves first, then joiners, then the rest.
func phaseFullMesh(c Changes) {
	for i := range c.Leave {
		c.Leave[i].Phase = PhaseLeave
	}
	for i, ch := range c.SetPeers {
		c.SetPeers[i].Phase = PhaseSettle
		if ch.Reason == ReasonJoin || ch.Reason == ReasonRejoin {
			c.SetPeers[i].Phase = PhaseLink
		}
	}
}

// phaseBounded sets the phases of a bounded-degree cluster's changes.
// Live peers are members and the nodes told to leave in this pass.
//   - Sets that add links and drop no live one (joiners, drift repairs,
//     the neighbours of a node that is gone) are linked first.
//   - A set that drops a live link settles after the leaves, once the
//     links it adds exist: a new link is dialled by whichever side links
//     first, and where neither side does, the first of the two (by name)
//     gets a bridge in the link phase (its desired set plus the live
//     peers it drops), then its desired set one revision later.
//   - Leaves come between.
func phaseBounded(c DesiredCluster, in Changes) Changes {
	out := Changes{Leave: slices.Clone(in.Leave)}
	live := c.MemberNames()
	for i := range out.Leave {
		out.Leave[i].Phase = PhaseLeaveLinked
		live = append(live, out.Leave[i].Endpoint.Node)
	}
	live = mesh.NewPeerSet(live...)
	linking := map[mesh.NodeName]bool{}
	for _, ch := range in.SetPeers {
		if len(ch.Added) > 0 && len(intersect(ch.Removed, live)) == 0 || len(ch.Missing) > 0 ||
			ch.Reason == ReasonJoin || ch.Reason == ReasonRejoin {
			linking[ch.Endpoint.Node] = true
		}
	}
	for _, ch := range in.SetPeers { // sorted by node: the first of two sides bridges
		if linking[ch.Endpoint.Node] {
			ch.Phase = PhaseLink
			out.SetPeers = append(out.SetPeers, ch)
			continue
		}
		ch.Phase = PhaseSettle
		if slices.ContainsFunc(ch.Added, func(n mesh.NodeName) bool { return !linking[n] }) {
			dropLive := intersect(ch.Removed, live)
			bridge := ch
			bridge.Phase, bridge.Reason = PhaseLink, ReasonLinkFirst
			bridge.Peers = mesh.NewPeerSet(append(slices.Clone(ch.Peers), dropLive...)...)
			bridge.Removed = ch.Removed.Minus(dropLive)
			out.SetPeers = append(out.SetPeers, bridge)
			linking[ch.Endpoint.Node] = true
			ch.Revision, ch.Added, ch.Removed = ch.Revision+1, nil, dropLive
		}
		out.SetPeers = append(out.SetPeers, ch)
	}
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
		if !ok || m.Held || m.Refused {
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
		return cmp.Or(cmp.Compare(a.Endpoint.Cluster, b.Endpoint.Cluster), cmp.Compare(a.Endpoint.Node, b.Endpoint.Node),
			cmp.Compare(a.Phase, b.Phase))
	})
}

// intersect returns the names in both sets, sorted.
func intersect(a, b mesh.PeerSet) mesh.PeerSet {
	return a.Minus(a.Minus(b))
}
