package harness

import (
	"testing"

	"github.com/drover-mesh/drover/pkg/config"
)

// A cluster's own Extra reaches that cluster only.
func TestConfigYAMLPerClusterExtra(t *testing.T) {
	y := ConfigOptions{Clusters: []ClusterConfig{
		{Name: "a", Stack: "e2e", Services: []string{"a"}},
		{Name: "b", Stack: "e2e", Services: []string{"b"}, Extra: "    topology: boundedDegree\n    degree: 3\n"},
	}}.YAML()
	f, err := config.Load([]byte(y))
	if err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, y)
	}
	a, b := f.Spec.Clusters[0], f.Spec.Clusters[1]
	if a.Topology != config.TopologyFullMesh || b.Topology != config.TopologyBoundedDegree || b.DegreeOf() != 3 {
		t.Errorf("a: %s, b: %s degree %d; want fullMesh and boundedDegree 3", a.Topology, b.Topology, b.DegreeOf())
	}
}
