package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func newAdapter(t *testing.T, sim *ranchersim.Sim) *rancherAdapter {
	t.Helper()
	rc, err := rancherapi.New(context.Background(), rancherapi.Options{URL: sim.URL(), AccessKey: sim.AccessKey(),
		SecretKey: sim.SecretKey(), Clusters: []rancherapi.ClusterRef{{Name: "hello", Stack: "demo", Services: []string{"hello"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &rancherAdapter{c: rc}
}

// Without an event since the last list, a pass that does not ask to
// re-list costs Rancher nothing; an event or a re-list lists again.
func TestAdapterAnswersFromTheLastListUntilAnEvent(t *testing.T) {
	sim, _, _ := startSim(t)
	a := newAdapter(t, sim)
	ctx := context.Background()
	first, err := a.Snapshot(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	before := total(sim.Requests())
	again, err := a.Snapshot(ctx, false)
	if err != nil || total(sim.Requests()) != before {
		t.Fatalf("a second snapshot without an event made %d requests (err %v)", total(sim.Requests())-before, err)
	}
	if again.Clusters[0].Generation != first.Clusters[0].Generation || again.Requests != 0 {
		t.Errorf("cached answer: generation %d -> %d, %d requests", first.Clusters[0].Generation, again.Clusters[0].Generation, again.Requests)
	}
	if _, err := a.Snapshot(ctx, true); err != nil || total(sim.Requests()) == before {
		t.Errorf("a re-list made no request (err %v)", err)
	}
	relisted, _ := a.Snapshot(ctx, false)
	if relisted.Clusters[0].Generation != first.Clusters[0].Generation {
		t.Errorf("unchanged data got a new generation: %d -> %d", first.Clusters[0].Generation, relisted.Clusters[0].Generation)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 16)
	go func() { _ = a.Watch(wctx, func() { changed <- struct{}{} }) }()
	<-changed // the stream's (re)connect
	if err := sim.Scale("demo", "hello", 4); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("no event after a scale")
		}
		s, err := a.Snapshot(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Clusters[0].Members()) == 4 {
			if s.Clusters[0].Generation == first.Clusters[0].Generation {
				t.Errorf("changed data kept generation %d", s.Clusters[0].Generation)
			}
			return
		}
	}
}

// Several announced IPs cost one list, not one lookup each; one IP is one
// targeted lookup.
func TestAdapterReadsManyIPsWithOneList(t *testing.T) {
	sim, _, _ := startSim(t)
	a := newAdapter(t, sim)
	ctx := context.Background()
	var ips []string
	for _, c := range sim.Containers("demo", "hello") {
		ips = append(ips, c.IP)
	}
	ips = append(ips, "10.99.0.1") // no container
	before := total(sim.Requests())
	got, err := a.ContainersByIP(ctx, ips)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("found %d containers, want 3: %v", len(got), got)
	}
	if n := total(sim.Requests()) - before; n > 4 {
		t.Errorf("%d requests for %d IPs, want one list (3-4 requests)", n, len(ips))
	}
	before = total(sim.Requests())
	one, err := a.ContainersByIP(ctx, ips[:1])
	if err != nil || len(one) != 1 {
		t.Fatalf("one IP: %v, %v", one, err)
	}
	if n := total(sim.Requests()) - before; n != 1 {
		t.Errorf("%d requests for one IP, want 1", n)
	}
}

// Each cluster's node calls use its own admin.timeout: an agent slower than
// one cluster's timeout fails there and answers within the other's.
func TestClusterNodesHonourEachAdminTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(300 * time.Millisecond):
		}
		w.Header().Set("Content-Type", nodeapi.MediaType)
		_, _ = w.Write([]byte(`{"node":"hello@127.0.0.1","connected":[],"managed":[],"revision":0,"leaving":false}`))
	}))
	defer srv.Close()
	defer close(release)
	cs := []config.Cluster{
		{Name: "fast", Admin: config.Admin{Timeout: config.Duration{Duration: 50 * time.Millisecond}}},
		{Name: "slow", Admin: config.Admin{Timeout: config.Duration{Duration: 10 * time.Second}}},
		{Name: "slow-too", Admin: config.Admin{Timeout: config.Duration{Duration: 10 * time.Second}}},
	}
	nodes, err := newClusterNodes(cs, nodeapi.ClientOptions{Tokens: func(string) string { return "t" }, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if nodes["slow"] != nodes["slow-too"] || nodes["slow"] == nodes["fast"] {
		t.Errorf("want one client per distinct timeout")
	}
	ctx := context.Background()
	if _, err := nodes.Status(ctx, mesh.Endpoint{Cluster: "fast", Node: "hello@127.0.0.1", URL: srv.URL}); err == nil {
		t.Errorf("fast cluster: a 300 ms answer passed a 50 ms timeout")
	}
	if _, err := nodes.Status(ctx, mesh.Endpoint{Cluster: "slow", Node: "hello@127.0.0.1", URL: srv.URL}); err != nil {
		t.Errorf("slow cluster: %v", err)
	}
	_, err = nodes.Status(ctx, mesh.Endpoint{Cluster: "nope", Node: "x@127.0.0.1", URL: srv.URL})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unknown cluster: %v, want a clear error", err)
	}
}
