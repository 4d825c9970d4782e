package config

import (
	"strings"
	"testing"
)

// topologyBadWants are the errors of testdata/topology.bad.yaml.
func topologyBadWants() []string {
	return []string{
		`spec.clusters[0].degree: applies only to topology "boundedDegree"`,
		"spec.clusters[1].degree: must be between 2 and 64 (the most peers a member holds), got 1",
		"spec.clusters[2].degree: must be between 2 and 64 (the most peers a member holds), got 65",
		"spec.clusters[3].degree: must be between 2 and 64 (the most peers a member holds), got 0",
		`spec.clusters[4].topology: must be "fullMesh" or "boundedDegree", got "boundeddegree"`,
	}
}

func TestBoundedDegreeDefaultsAndDegreeOf(t *testing.T) {
	f, err := LoadFile("testdata/bounded.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	big, def := f.Spec.Clusters[0], f.Spec.Clusters[1]
	if big.DegreeOf() != 4 || *big.Degree != 4 {
		t.Errorf("degree: 4 gives DegreeOf %d", big.DegreeOf())
	}
	if def.Degree == nil || *def.Degree != DefaultDegree || def.DegreeOf() != DefaultDegree {
		t.Errorf("boundedDegree without a degree: %v, want the default %d", def.Degree, DefaultDegree)
	}
	m, err := LoadFile("testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Spec.Clusters[0]; c.Degree != nil || c.DegreeOf() != 0 {
		t.Errorf("a full mesh has degree %v (DegreeOf %d), want none", c.Degree, c.DegreeOf())
	}
}

// The file cannot say whether nodes run with connect_all false: the
// warning says it is checked on each node at run time, and what to set.
func TestBoundedDegreeWarnsOfTheRuntimeCheck(t *testing.T) {
	f, err := Load([]byte(`
apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: demo}
spec:
  clusters:
  - name: hello
    stack: demo
    services: [hello]
    admin: {token: {fromEnv: T}}
    topology: boundedDegree
    degree: 3
    policy: add-only
`))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(f.Warnings(), "\n")
	for _, want := range []string{"spec.clusters[0].topology: boundedDegree needs every node", "-kernel connect_all false",
		"checked on each node at run time", "spec.clusters[0].policy: add-only with boundedDegree", "grow past 3"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings do not say %q:\n%s", want, w)
		}
	}
}
