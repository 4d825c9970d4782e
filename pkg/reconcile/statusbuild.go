package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Pass results, as in PassStatus.Result and Recorder.Pass.
const (
	resultOK      = "ok"
	resultError   = "error"
	resultAborted = "aborted"
)

// passResult is what one pass hands to buildStatus.
type passResult struct {
	number  int64
	job     work
	start   time.Time
	err     error
	aborted bool // Rancher could not be observed: nothing was done
	changes int
	reads   int // node statuses read
	// clusters are in config order; empty when aborted.
	clusters []clusterResult
	// set is the clusters the pass managed; role its leadership.
	set  ClusterSet
	role LeadershipStatus
}

// clusterResult is one cluster's part of a pass.
type clusterResult struct {
	managed *ManagedCluster
	desired DesiredCluster
	holds   mesh.PeerSet
	// recomputed is false for a cluster the pass left alone (its Rancher
	// data unchanged, nothing pending): its status stays as it was.
	recomputed bool
	nodes      map[mesh.NodeName]nodeView // when recomputed
}

// nodeView is what the status shows of a node's facts.
type nodeView struct {
	observed     *mesh.NodeStatus
	lastPush     *PushResult
	backoffUntil time.Time
	plan         *PlannedChange
}

// buildStatus returns the controller's view after a pass, from the view
// before it (prev, never modified) and the pass's result. It is pure.
//
//   - An aborted pass keeps the last complete view, with every cluster
//     Stale and not Ready.
//   - Otherwise each cluster the pass recomputed gets its node views and
//     conditions anew; a cluster it left alone keeps its status as it was.
//   - Every managed cluster carries the conditions its source states (the
//     configuration's); a cluster that left the configuration stays, as
//     last seen, marked Unmanaged.
//   - A condition keeps its LastTransitionTime while its status holds.
//
// The result shares unchanged parts with prev and the pass's values; both
// are immutable, and Controller.Status hands out deep copies.
func buildStatus(prev Status, r passResult, now time.Time) Status {
	st := Status{Passes: r.number, LastObserved: prev.LastObserved, LastPass: PassStatus{
		Start: r.start, Duration: now.Sub(r.start), Result: resultOK, Changes: r.changes,
		Kind: string(r.job.Kind), Relist: r.job.Relist, Full: r.job.Full,
	}, Leadership: r.role, Config: r.set.Config, Conditions: mergeConditions(prev.Conditions, r.set.Conditions, now)}
	if r.aborted {
		st = abortedStatus(prev, st, r, now)
		st.Clusters = withUnmanaged(st.Clusters, prev, r.set, now)
		return st
	}
	if r.err != nil {
		st.LastPass.Result, st.LastPass.Error = resultError, r.err.Error()
	}
	st.LastObserved = r.start
	old := indexClusters(prev)
	st.Clusters = make([]ClusterStatus, 0, len(r.clusters))
	for _, cr := range r.clusters {
		o, had := old[cr.desired.Name]
		if had && !cr.recomputed {
			o.Conditions = mergeConditions(o.Conditions, sourceConditions(cr.managed), now)
			st.Clusters = append(st.Clusters, o)
			continue
		}
		st.Clusters = append(st.Clusters, buildCluster(o, cr, now))
	}
	st.Clusters = withUnmanaged(st.Clusters, prev, r.set, now)
	return st
}

// abortedStatus is the view after a pass that could not observe Rancher:
// the managed clusters as last seen (a new one as a skeleton), Stale.
func abortedStatus(prev, st Status, r passResult, now time.Time) Status {
	st.LastPass.Result, st.LastPass.Error = resultAborted, r.err.Error()
	want := []Condition{
		cond(ConditionStale, true, "ObservationFailed", r.err.Error()),
		cond(ConditionReady, false, "Stale", "Rancher could not be observed; nothing is changed until it can"),
	}
	old := indexClusters(prev)
	st.Clusters = make([]ClusterStatus, 0, len(r.set.Clusters))
	for i := range r.set.Clusters {
		mc := &r.set.Clusters[i]
		cs, had := old[mc.Name]
		if !had || cs.Unmanaged {
			cs = skeletonOf(mc)
		}
		cs.Conditions = mergeConditions(cs.Conditions, append(want, sourceConditions(mc)...), now)
		st.Clusters = append(st.Clusters, cs)
	}
	return st
}

// skeletonOf is the status of a managed cluster before it was observed.
func skeletonOf(mc *ManagedCluster) ClusterStatus {
	return ClusterStatus{Name: mc.Name, Policy: mc.Policy, Topology: mc.Topology, Degree: mc.DegreeOf(), Source: mc.Source, Stack: mc.Stack,
		Services: mc.Services, Labelled: mc.Labelled, Membership: mc.Membership}
}

// sourceConditions are the conditions the source states for a cluster.
func sourceConditions(mc *ManagedCluster) []Condition {
	if mc == nil {
		return nil
	}
	return mc.Conditions
}

// maxUnmanaged bounds the clusters that left the configuration and are
// still shown: the most recent ones.
const maxUnmanaged = 64

