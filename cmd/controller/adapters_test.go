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
)

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
