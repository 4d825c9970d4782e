package reconcile

import (
	"fmt"
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
	// clusters are in config order; empty when aborted.
	clusters []clusterResult
	// skeleton names the configured clusters, for a status that has none
	// yet.
	skeleton []ClusterStatus
}

// clusterResult is one cluster's part of a pass.
type clusterResult struct {
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
}

// buildStatus returns the controller's view after a pass, from the view
// before it (prev, never modified) and the pass's result. It is pure.
//
//   - An aborted pass keeps the last complete view, with every cluster
//     Stale and not Ready.
//   - Otherwise each cluster the pass recomputed gets its node views and
//     conditions anew; a cluster it left alone keeps its status as it was.
//   - A condition keeps its LastTransitionTime while its status holds.
//
// The result shares unchanged parts with prev and the pass's values; both
// are immutable, and Controller.Status hands out deep copies.
func buildStatus(prev Status, r passResult, now time.Time) Status {
	st := Status{Passes: r.number, LastObserved: prev.LastObserved, LastPass: PassStatus{
		Start: r.start, Duration: now.Sub(r.start), Result: resultOK, Changes: r.changes,
		Kind: string(r.job.Kind), Relist: r.job.Relist, Full: r.job.Full,
	}}
	if r.aborted {
		return abortedStatus(prev, st, r, now)
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
			st.Clusters = append(st.Clusters, o)
			continue
		}
		st.Clusters = append(st.Clusters, buildCluster(o, cr, now))
	}
	return st
}

// abortedStatus is the view after a pass that could not observe Rancher.
func abortedStatus(prev, st Status, r passResult, now time.Time) Status {
	st.LastPass.Result, st.LastPass.Error = resultAborted, r.err.Error()
	base := prev.Clusters
	if len(base) == 0 {
		base = r.skeleton
	}
	want := []Condition{
		cond(ConditionStale, true, "ObservationFailed", r.err.Error()),
		cond(ConditionReady, false, "Stale", "Rancher could not be observed; nothing is changed until it can"),
	}
	st.Clusters = make([]ClusterStatus, len(base))
	for i, cs := range base {
		cs.Conditions = mergeConditions(cs.Conditions, want, now)
		st.Clusters[i] = cs
	}
	return st
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
	cs := ClusterStatus{Name: dc.Name, Policy: dc.Policy, Topology: dc.Topology,
		Nodes: make([]NodeStatus, 0, len(dc.Members)+len(dc.Departing))}
	add := func(n DesiredNode, member bool) {
		v := cr.nodes[n.Endpoint.Node]
		ns := NodeStatus{Node: n.Endpoint.Node, ContainerID: n.Container.ContainerID, URL: n.Endpoint.URL,
			State: n.Container.State, HealthState: n.Container.HealthState, Member: member, Held: n.Held,
			Conditions: prevConds[n.Endpoint.Node], LastPush: v.lastPush, BackoffUntil: v.backoffUntil}
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
	cs.Conditions = mergeConditions(old.Conditions, clusterConditions(cs, cr.holds), now)
	return cs
}

// clusterConditions computes the conditions of an observed cluster.
func clusterConditions(cs ClusterStatus, held mesh.PeerSet) []Condition {
	var pending, degraded []mesh.NodeName
	for _, n := range cs.Nodes {
		if c, _ := FindCondition(n.Conditions, ConditionConverged); c.Status != ConditionTrue {
			pending = append(pending, n.Node)
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
	if !conv {
		reason = "Pending"
		if n.Observed != nil {
			msg = describeGap(n)
		} else {
			reason, msg = "Unreachable", "no status read yet"
		}
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
			if (existed && pc.Status != c.Status) || (!existed && !healthy(c)) {
				out = append(out, conditionChange{cluster: cs.Name, c: c, was: pc.Status})
			}
		}
	}
	return out
}

func healthy(c Condition) bool {
	switch c.Type {
	case ConditionStale, ConditionDegraded:
		return c.Status == ConditionFalse
	}
	return c.Status == ConditionTrue
}
