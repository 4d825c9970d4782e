package main

import (
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// The Rancher client, the node router, the cluster source and the
// elector satisfy the reconciler's interfaces.
var (
	_ reconcile.Observer        = (*rancherapi.Client)(nil)
	_ reconcile.Watcher         = (*rancherapi.Client)(nil)
	_ reconcile.ContainerLookup = (*rancherapi.Client)(nil)
	_ reconcile.Nodes           = (*nodeRouter)(nil)
	_ reconcile.ClusterSource   = (*clusterSource)(nil)
	_ reconcile.Elector         = (*elector)(nil)
)
