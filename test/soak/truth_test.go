package main

import (
	"slices"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

func TestTruthFollowsTheControllersMembershipRule(t *testing.T) {
	c := func(id, ip, state, health string, sc int64) ranchersim.ContainerView {
		return ranchersim.ContainerView{ID: id, IP: ip, State: state, HealthState: health, StartCount: sc, CreateIndex: sc}
	}
	st := harness.StateView{Stacks: map[string][]harness.ServiceView{
		"s": {
			{Name: "a", State: "active", Containers: []ranchersim.ContainerView{
				c("1i1", "10.0.0.1", "running", "healthy", 1),
				c("1i2", "10.0.0.2", "running", "initializing", 1),
				c("1i3", "10.0.0.3", "stopping", "healthy", 1),
				c("1i4", "10.0.0.4", "running", "updating-healthy", 2),
				c("1i5", "10.0.0.5", "removed", "", 1),
			}},
			{Name: "b1", State: "upgraded", Containers: []ranchersim.ContainerView{
				c("1i6", "10.0.0.6", "running", "", 1),
				c("1i7", "10.0.0.7", "running", "unhealthy", 1),
			}},
			{Name: "other", State: "active", Containers: []ranchersim.ContainerView{c("1i8", "10.0.0.8", "running", "healthy", 1)}},
		},
		"elsewhere": {{Name: "a", Containers: []ranchersim.ContainerView{c("1i9", "10.0.0.9", "running", "healthy", 1)}}},
	}}
	tr := truthFromState(st, testTopo(), time.Now())
	var ids []string
	for id := range tr.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if want := []string{"1i1", "1i4", "1i6"}; !slices.Equal(ids, want) {
		t.Fatalf("members %v, want %v", ids, want)
	}
	if tr.running != 5 || tr.serviceStates["b1"] != "upgraded" || len(tr.serviceStates) != 2 {
		t.Fatalf("running %d, service states %v", tr.running, tr.serviceStates)
	}
	if m := tr.members["1i6"]; m.node != "b1@10.0.0.6" || m.cluster != "b" || m.startCount != 1 {
		t.Fatalf("member %+v", m)
	}
	if got := tr.expectedPeers(tr.members["1i1"]); !slices.Equal(got, []string{"a@10.0.0.4"}) {
		t.Fatalf("expected peers of 1i1: %v", got)
	}
	if got := tr.membersOf("a"); len(got) != 2 || got[0].id != "1i1" || got[1].id != "1i4" {
		t.Fatalf("members of a: %v", got)
	}
}

func TestSameMembersComparesIncarnations(t *testing.T) {
	a := truthOf(mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 1, "10.0.0.2"))
	cases := []struct {
		name string
		b    truth
		same bool
	}{
		{"the same", truthOf(mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 1, "10.0.0.2")), true},
		{"one restarted", truthOf(mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 2, "10.0.0.2")), false},
		{"one gone", truthOf(mem("a", "1i1", 1, "10.0.0.1")), false},
		{"one replaced", truthOf(mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i3", 1, "10.0.0.3")), false},
	}
	for _, tc := range cases {
		if got := sameMembers(a, tc.b); got != tc.same {
			t.Errorf("%s: %t", tc.name, got)
		}
	}
}
