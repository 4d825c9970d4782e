package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// routedCluster is a managed cluster with a timeout and a token reference.
func routedCluster(name string, timeout time.Duration, tokenEnv string) reconcile.ManagedCluster {
	c := config.Cluster{Name: name, Admin: config.Admin{Timeout: config.Duration{Duration: timeout}, Scheme: "http",
		Token: config.SecretRef{FromEnv: tokenEnv}}}
	return reconcile.ManagedCluster{Cluster: c}
}

// Each cluster's node calls use its own admin.timeout and token; clusters
// with the same settings share a client, which survives an update that
// keeps them; an unknown cluster is a clear error.
func TestNodeRouterHonoursEachClusterSettings(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(300 * time.Millisecond):
		}
		w.Header().Set("Content-Type", nodeapi.MediaType)
		_, _ = w.Write([]byte(`{"node":"hello@127.0.0.1","connected":[],"managed":[],"revision":0,"leaving":false}`))
	}))
	defer srv.Close()
	defer close(release)
	cfg := &loaded{secrets: map[config.SecretRef]config.Secret{{FromEnv: "A"}: "token-a", {FromEnv: "B"}: "token-b"},
		tls: map[config.AdminTLS]*tls.Config{}}
	set := []reconcile.ManagedCluster{routedCluster("fast", 50*time.Millisecond, "A"),
		routedCluster("slow", 10*time.Second, "B"), routedCluster("slow-too", 10*time.Second, "B")}
	r := newNodeRouter(nodeapi.ClientOptions{MaxRetries: -1})
	if err := r.update(set, cfg); err != nil {
		t.Fatal(err)
	}
	routes := *r.byName.Load()
	if routes["slow"] != routes["slow-too"] || routes["slow"] == routes["fast"] {
		t.Errorf("want one client per distinct timeout and token")
	}
	ctx := context.Background()
	if _, err := r.Status(ctx, mesh.Endpoint{Cluster: "fast", Node: "hello@127.0.0.1", URL: srv.URL}); err == nil {
		t.Errorf("fast cluster: a 300 ms answer passed a 50 ms timeout")
	}
	if _, err := r.Status(ctx, mesh.Endpoint{Cluster: "slow", Node: "hello@127.0.0.1", URL: srv.URL}); err != nil {
		t.Errorf("slow cluster: %v", err)
	}
	mu.Lock()
	if len(tokens) != 2 || tokens[0] != "token-a" || tokens[1] != "token-b" {
		t.Errorf("tokens sent %q, want each cluster's", tokens)
	}
	mu.Unlock()
	_, err := r.Status(ctx, mesh.Endpoint{Cluster: "nope", Node: "x@127.0.0.1", URL: srv.URL})
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `cluster "nope" is not configured`) {
		t.Errorf("unknown cluster: %v, want a clear error", err)
	}
	if err := r.update(set[1:], cfg); err != nil {
		t.Fatal(err)
	}
	if now := *r.byName.Load(); now["slow"] != routes["slow"] || now["fast"] != nil {
		t.Errorf("an update that keeps a route must keep its client and drop the others")
	}
}
