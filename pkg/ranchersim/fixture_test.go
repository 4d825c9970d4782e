package ranchersim_test

import (
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestDemoFixtureLoadsAndComesUp(t *testing.T) {
	f, err := ranchersim.LoadFixture("../../config/sim/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hc := f.Stacks[0].Services[0].HealthCheck
	if f.Stacks[0].Name != "demo" || f.Stacks[0].Services[0].Scale != 3 || hc.Port != 4001 ||
		hc.RequestLine != "GET /v1/health HTTP/1.0" {
		t.Fatalf("fixture %+v", f)
	}
	hc.Interval, hc.HealthyThreshold = 50, 1 // fast for the test
	s := ranchertest.NewServer(t, ranchersim.Options{Fixture: f, IPRange: "127.42.0.0/16"})
	settle(t, s)
	vs := s.Containers("demo", "hello")
	if len(vs) != 3 || states(vs)["running/healthy"] != 3 {
		t.Fatalf("containers %+v", vs)
	}
	hosts := map[string]int{}
	for _, v := range vs {
		hosts[v.HostID]++
	}
	if len(hosts) != 2 {
		t.Errorf("containers not spread over both hosts: %v", hosts)
	}
	c := newClient(t, s, s.SchemasURL())
	list, err := c.Container.List(nil)
	if err != nil || len(list.Data) != 3 || list.Data[0].Labels["io.drover.cluster"] != "hello" {
		t.Fatalf("%v %v", list, err)
	}
}

func TestBadFixturesReportEveryProblem(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/bad.yaml", []string{
			"project.id", "stacks[0].services[0].name", "stacks[0].services[0].scale",
			"stacks[0].services[0].healthCheck.port", "stacks[0].services[0].healthCheck.strategy",
			"stacks[0].services[2].name: duplicate", "stacks[1].name: duplicate",
		}},
		{"testdata/unknown-field.yaml", []string{"sevrices"}},
		{"testdata/missing.yaml", []string{"no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := ranchersim.LoadFixture(tc.file)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
