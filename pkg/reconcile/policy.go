package reconcile

import (
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// Policy filters a cluster's plan before it is applied, as external-dns's
// policies do. Apply must not modify its argument.
type Policy interface {
	Apply(Changes) Changes
}

// SyncPolicy applies every change: peers are added and removed.
type SyncPolicy struct{}

// Apply returns the changes as they are.
func (SyncPolicy) Apply(c Changes) Changes { return c }

// AddOnlyPolicy never removes a peer and never tells a node to leave; for
// incidents, when removals cannot be trusted. A node's managed set only
// grows: each set-peers carries the desired peers plus those the node
// already manages, and a change that would add nothing is dropped.
type AddOnlyPolicy struct{}

// Apply drops leaves and removals.
func (AddOnlyPolicy) Apply(c Changes) Changes {
	var out Changes
	for _, ch := range c.SetPeers {
		if len(ch.Added) == 0 && len(ch.Missing) == 0 && ch.Reason != ReasonRejoin {
			continue // only removals: nothing left to do
		}
		ch.Peers = mesh.NewPeerSet(append(append(mesh.PeerSet{}, ch.Peers...), ch.Removed...)...)
		ch.Removed = nil
		out.SetPeers = append(out.SetPeers, ch)
	}
	return out
}

// PolicyFor returns the policy named in the config (config.PolicySync or
// config.PolicyAddOnly); anything else is sync.
func PolicyFor(name string) Policy {
	if name == config.PolicyAddOnly {
		return AddOnlyPolicy{}
	}
	return SyncPolicy{}
}

// ApplyPolicies applies each cluster's policy to its part of the plan.
func ApplyPolicies(d Desired, c Changes) Changes {
	var out Changes
	for _, dc := range d.Clusters {
		part := PolicyFor(dc.Policy).Apply(c.ForCluster(dc.Name))
		out.Leave = append(out.Leave, part.Leave...)
		out.SetPeers = append(out.SetPeers, part.SetPeers...)
	}
	return out
}

// ClockRevision is a revision derived from the wall clock (milliseconds
// since the Unix epoch), used as PlanOptions.MinRevision.
func ClockRevision(now time.Time) uint64 {
	ms := now.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}
