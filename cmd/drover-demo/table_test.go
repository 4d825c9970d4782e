package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestBuildRows(t *testing.T) {
	truth := []serviceTruth{{Stack: "demo", Service: "hello", Containers: []ranchersim.ContainerView{
		{IP: "10.42.0.2", State: "running", HealthState: "healthy"},
		{IP: "10.42.0.3", State: "running", HealthState: "healthy"},
		{IP: "10.42.0.4", State: "running", HealthState: "healthy"},
		{IP: "10.42.0.5", State: "running", HealthState: "initializing"},
		{IP: "10.42.0.6", State: "removed"},
	}}}
	views := map[string]view{
		"10.42.0.2": {Connected: []string{"hello@10.42.0.4", "hello@10.42.0.3"}},
		"10.42.0.3": {Connected: []string{"hello@10.42.0.2"}},
		"10.42.0.4": {Err: errors.New("refused")},
		"10.42.0.5": {},
	}
	rows := buildRows(truth, views)
	want := []row{
		{"hello", "hello@10.42.0.2", "running/healthy", 2, 2, stateOK},
		{"hello", "hello@10.42.0.3", "running/healthy", 1, 2, stateJoining},
		{"hello", "hello@10.42.0.4", "running/healthy", 0, 2, stateUnreachable},
		{"hello", "hello@10.42.0.5", "running/initializing", 0, 0, stateNotMember},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	if converged(rows, "hello", 3) {
		t.Error("converged with a converging, an unreachable and a non-member row")
	}
	if !converged(rows[:1], "hello", 1) || converged(rows[:1], "hello", 2) {
		t.Error("converged does not count members")
	}
	if out := render(rows); !strings.Contains(out, "PEERS SEEN/EXPECTED") || !strings.Contains(out, "2/2") {
		t.Errorf("render:\n%s", out)
	}
}

func TestParseFlags(t *testing.T) {
	if _, err := parseFlags([]string{"--runtime", "docker"}, &strings.Builder{}); err == nil {
		t.Error("--runtime docker accepted")
	}
	o, err := parseFlags(nil, &strings.Builder{})
	if err != nil || o.runtime != "auto" || o.ops != "127.0.0.1:9090" || !o.hold {
		t.Errorf("defaults = %+v, %v", o, err)
	}
}
