package main

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestDemoConfigLeavesLabelledServicesToTheirLabels(t *testing.T) {
	fx := &ranchersim.Fixture{Stacks: []ranchersim.FixtureStack{{
		Name: "demo",
		Services: []ranchersim.ServiceSpec{
			{Name: "hello", Labels: map[string]string{config.LabelCluster: "hello"}},
			{Name: "plain"},
		},
	}}}
	cfg, labelled := demoConfig(fx, "10.42.0.1:4100")
	if diff := cmp.Diff([]labelledService{{Stack: "demo", Service: "hello", Cluster: "hello"}}, labelled); diff != "" {
		t.Errorf("labelled services (-want +got):\n%s", diff)
	}
	if len(cfg.Clusters) != 1 || cfg.Clusters[0].Name != "plain" {
		t.Errorf("file clusters = %+v, want only plain (hello comes from its label)", cfg.Clusters)
	}
	f, err := config.Load([]byte(cfg.YAML()))
	if err != nil {
		t.Fatalf("the demo's config does not load: %v", err)
	}
	if f.Spec.Defaults.Admin.Token.IsZero() {
		t.Error("spec.defaults.admin.token is not set: a label-defined cluster would not be managed")
	}
}

func TestDemoFixtureShowsALabelledService(t *testing.T) {
	fx, err := ranchersim.LoadFixture(filepath.Join("..", "..", "config", "sim", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, labelled := demoConfig(fx, "")
	if len(labelled) == 0 {
		t.Fatal("config/sim/demo.yaml has no service labelled io.drover.cluster: the demo shows no label-defined cluster")
	}
	if len(cfg.Clusters) != 0 {
		t.Errorf("file clusters = %+v, want none: every demo service is labelled", cfg.Clusters)
	}
}
