package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The adapters satisfy the reconciler's interfaces.
var (
	_ reconcile.Observer        = (*rancherAdapter)(nil)
	_ reconcile.Watcher         = (*rancherAdapter)(nil)
	_ reconcile.ContainerLookup = (*rancherAdapter)(nil)
	_ reconcile.Nodes           = clusterNodes{}
)

// rancherAdapter gives today's rancherapi.Client the reconciler's
// Observer, Watcher and ContainerLookup, until pkg/rancherapi implements
// them over its informer-style cache. It is thin on purpose:
//   - Snapshot with relist false answers from the last list as long as no
//     event arrived since that list started (Watch counts them); otherwise,
//     and with relist true, it lists. Level-based: only an event can make
//     the last list stale, and a lost one is repaired by the resync.
//   - A cluster's Generation changes only when its listed data changes, so
//     the reconciler recomputes only the clusters that did.
//   - ContainersByIP is one targeted lookup for one IP, and one list (three
//     requests, whatever the number of IPs) for more.
type rancherAdapter struct {
	c *rancherapi.Client

	mu       sync.Mutex
	last     mesh.Snapshot
	have     bool
	events   uint64 // events seen by Watch
	listedAt uint64 // events seen when the last stored list started
	gen      uint64 // last generation handed out
}

// Snapshot implements reconcile.Observer.
func (a *rancherAdapter) Snapshot(ctx context.Context, relist bool) (mesh.Snapshot, error) {
	a.mu.Lock()
	if !relist && a.have && a.listedAt == a.events {
		s := a.last
		a.mu.Unlock()
		s.Requests = 0
		return s, nil
	}
	seq := a.events
	a.mu.Unlock()
	snap, err := a.c.Snapshot(ctx)
	if err != nil {
		return mesh.Snapshot{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	snap = a.withGenerations(snap)
	if !a.have || seq >= a.listedAt {
		a.last, a.have, a.listedAt = snap, true, seq
	}
	return snap, nil
}

// withGenerations returns snap (shared with other callers of the client:
// copied, not changed) with each cluster's generation kept while its data
// equals the last list's, and a new one otherwise.
func (a *rancherAdapter) withGenerations(snap mesh.Snapshot) mesh.Snapshot {
	snap.Clusters = slices.Clone(snap.Clusters)
	for i, c := range snap.Clusters {
		if old, ok := a.last.Cluster(c.Name); ok && a.have && sameCluster(old, c) {
			snap.Clusters[i].Generation = old.Generation
			continue
		}
		a.gen++
		snap.Clusters[i].Generation = a.gen
	}
	return snap
}

// sameCluster reports whether two listings of a cluster hold the same data.
func sameCluster(a, b mesh.Cluster) bool {
	return a.Name == b.Name && a.Stack == b.Stack && a.StackID == b.StackID &&
		slices.EqualFunc(a.Services, b.Services, func(x, y mesh.Service) bool {
			return x.ID == y.ID && x.Name == y.Name && x.State == y.State && x.Scale == y.Scale &&
				slices.Equal(x.Containers, y.Containers)
		})
}

// Watch implements reconcile.Watcher: every change also makes the last
// list stale.
func (a *rancherAdapter) Watch(ctx context.Context, onChange func()) error {
	return a.c.Watch(ctx, func() {
		a.mu.Lock()
		a.events++
		a.mu.Unlock()
		onChange()
	})
}

// ContainersByIP implements reconcile.ContainerLookup.
func (a *rancherAdapter) ContainersByIP(ctx context.Context, ips []string) (map[string]mesh.Member, error) {
	out := map[string]mesh.Member{}
	if len(ips) == 1 {
		m, ok, err := a.c.ContainerByIP(ctx, ips[0])
		if ok {
			out[ips[0]] = m
		}
		return out, err
	}
	snap, err := a.Snapshot(ctx, true)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, ip := range ips {
		want[ip] = true
	}
	for _, c := range snap.Clusters {
		for _, m := range c.Members() {
			if old, ok := out[m.IP]; want[m.IP] && (!ok || betterMatch(m, old)) {
				out[m.IP] = m
			}
		}
	}
	return out, nil
}

// betterMatch prefers, among containers sharing an IP, a running one,
// then the newest (as rancherapi's own lookup does).
func betterMatch(m, than mesh.Member) bool {
	if (m.State == "running") != (than.State == "running") {
		return m.State == "running"
	}
	return m.CreateIndex > than.CreateIndex
}

// clusterNodes routes each node call to a node client whose per-attempt
// timeout is the node's cluster's admin.timeout (one client per distinct
// timeout), so that every cluster's timeout is honoured.
type clusterNodes map[string]*nodeapi.Client

// newClusterNodes builds the node clients of the clusters.
func newClusterNodes(cs []config.Cluster, opts nodeapi.ClientOptions) (clusterNodes, error) {
	byTimeout := map[time.Duration]*nodeapi.Client{}
	out := clusterNodes{}
	for _, c := range cs {
		d := c.Admin.Timeout.Duration
		if byTimeout[d] == nil {
			o := opts
			o.Timeout = d
			nc, err := nodeapi.NewClient(o)
			if err != nil {
				return nil, err
			}
			byTimeout[d] = nc
		}
		out[c.Name] = byTimeout[d]
	}
	return out, nil
}

func (n clusterNodes) client(ep mesh.Endpoint) (*nodeapi.Client, error) {
	if c := n[ep.Cluster]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("node %s: cluster %q is not configured", ep.Node, ep.Cluster)
}

// Status implements reconcile.Nodes.
func (n clusterNodes) Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error) {
	c, err := n.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.Status(ctx, ep)
}

// SetPeers implements reconcile.Nodes.
func (n clusterNodes) SetPeers(ctx context.Context, ep mesh.Endpoint, revision uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	c, err := n.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.SetPeers(ctx, ep, revision, peers)
}

// Leave implements reconcile.Nodes.
func (n clusterNodes) Leave(ctx context.Context, ep mesh.Endpoint, revision uint64) (mesh.NodeStatus, error) {
	c, err := n.client(ep)
	if err != nil {
		return mesh.NodeStatus{}, err
	}
	return c.Leave(ctx, ep, revision)
}
