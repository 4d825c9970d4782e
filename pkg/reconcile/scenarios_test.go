package reconcile

import (
	_ "embed"
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

//go:embed testdata/scenarios.yaml
var scenariosYAML []byte

type scenario struct {
	Name        string                            `json:"name"`
	Description string                            `json:"description"`
	Cluster     config.Cluster                    `json:"cluster"`
	Rancher     []scenarioContainer               `json:"rancher"`
	Before      map[mesh.NodeName][]mesh.NodeName `json:"before"`
	ExpectPeers map[mesh.NodeName][]mesh.NodeName `json:"expectPeers"`
	ExpectLeave []mesh.NodeName                   `json:"expectLeave"`
}

type scenarioContainer struct {
	Service string `json:"service"`
	I       int    `json:"i"`
	State   string `json:"state"`
	Health  string `json:"health"`
}

func (s scenario) snapshot() mesh.Snapshot {
	c := mesh.Cluster{Name: s.Cluster.Name, Stack: s.Cluster.Stack}
	for _, svc := range s.Cluster.Services {
		ms := mesh.Service{Name: svc}
		for _, r := range s.Rancher {
			if r.Service == svc {
				ms.Containers = append(ms.Containers, ctr(svc, r.I, r.State, r.Health))
			}
		}
		c.Services = append(c.Services, ms)
	}
	return mesh.Snapshot{Clusters: []mesh.Cluster{c}}
}

func TestScenarios(t *testing.T) {
	var scenarios []scenario
	if err := yaml.UnmarshalStrict(scenariosYAML, &scenarios); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			sc.Cluster.Admin.Token.Value = "t"
			sc.Cluster.Default()
			snap := sc.snapshot()
			d, err := Desire([]config.Cluster{sc.Cluster}, snap)
			if err != nil {
				t.Fatal(err)
			}
			// The pure part: every member's desired peers.
			for _, m := range d.Clusters[0].Members {
				if want := mesh.NewPeerSet(sc.ExpectPeers[m.Endpoint.Node]...); !m.Peers.Equal(want) {
					t.Errorf("desired peers of %s = %v, want %v (%s)", m.Endpoint.Node, m.Peers, want, sc.Description)
				}
			}
			// The whole pass over fakes that hold "before".
			nodes := newFakeNodes()
			for _, r := range sc.Rancher {
				nodes.add(mesh.NodeName(config.RenderNodeName(sc.Cluster.NodeName, config.NodeVars{
					Service: r.Service, Stack: sc.Cluster.Stack, PrimaryIP: fmt.Sprintf("10.42.0.%d", r.I)})))
			}
			for n, peers := range sc.Before {
				nodes.add(n)
				nodes.nodes[n].managed, nodes.nodes[n].revision = mesh.NewPeerSet(peers...), 1
				for _, p := range peers {
					nodes.add(p)
					nodes.links[link(n, p)] = true
				}
			}
			obs := &fakeObserver{}
			obs.set(snap, nil)
			c := newTestController(t, obs, nodes, func(o *Options) { o.Clusters = []config.Cluster{sc.Cluster} })
			mustPass(t, c)
			var left []mesh.NodeName
			for _, call := range nodes.takeCalls() {
				if call.Action == ActionLeave {
					left = append(left, call.Node)
				}
			}
			if !slices.Equal(mesh.NewPeerSet(left...), mesh.NewPeerSet(sc.ExpectLeave...)) {
				t.Errorf("left = %v, want %v", left, sc.ExpectLeave)
			}
			for n := range nodes.nodes {
				if want, got := mesh.NewPeerSet(sc.ExpectPeers[n]...), nodes.managed(n); !got.Equal(want) {
					t.Errorf("after the pass %s holds %v, want %v", n, got, want)
				}
			}
		})
	}
}