// withUnmanaged appends to managed the clusters of prev that are not in
// set, marked Unmanaged (from now, for those that just left), with the
// newest kept when there are more than maxUnmanaged.
func withUnmanaged(managed []ClusterStatus, prev Status, set ClusterSet, now time.Time) []ClusterStatus {
	names := set.names()
	var gone []ClusterStatus
	for _, cs := range prev.Clusters {
		if names[cs.Name] {
			continue
		}
		if !cs.Unmanaged {
			cs.Unmanaged, cs.UnmanagedSince = true, now
			cs.Conditions = mergeConditions(cs.Conditions, []Condition{cond(ConditionManaged, false, "LeftConfiguration",
				"the cluster left the configuration (removed from the file, or its services lost their io.drover.cluster label): nothing is sent to its nodes, which keep their links; shown as last seen")}, now)
		}
		gone = append(gone, cs)
	}
	if len(gone) > maxUnmanaged {
		slices.SortStableFunc(gone, func(a, b ClusterStatus) int { return b.UnmanagedSince.Compare(a.UnmanagedSince) })
		gone = gone[:maxUnmanaged]
	}
	return append(managed, gone...)
}

// newlyUnmanaged names the clusters that next shows as unmanaged and prev
// did not.
func newlyUnmanaged(prev, next Status) []string {
	old := indexClusters(prev)
	var out []string
	for _, cs := range next.Clusters {
		if o, had := old[cs.Name]; cs.Unmanaged && (!had || !o.Unmanaged) {
			out = append(out, cs.Name)
		}
	}
	return out
}

func indexClusters(s Status) map[string]ClusterStatus {
	m := make(map[string]ClusterStatus, len(s.Clusters))
	for _, c := range s.Clusters {
		m[c.Name] = c
	}
	return m
}

// buildCluster builds a recomputed cluster's status; old is its last one.
func buildCluster(old ClusterStatus, cr clusterResult, now time.Time) ClusterStatus {
	prevConds := make(map[mesh.NodeName][]Condition, len(old.Nodes))
	for _, n := range old.Nodes {
		prevConds[n.Node] = n.Conditions
	}
	dc := cr.desired
	cs := ClusterStatus{Name: dc.Name, Policy: dc.Policy, Topology: dc.Topology, Degree: dc.Degree,
		Nodes: make([]NodeStatus, 0, len(dc.Members)+len(dc.Departing))}
	if cr.managed != nil {
		sk := skeletonOf(cr.managed)
		cs.Source, cs.Stack, cs.Services, cs.Labelled, cs.Membership = sk.Source, sk.Stack, sk.Services, sk.Labelled, sk.Membership
	}
	add := func(n DesiredNode, member bool) {
		v := cr.nodes[n.Endpoint.Node]
		ns := NodeStatus{Node: n.Endpoint.Node, ContainerID: n.Container.ContainerID, ContainerName: n.Container.Name,
			Service: n.Container.Service, IP: n.Container.IP, URL: n.Endpoint.URL,
			State: n.Container.State, HealthState: n.Container.HealthState, Member: member, Held: n.Held, Refused: n.Refused,
			Conditions: prevConds[n.Endpoint.Node], LastPush: v.lastPush, BackoffUntil: v.backoffUntil, Plan: v.plan}
		if member && !n.Held {
			ns.Desired = n.Peers
			cs.Members++
		}
		if v.observed != nil {
			ns.Observed, ns.Leaving = v.observed, v.observed.Leaving
		}
		ns.Conditions = nodeConditions(ns, now)
		cs.Nodes = append(cs.Nodes, ns)
	}
	for _, m := range dc.Members {
		add(m, true)
	}
	for _, d := range dc.Departing {
		add(d, false)
	}
	cs.Conditions = mergeConditions(withoutCondition(old.Conditions, ConditionManaged),
		append(clusterConditions(cs, cr.holds), sourceConditions(cr.managed)...), now)
	return cs
}

// ReasonConnectAllEnabled is the Converged reason of a bounded-degree
// member that runs with connect_all true, and of its cluster.
const ReasonConnectAllEnabled = "ConnectAllEnabled"

// connectAllFix says what to do about a refused node.
const connectAllFix = "start it with -kernel connect_all false (vm.args or ERL_FLAGS; config/node/rel/env.sh.eex " +
	"sets it from DROVER_CONNECT_ALL, false by default), then it joins the overlay"

