package reconcile

import (
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Pass results, as in PassStatus.Result and Recorder.Pass.
const (
	resultOK      = "ok"
	resultError   = "error"
	resultAborted = "aborted"
)

// passDone is what a completed pass hands to finish.
type passDone struct {
	start   time.Time
	full    bool
	desired Desired
	changes Changes
	holds   map[string]mesh.PeerSet
	err     error
}

// finish publishes the status of a pass that observed Rancher, records
// metrics, logs condition transitions and schedules follow-up passes.
func (c *Controller) finish(log logr.Logger, p passDone) {
	now := c.opts.Now()
	prev := c.Status()
	st := Status{Passes: c.passes, LastObserved: p.start, LastPass: PassStatus{
		Start: p.start, Duration: now.Sub(p.start), Result: resultOK, Changes: p.changes.Len(), Full: p.full,
	}}
	if p.err != nil {
		st.LastPass.Result, st.LastPass.Error = resultError, p.err.Error()
	}
	for _, dc := range p.desired.Clusters {
		old, _ := prev.Cluster(dc.Name)
		cs := c.clusterStatus(dc, old, now)
		want := clusterConditions(cs, p.holds[dc.Name])
		cs.Conditions = transition(log, dc.Name, old.Conditions, want, now)
		st.Clusters = append(st.Clusters, cs)
		conv, _ := FindCondition(cs.Conditions, ConditionConverged)
		c.opts.Recorder.Cluster(dc.Name, cs.Members, conv.Status == ConditionTrue)
	}
	c.opts.Recorder.Stale(false)
	c.opts.Recorder.Pass(st.LastPass.Result, st.LastPass.Duration)
	c.mu.Lock()
	c.status, c.failures = st, 0
	c.mu.Unlock()
	c.scheduleFollowUps(p, now)
	log.V(1).Info("pass finished", "full", p.full, "changes", p.changes.Len(), "duration", st.LastPass.Duration)
}

// finishAborted publishes the status of a pass that could not observe
// Rancher: the last complete view stays, marked Stale, and a retry is
// scheduled with a growing delay.
func (c *Controller) finishAborted(log logr.Logger, start time.Time, full bool, err error) {
	now := c.opts.Now()
	st := c.Status()
	st.Passes = c.passes
	st.LastPass = PassStatus{Start: start, Duration: now.Sub(start), Result: resultAborted, Error: err.Error(), Full: full}
	if len(st.Clusters) == 0 {
		for _, cc := range c.opts.Clusters {
			st.Clusters = append(st.Clusters, ClusterStatus{Name: cc.Name, Policy: cc.Policy, Topology: cc.Topology})
		}
	}
	for i, cs := range st.Clusters {
		want := []Condition{
			cond(ConditionStale, true, "ObservationFailed", err.Error()),
			cond(ConditionReady, false, "Stale", "Rancher could not be observed; nothing is changed until it can"),
		}
		st.Clusters[i].Conditions = transition(log, cs.Name, cs.Conditions, want, now)
	}
	c.opts.Recorder.Stale(true)
	c.opts.Recorder.Pass(resultAborted, st.LastPass.Duration)
	c.mu.Lock()
	c.status = st
	c.failures++
	retry := backoffDelay(c.failures, c.opts.BackoffBase, c.opts.BackoffMax)
	c.mu.Unlock()
	c.scheduleAt(now.Add(retry))
}

// scheduleFollowUps asks for the confirming pass of a held drop and for a
// retry when the first member's backoff ends.
func (c *Controller) scheduleFollowUps(p passDone, now time.Time) {
	if len(p.holds) > 0 {
		c.scheduleAt(now.Add(c.opts.ConfirmDelay))
	}
	var next time.Time
	for _, dc := range p.desired.Clusters {
		for _, m := range dc.Members {
			if b, ok := c.backoff[m.Endpoint.Node]; ok && now.Before(b.until) && (next.IsZero() || b.until.Before(next)) {
				next = b.until
			}
		}
	}
	if !next.IsZero() {
		c.scheduleAt(next)
	}
}

// clusterStatus builds a cluster's node statuses from the pass state.
func (c *Controller) clusterStatus(dc DesiredCluster, old ClusterStatus, now time.Time) ClusterStatus {
	prevConds := map[mesh.NodeName][]Condition{}
	for _, n := range old.Nodes {
		prevConds[n.Node] = n.Conditions
	}
	cs := ClusterStatus{Name: dc.Name, Policy: dc.Policy, Topology: dc.Topology}
	add := func(n DesiredNode, member bool) {
		ns := NodeStatus{Node: n.Endpoint.Node, ContainerID: n.Container.ContainerID, URL: n.Endpoint.URL,
			State: n.Container.State, HealthState: n.Container.HealthState, Member: member, Held: n.Held,
			Conditions: prevConds[n.Endpoint.Node]}
		if member && !n.Held {
			ns.Desired = n.Peers
			cs.Members++
		}
		if st, ok := c.cache[ns.Node]; ok {
			o := copyNodeStatus(st)
			ns.Observed, ns.Leaving = &o, st.Leaving
		}
		if p, ok := c.lastPush[ns.Node]; ok {
			ns.LastPush = &p
		}
		if b, ok := c.backoff[ns.Node]; ok && now.Before(b.until) {
			ns.BackoffUntil = b.until
		}
		ns.Conditions = nodeConditions(ns, now)
		cs.Nodes = append(cs.Nodes, ns.deepCopy())
	}
	for _, m := range dc.Members {
		add(m, true)
	}
	for _, d := range dc.Departing {
		add(d, false)
	}
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

// transition sets want on old and logs each status change once. A first
// appearance is logged only when it is not the healthy value.
func transition(log logr.Logger, cluster string, old, want []Condition, now time.Time) []Condition {
	out := old
	for _, w := range want {
		prev, existed := FindCondition(old, w.Type)
		var changed bool
		out, changed = setCondition(out, w, now)
		if changed && (existed || !healthy(w)) {
			log.Info("condition changed", "cluster", cluster, "type", w.Type, "status", w.Status,
				"reason", w.Reason, "message", w.Message, "was", prev.Status)
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

// logMembers logs members added and removed since the last pass, and held
// drops. The first pass logs one line per cluster.
func (c *Controller) logMembers(log logr.Logger, d Desired, holds map[string]mesh.PeerSet) {
	for _, dc := range d.Clusters {
		names := dc.MemberNames()
		prev, seen := c.members[dc.Name]
		if !seen {
			log.Info("cluster observed", "cluster", dc.Name, "members", len(names))
		}
		if seen {
			for _, n := range names.Minus(prev) {
				log.Info("member added", "cluster", dc.Name, "node", n)
			}
		}
		for _, n := range prev.Minus(names) {
			log.Info("member removed", "cluster", dc.Name, "node", n)
		}
		if h := holds[dc.Name]; len(h) > 0 {
			log.Info("holding a sudden drop for a confirming pass", "cluster", dc.Name, "nodes", h.Strings(), "members", len(prev))
		}
		c.members[dc.Name] = names
	}
}
