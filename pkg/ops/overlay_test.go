package ops

import (
	"regexp"
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// Node names of the bounded-degree fixture.
const (
	ringA = mesh.NodeName("hello@127.42.2.1") // connected to b, missing d
	ringB = mesh.NodeName("hello@127.42.2.2")
	ringC = mesh.NodeName("hello@127.42.2.3") // also connected to a: an extra link, over its degree
	ringD = mesh.NodeName("hello@127.42.2.4")
	ringE = mesh.NodeName("hello@127.42.2.5") // runs with connect_all true: refused
)

// boundedStatus is a ring of degree 2 over a, b, c, d (a-b-c-d-a) in which
// a has not connected d yet, c holds an extra connection to a, and e is
// refused for running with connect_all true.
func boundedStatus() reconcile.Status {
	node := func(n mesh.NodeName, desired, connected []mesh.NodeName, conds []reconcile.Condition) reconcile.NodeStatus {
		return reconcile.NodeStatus{Node: n, State: "running", HealthState: "healthy", Member: true,
			Desired: mesh.NewPeerSet(desired...), Conditions: conds,
			Observed: &mesh.NodeStatus{Node: n, Connected: mesh.NewPeerSet(connected...), Managed: mesh.NewPeerSet(desired...)}}
	}
	ok := conds("Ready", "True", "Converged")
	e := node(ringE, nil, nil, conds("Ready", "False", reconcile.ReasonConnectAllEnabled))
	e.Refused = true
	e.Observed.ConnectAll = true
	e.Conditions[0].Message = "the node runs with connect_all true: start it with -kernel connect_all false"
	ring := reconcile.ClusterStatus{Name: "ring", Policy: "sync", Topology: "boundedDegree", Degree: 2, Members: 5,
		Conditions: conds("Ready", "False", reconcile.ReasonConnectAllEnabled, "Converged", "False", reconcile.ReasonConnectAllEnabled),
		Nodes: []reconcile.NodeStatus{
			node(ringA, []mesh.NodeName{ringB, ringD}, []mesh.NodeName{ringB, ringC}, conds("Ready", "False", "Pending")),
			node(ringB, []mesh.NodeName{ringA, ringC}, []mesh.NodeName{ringA, ringC}, ok),
			node(ringC, []mesh.NodeName{ringB, ringD}, []mesh.NodeName{ringA, ringB, ringD}, ok),
			node(ringD, []mesh.NodeName{ringA, ringC}, []mesh.NodeName{ringC}, conds("Ready", "False", "Pending")),
			e,
		}}
	return reconcile.Status{Passes: 3, Clusters: []reconcile.ClusterStatus{ring}}
}

func TestWriteTableShowsTheDegreeAndRefusedNodes(t *testing.T) {
	var b strings.Builder
	if err := WriteTable(&b, Report{Status: boundedStatus(), Ready: true}, fixedNow()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := []string{
		"cluster ring (topology boundedDegree, degree 2, policy sync): 5 members, 5 nodes\n",
		"  hello@127.42.2.1  running/healthy",
		"1/2 +1 extra",
		"running/healthy (refused: connect_all true)",
		"ConnectAllEnabled: the node runs with connect_all true: start it with -kernel connect_all false",
	}
	if missing := containsAll(out, want...); len(missing) > 0 {
		t.Errorf("the table lacks %q; got:\n%s", missing, out)
	}
}

// The mesh view of a bounded-degree cluster lists each node's desired
// links and its degree instead of a full matrix: the missing a-d link,
// the extra a-c connection, the refused e, and the overlay summary.
func TestMeshViewShowsTheOverlay(t *testing.T) {
	base := startServer(t, Options{Status: boundedStatus, Ready: func() (bool, []string) { return true, nil }})
	dom := dumpDOM(t, base+"/")
	q := func(n mesh.NodeName) string { return regexp.QuoteMeta(string(n)) }
	checks := []struct{ what, re string }{
		{"topology and degree", `topology boundedDegree \(degree ≤ 2\), policy sync, 5 members, 5 nodes`},
		{"overlay summary", `overlay: 4 desired links, degree 2–2 of at most 2, desired overlay connected`},
		{"a's degree", `data-node="` + q(ringA) + `">.*?<td class="degree" data-degree="2"[^>]*>2 \(2 connected\)</td>`},
		{"missing link a - d", `data-node="` + q(ringA) + `">.*?<span class="link missing" title="[^"]*" data-peer="` + q(ringD) + `">`},
		{"ok link a - b", `data-node="` + q(ringA) + `">.*?<span class="link ok" title="[^"]*" data-peer="` + q(ringB) + `">`},
		{"extra link c - a", `data-node="` + q(ringC) + `">.*?<span class="link extra" title="[^"]*" data-peer="` + q(ringA) + `">`},
		{"c over its degree", `data-node="` + q(ringC) + `">.*?<td class="degree over"`},
		{"e refused", `data-node="` + q(ringE) + `">.*?>refused: connect_all true</span>`},
		{"link counts", `2 missing links, 2 extra links`},
	}
	if strings.Contains(dom, `class="matrix"`) {
		t.Errorf("a bounded-degree cluster is shown as a matrix")
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(dom) {
			t.Errorf("the view does not show the %s (%s)", c.what, c.re)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}