// clusterConditions computes the conditions of an observed cluster.
func clusterConditions(cs ClusterStatus, held mesh.PeerSet) []Condition {
	var pending, degraded, refused []mesh.NodeName
	for _, n := range cs.Nodes {
		if c, _ := FindCondition(n.Conditions, ConditionConverged); c.Status != ConditionTrue {
			pending = append(pending, n.Node)
		}
		if n.Refused {
			refused = append(refused, n.Node)
		}
		if c, _ := FindCondition(n.Conditions, ConditionDegraded); n.Member && c.Status == ConditionTrue {
			degraded = append(degraded, n.Node)
		}
	}
	conv := cond(ConditionConverged, true, "Converged", fmt.Sprintf("%d members hold their peers", cs.Members))
	switch {
	case len(held) > 0:
		conv = cond(ConditionConverged, false, "DropHeld",
			fmt.Sprintf("holding the removal of %d members for a confirming pass: %s", len(held), joinNames(held)))
	case len(refused) > 0:
		conv = cond(ConditionConverged, false, ReasonConnectAllEnabled,
			fmt.Sprintf("%d of %d members run with connect_all true and get no peers (topology %s, degree %d): %s; %s",
				len(refused), cs.Members, cs.Topology, cs.Degree, joinNames(refused), connectAllFix))
	case len(pending) > 0:
		conv = cond(ConditionConverged, false, "NodesPending",
			fmt.Sprintf("%d of %d nodes not converged: %s", len(pending), len(cs.Nodes), joinNames(pending)))
	}
	deg := cond(ConditionDegraded, false, "AllReachable", "")
	if len(degraded) > 0 {
		deg = cond(ConditionDegraded, true, "NodesFailing",
			fmt.Sprintf("%d members cannot be read or changed: %s", len(degraded), joinNames(degraded)))
	}
	ready := cond(ConditionReady, conv.Status == ConditionTrue, conv.Reason, conv.Message)
	return []Condition{ready, conv, cond(ConditionStale, false, "Observed", ""), deg}
}

// nodeConditions computes a node's conditions from its view.
func nodeConditions(n NodeStatus, now time.Time) []Condition {
	conv := nodeConverged(n)
	reason, msg := "Converged", ""
	switch {
	case conv:
	case n.Refused:
		reason = ReasonConnectAllEnabled
		msg = "the node runs with connect_all true, so global would connect it to every node its peers know " +
			"and undo the bounded-degree overlay: it gets no peers; " + connectAllFix
	case n.Observed != nil:
		reason, msg = "Pending", describeGap(n)
	default:
		reason, msg = "Unreachable", "no status read yet"
	}
	deg, dreason, dmsg := false, "Reachable", ""
	if n.LastPush != nil && n.LastPush.Result == pushError {
		deg, dreason, dmsg = true, "PushFailed", n.LastPush.Error
	}
	if !n.BackoffUntil.IsZero() {
		deg, dreason, dmsg = true, "BackingOff", "calls held back after failures until "+n.BackoffUntil.Format(time.RFC3339Nano)
	}
	rreason := "Converged"
	if !conv {
		rreason = reason
	}
	return mergeConditions(n.Conditions, []Condition{
		cond(ConditionConverged, conv, reason, msg),
		cond(ConditionDegraded, deg, dreason, dmsg),
		cond(ConditionReady, conv && !deg, rreason, msg),
	}, now)
}

// mergeConditions returns old with each of want set: a condition keeps its
// LastTransitionTime while its status does not change, a new one gets now,
// and conditions of other types stay. old is not modified, and is returned
// as it is when want changes nothing.
func mergeConditions(old, want []Condition, now time.Time) []Condition {
	if sameConditions(old, want) {
		return old
	}
	out := make([]Condition, len(old), len(old)+len(want))
	copy(out, old)
	for _, w := range want {
		i := conditionIndex(out, w.Type)
		if i < 0 {
			w.LastTransitionTime = now
			out = append(out, w)
			continue
		}
		w.LastTransitionTime = out[i].LastTransitionTime
		if out[i].Status != w.Status {
			w.LastTransitionTime = now
		}
		out[i] = w
	}
	return out
}

// sameConditions reports whether old already holds want, transition times
// aside.
func sameConditions(old, want []Condition) bool {
	for _, w := range want {
		i := conditionIndex(old, w.Type)
		if i < 0 {
			return false
		}
		if o := old[i]; o.Status != w.Status || o.Reason != w.Reason || o.Message != w.Message {
			return false
		}
	}
	return true
}

// withoutCondition returns conds without the condition of type typ (conds
// itself when it has none).
func withoutCondition(conds []Condition, typ string) []Condition {
	if conditionIndex(conds, typ) < 0 {
		return conds
	}
	return slices.DeleteFunc(slices.Clone(conds), func(c Condition) bool { return c.Type == typ })
}

func conditionIndex(conds []Condition, typ string) int {
	for i, c := range conds {
		if c.Type == typ {
			return i
		}
	}
	return -1
}

// conditionChange is a cluster condition whose status changed.
type conditionChange struct {
	cluster string
	c       Condition
	was     string
}

// conditionChanges lists the cluster conditions whose status differs
// between two views, for the log. A condition that first appears is listed
// only when it is not the healthy value.
func conditionChanges(prev, next Status) []conditionChange {
	old := indexClusters(prev)
	var out []conditionChange
	for _, cs := range next.Clusters {
		p := old[cs.Name].Conditions
		for _, c := range cs.Conditions {
			pc, existed := FindCondition(p, c.Type)
			if (existed && pc.Status != c.Status) || (!existed && !ConditionHealthy(c)) {
				out = append(out, conditionChange{cluster: cs.Name, c: c, was: pc.Status})
			}
		}
	}
	return out
}
