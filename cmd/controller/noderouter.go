package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// nodeRoute is what a cluster's node calls need: the per-attempt timeout
// (admin.timeout), the token and the TLS settings.
type nodeRoute struct {
	timeout time.Duration
	token   config.Secret
	tls     *tls.Config // nil: http, or https with Go's defaults
}

// routeCluster is the one cluster name a route's client knows: each
// client serves one route, and calls are sent to it under this name.
const routeCluster = "route"

// nodeRouter sends each node call to the client of its cluster's route,
// so that every cluster's timeout, token and TLS settings hold. Clusters
// come and go (reloads, labels): update swaps the routes, keeping the
// client (and its connections) of every route that stays. It is safe for
// concurrent use.
type nodeRouter struct {
	base nodeapi.ClientOptions

	mu      sync.Mutex // serialises update
	clients map[nodeRoute]*nodeapi.Client
	byName  atomic.Pointer[map[string]*nodeapi.Client]
}

func newNodeRouter(base nodeapi.ClientOptions) *nodeRouter {
	r := &nodeRouter{base: base, clients: map[nodeRoute]*nodeapi.Client{}}
	r.byName.Store(&map[string]*nodeapi.Client{})
	return r
}

// update routes the clusters of set with the secrets and TLS settings of
// cfg. Clients of routes no cluster uses any more are dropped (their idle
// connections time out).
func (r *nodeRouter) update(set []reconcile.ManagedCluster, cfg *loaded) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	byName := make(map[string]*nodeapi.Client, len(set))
	used := map[nodeRoute]*nodeapi.Client{}
	for _, mc := range set {
		rt := nodeRoute{timeout: mc.Admin.Timeout.Duration, token: cfg.token(mc.Cluster), tls: cfg.clientTLS(mc.Cluster)}
		c := used[rt]
		if c == nil {
			c = r.clients[rt]
		}
		if c == nil {
			o := r.base
			o.Timeout = rt.timeout
			token := rt.token
			o.Tokens = func(string) string { return token.Reveal() }
			if rt.tls != nil {
				o.TLS = map[string]*tls.Config{routeCluster: rt.tls}
			}
			var err error
			if c, err = nodeapi.NewClient(o); err != nil {
				return fmt.Errorf("building the node client of cluster %s: %w", mc.Name, err)
			}
		}
		used[rt] = c
		byName[mc.Name] = c
	}
	r.clients = used
	r.byName.Store(&byName)
	return nil
}

// client returns the client of ep's cluster and ep as that client knows it.
func (r *nodeRouter) client(ep mesh.Endpoint) (*nodeapi.Client, mesh.Endpoint, error) {
	c := (*r.byName.Load())[ep.Cluster]
	if c == nil {
		return nil, ep, fmt.Errorf("node %s: cluster %q is not configured", ep.Node, ep.Cluster)
	}
	ep.Cluster = routeCluster
	return c, ep, nil
}

// Status implements reconcile.Nodes.
func (r *nodeRouter) Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error) {
	c, ep, err := r.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.Status(ctx, ep)
}

// SetPeers implements reconcile.Nodes.
func (r *nodeRouter) SetPeers(ctx context.Context, ep mesh.Endpoint, revision uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	c, ep, err := r.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.SetPeers(ctx, ep, revision, peers)
}

// Leave implements reconcile.Nodes.
func (r *nodeRouter) Leave(ctx context.Context, ep mesh.Endpoint, revision uint64) (mesh.NodeStatus, error) {
	c, ep, err := r.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.Leave(ctx, ep, revision)
}
