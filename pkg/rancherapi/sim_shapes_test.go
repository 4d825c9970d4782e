package rancherapi

import (
	"testing"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// TestSimOlderCattleShapesAreNeverEmpty renders the simulator's payloads as
// older Cattle servers do (containers without stackId, serviceId and
// serviceIds; services without instanceIds; null labels and health
// states), with the simulator honouring the stackId filter on the missing
// column as Cattle does, and checks that every snapshot holds exactly the
// members the simulator knows, through scale changes.
func TestSimOlderCattleShapesAreNeverEmpty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape ranchersim.Shape
	}{
		{"no service refs on containers", ranchersim.Shape{NoContainerServiceRefs: true}},
		{"no instanceIds on services", ranchersim.Shape{NoServiceInstanceIDs: true}},
		{"neither refs nor instanceIds", ranchersim.Shape{NoContainerServiceRefs: true, NoServiceInstanceIDs: true}},
		{"every older knob", ranchersim.Shape{NoContainerServiceRefs: true, NoServiceInstanceIDs: true, NullLabels: true, NullHealthState: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSimWith(t, ranchersim.Options{Shape: tc.shape})
			c := simClient(t, sim, sim.SchemasURL())
			for _, scale := range []int{3, 5, 1, 0, 2} {
				if err := sim.Scale("demo", "web", scale); err != nil {
					t.Fatal(err)
				}
				s := matchTruth(t, sim, c)
				cl, _ := s.Cluster("demo")
				if got := countRunning(cl.Services[0].Containers); got != scale {
					t.Errorf("scale %d: %d running members of demo/web in the snapshot", scale, got)
				}
			}
		})
	}
}
