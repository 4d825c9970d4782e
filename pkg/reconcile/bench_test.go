package reconcile

import (
	"fmt"
	"testing"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// BenchmarkDesireAndCalculate2000 measures the pure part of a pass for
// 2,000 converged nodes in 100 clusters of 20 (the design's scale target):
// desire, guard, plan and policies, nothing to send.
func BenchmarkDesireAndCalculate2000(b *testing.B) {
	var clusters []config.Cluster
	var snap mesh.Snapshot
	for k := range 100 {
		name := fmt.Sprintf("c%d", k)
		clusters = append(clusters, testCluster(name, name))
		svc := mesh.Service{Name: name}
		for i := range 20 {
			svc.Containers = append(svc.Containers, mesh.Member{ContainerID: fmt.Sprintf("1i%d", k*20+i), Service: name,
				IP: fmt.Sprintf("10.42.%d.%d", k, i+2), State: "running", HealthState: "healthy"})
		}
		snap.Clusters = append(snap.Clusters, mesh.Cluster{Name: name, Stack: "demo", Services: []mesh.Service{svc}})
	}
	d, err := Desire(clusters, snap)
	if err != nil {
		b.Fatal(err)
	}
	observed := map[mesh.NodeName]mesh.NodeStatus{}
	for _, c := range d.Clusters {
		for _, m := range c.Members {
			observed[m.Endpoint.Node] = mesh.NodeStatus{Node: m.Endpoint.Node, Revision: 1, Managed: m.Peers, Connected: m.Peers}
		}
	}
	var g DropGuard
	b.ReportAllocs()
	for b.Loop() {
		d, _ := Desire(clusters, snap)
		d, _ = g.Guard(d)
		if n := ApplyPolicies(d, Calculate(d, observed, PlanOptions{CheckConnections: true})).Len(); n != 0 {
			b.Fatalf("%d changes for a converged mesh", n)
		}
	}
}
