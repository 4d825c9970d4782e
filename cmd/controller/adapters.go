package main

import (
	"context"
	"fmt"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The Rancher client and the node router satisfy the reconciler's
// interfaces.
var (
	_ reconcile.Observer        = (*rancherapi.Client)(nil)
	_ reconcile.Watcher         = (*rancherapi.Client)(nil)
	_ reconcile.ContainerLookup = (*rancherapi.Client)(nil)
	_ reconcile.Nodes           = clusterNodes{}
)

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
