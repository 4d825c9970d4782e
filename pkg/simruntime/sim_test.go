package simruntime_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// TestWithSimulator runs the simulator's containers as Go agents: they
// become healthy through the agent's health endpoint, a pushed full mesh
// shows in every agent, and a killed container vanishes from its peers.
func TestWithSimulator(t *testing.T) {
	port := freePort(t)
	rt, err := simruntime.New(simruntime.Options{Token: token, Port: port, Logger: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	sim, err := ranchersim.New(ranchersim.Options{
		IPRange: "127.42.0.0/16", Runtime: rt, StopTimeout: 5 * time.Second,
		Fixture: &ranchersim.Fixture{Project: ranchersim.FixtureProject{ID: "1a5", Name: "Default"}, Stacks: []ranchersim.FixtureStack{{Name: "demo", Services: []ranchersim.ServiceSpec{{
			Name: "hello", Scale: 3,
			HealthCheck: &ranchersim.HealthCheck{Port: int64(port), RequestLine: "GET /v1/health HTTP/1.0", Interval: 100, HealthyThreshold: 1},
		}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := sim.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
	views := sim.Containers("demo", "hello")
	if len(views) != 3 {
		t.Fatalf("containers = %+v", views)
	}
	client, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return token }})
	if err != nil {
		t.Fatal(err)
	}
	var eps []mesh.Endpoint
	for _, v := range views {
		if v.State != "running" || v.HealthState != "healthy" {
			t.Fatalf("container %s: %s/%s, want running/healthy", v.ID, v.State, v.HealthState)
		}
		eps = append(eps, mesh.Endpoint{Node: mesh.NodeName("hello@" + v.IP), URL: rt.URL(v.IP)})
	}
	all := mesh.NewPeerSet(eps[0].Node, eps[1].Node, eps[2].Node)
	for _, ep := range eps {
		if _, err := client.SetPeers(t.Context(), ep, 1, all.Minus(mesh.PeerSet{ep.Node})); err != nil {
			t.Fatal(err)
		}
	}
	if got := rt.Mesh().Connected(string(eps[0].Node)); len(got) != 2 {
		t.Errorf("node 0 connected = %v", got)
	}
	if err := sim.KillContainer(views[2].ID); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "the killed node to vanish", func() bool {
		return !slices.Contains(rt.Mesh().Connected(string(eps[0].Node)), string(eps[2].Node))
	})
}
