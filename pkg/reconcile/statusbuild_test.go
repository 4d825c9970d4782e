package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// brief renders the parts of a status the builder decides: per cluster its
// conditions and members, per node its conditions.
func briefStatus(s Status) []string {
	var out []string
	out = append(out, fmt.Sprintf("pass %d %s", s.Passes, s.LastPass.Result))
	for _, c := range s.Clusters {
		out = append(out, fmt.Sprintf("%s members=%d %s", c.Name, c.Members, briefConds(c.Conditions)))
		for _, n := range c.Nodes {
			out = append(out, fmt.Sprintf("  %s %s", n.Node, briefConds(n.Conditions)))
		}
	}
	return out
}

func briefConds(cs []Condition) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Type+"="+c.Status+"/"+c.Reason)
	}
	return strings.Join(parts, " ")
}

// observedCluster is the result of a pass over cluster hello with members
// 1 and 2 (node 1 converged, node 2 as given) and departing node 3.
func observedCluster(t *testing.T, two nodeView, holds mesh.PeerSet) clusterResult {
	t.Helper()
	d := desiredOf(t, up("hello", 1), up("hello", 2), ctr("hello", 3, "stopped", "healthy")).Clusters[0]
	peers1 := names("hello", 2)
	return clusterResult{desired: d, holds: holds, recomputed: true, nodes: map[mesh.NodeName]nodeView{
		name("hello", 1): {observed: &mesh.NodeStatus{Node: name("hello", 1), Revision: 1, Managed: peers1, Connected: peers1}},
		name("hello", 2): two,
	}}
}

func TestBuildStatus(t *testing.T) {
	t1 := time.Unix(100, 0)
	t2 := t1.Add(time.Minute)
	peers2 := names("hello", 1)
	converged2 := nodeView{observed: &mesh.NodeStatus{Node: name("hello", 2), Revision: 1, Managed: peers2, Connected: peers2}}
	first := buildStatus(Status{}, passResult{number: 1, start: t1, clusters: []clusterResult{observedCluster(t, nodeView{}, nil)}}, t1)
	for _, tc := range []struct {
		name string
		prev Status
		r    passResult
		want []string
	}{
		{"first pass: a node never read is unreachable, the cluster pending", Status{},
			passResult{number: 1, start: t1, clusters: []clusterResult{observedCluster(t, nodeView{}, nil)}},
			[]string{"pass 1 ok",
				"hello members=2 Ready=False/NodesPending Converged=False/NodesPending Stale=False/Observed Degraded=False/AllReachable",
				"  hello@10.42.0.1 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.2 Converged=False/Unreachable Degraded=False/Reachable Ready=False/Unreachable",
				"  hello@10.42.0.3 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged"}},
		{"converged: every condition healthy", first,
			passResult{number: 2, start: t2, clusters: []clusterResult{observedCluster(t, converged2, nil)}},
			[]string{"pass 2 ok",
				"hello members=2 Ready=True/Converged Converged=True/Converged Stale=False/Observed Degraded=False/AllReachable",
				"  hello@10.42.0.1 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.2 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.3 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged"}},
		{"a node backing off after a failed push degrades the cluster", first,
			passResult{number: 2, start: t2, err: errors.New("pushing peers to hello@10.42.0.2: refused"), clusters: []clusterResult{
				observedCluster(t, nodeView{lastPush: &PushResult{Result: pushError, Error: "refused"}, backoffUntil: t2.Add(time.Second)}, nil)}},
			[]string{"pass 2 error",
				"hello members=2 Ready=False/NodesPending Converged=False/NodesPending Stale=False/Observed Degraded=True/NodesFailing",
				"  hello@10.42.0.1 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.2 Converged=False/Unreachable Degraded=True/BackingOff Ready=False/Unreachable",
				"  hello@10.42.0.3 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged"}},
		{"a held drop is not converged", first,
			passResult{number: 2, start: t2, clusters: []clusterResult{observedCluster(t, converged2, names("hello", 4))}},
			[]string{"pass 2 ok",
				"hello members=2 Ready=False/DropHeld Converged=False/DropHeld Stale=False/Observed Degraded=False/AllReachable",
				"  hello@10.42.0.1 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.2 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.3 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged"}},
		{"a cluster the pass left alone keeps its status", first,
			passResult{number: 2, start: t2, clusters: []clusterResult{{desired: observedCluster(t, converged2, nil).desired}}},
			append([]string{"pass 2 ok"}, briefStatus(first)[1:]...)},
		{"aborted: the last view stays, Stale and not Ready", first,
			passResult{number: 2, start: t2, aborted: true, err: errors.New("observing rancher: 503")},
			[]string{"pass 2 aborted",
				"hello members=2 Ready=False/Stale Converged=False/NodesPending Stale=True/ObservationFailed Degraded=False/AllReachable",
				"  hello@10.42.0.1 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged",
				"  hello@10.42.0.2 Converged=False/Unreachable Degraded=False/Reachable Ready=False/Unreachable",
				"  hello@10.42.0.3 Converged=True/Converged Degraded=False/Reachable Ready=True/Converged"}},
		{"aborted before any observation: the configured clusters, Stale", Status{},
			passResult{number: 1, start: t1, aborted: true, err: errors.New("observing rancher: 503"),
				skeleton: []ClusterStatus{{Name: "hello"}}},
			[]string{"pass 1 aborted", "hello members=0 Stale=True/ObservationFailed Ready=False/Stale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := briefStatus(buildStatus(tc.prev, tc.r, tc.r.start))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("status (-want +got):\n%s", d)
			}
		})
	}
}

// A condition keeps its transition time while its status holds, and gets
// the pass's time when it changes; the builder never changes prev.
func TestBuildStatusTransitionTimes(t *testing.T) {
	t1 := time.Unix(100, 0)
	t2, t3 := t1.Add(time.Minute), t1.Add(2*time.Minute)
	r := func(n int64, at time.Time, two nodeView) passResult {
		return passResult{number: n, start: at, clusters: []clusterResult{observedCluster(t, two, nil)}}
	}
	peers2 := names("hello", 1)
	converged2 := nodeView{observed: &mesh.NodeStatus{Node: name("hello", 2), Revision: 1, Managed: peers2, Connected: peers2}}
	s1 := buildStatus(Status{}, r(1, t1, nodeView{}), t1)
	before := briefStatus(s1)
	s2 := buildStatus(s1, r(2, t2, nodeView{}), t2)
	s3 := buildStatus(s2, r(3, t3, converged2), t3)
	stale, _ := FindCondition(s3.Clusters[0].Conditions, ConditionStale)
	conv, _ := FindCondition(s3.Clusters[0].Conditions, ConditionConverged)
	if !stale.LastTransitionTime.Equal(t1) || !conv.LastTransitionTime.Equal(t3) {
		t.Errorf("Stale moved at %v (want %v, unchanged), Converged at %v (want %v)",
			stale.LastTransitionTime, t1, conv.LastTransitionTime, t3)
	}
	if d := cmp.Diff(before, briefStatus(s1)); d != "" {
		t.Errorf("building later statuses changed the first:\n%s", d)
	}
	changes := conditionChanges(s2, s3)
	if len(changes) != 2 || changes[0].c.Type != ConditionReady || changes[1].c.Type != ConditionConverged {
		t.Errorf("condition changes = %+v, want Ready and Converged", changes)
	}
	if got := conditionChanges(s1, s2); len(got) != 0 {
		t.Errorf("unchanged conditions reported: %+v", got)
	}
}
