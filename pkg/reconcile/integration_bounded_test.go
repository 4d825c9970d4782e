package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// holdsOverlay reports whether every member manages and is connected to
// exactly its overlay peers of degree k.
func (w *world) holdsOverlay(k int) bool {
	members := w.members()
	want := BoundedDegree(members, k)
	for _, n := range members {
		ip := string(n)[len("hello@"):]
		st, err := w.nodes.Status(context.Background(), mesh.Endpoint{Cluster: "hello", Node: n, URL: w.rt.URL(ip)})
		if err != nil || !st.Managed.Equal(want[n]) || !st.Connected.Equal(want[n]) {
			return false
		}
	}
	return len(members) > 0
}

func (w *world) waitOverlay(what string, size, k int) {
	w.t.Helper()
	testwait.Eventually(w.t, 30*time.Second, fmt.Sprintf("%s: %d members hold their overlay of degree %d", what, size, k), func() bool { return len(w.members()) == size && w.holdsOverlay(k) })
}

// runningContainer returns the id of a running member container.
func (w *world) runningContainer() string {
	w.t.Helper()
	for _, c := range w.sim.Containers("demo", "hello") {
		if c.State == "running" && c.HealthState == "healthy" {
			return c.ID
		}
	}
	w.t.Fatal("no running, healthy container")
	return ""
}

// The simulator, the real clients and in-process Go agents (they report
// connect_all false): a bounded-degree cluster converges to its overlay
// through a scale up, a container killed outside Rancher and a scale
// down, and a pass right after a pass pushes nothing.
func TestIntegrationBoundedDegree(t *testing.T) {
	if testing.Short() {
		t.Skip("integration scenarios start a simulator and agents")
	}
	const k = 3
	w := startWorld(t, 3, false, true)
	w.stop()
	w.cluster = boundedCluster(k)
	w.startController(false, nil)
	w.settle()
	w.waitOverlay("start", 3, k)
	must(t, w.sim.Scale("demo", "hello", 10))
	w.settle()
	w.waitOverlay("scale up", 10, k)
	must(t, w.sim.KillContainer(w.runningContainer()))
	w.settle()
	w.waitOverlay("killed container restarted", 10, k)
	must(t, w.sim.Scale("demo", "hello", 4))
	w.settle()
	w.waitOverlay("scale down", 4, k)
	w.checkIdempotent()
	cs, _ := w.ctl.Status().Cluster("hello")
	if c, _ := FindCondition(cs.Conditions, ConditionConverged); c.Status != ConditionTrue || cs.Degree != k {
		t.Errorf("status: degree %d, Converged %+v", cs.Degree, c)
	}
}
