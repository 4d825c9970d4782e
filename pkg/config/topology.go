package config

import "fmt"

// Degree limits and default of the boundedDegree topology.
const (
	// MinDegree: two peers make a ring, the smallest overlay that stays
	// connected when one node fails.
	MinDegree = 2
	// MaxDegree: a node holding 64 peers already carries the links of a
	// 65-node full mesh, and full meshes hold up to about 50-200 nodes; a
	// larger degree would buy a shorter path (about 2 hops at 10,000
	// nodes) for the per-node cost a bounded topology exists to avoid.
	MaxDegree = 64
	// DefaultDegree: six peers (three independent rings) keep the longest
	// path at 4 hops for 100 nodes, 6 for 1,000 and 8 for 10,000 (reconcile's
	// TestBoundedDegreeDiameter and BenchmarkBoundedDegree) and survive the
	// loss of any node, while each node holds 6 connections instead of n-1.
	DefaultDegree = 6
)

// defaultTopology fills the topology and, for boundedDegree, the degree.
func (c *Cluster) defaultTopology() {
	if c.Topology == "" {
		c.Topology = TopologyFullMesh
	}
	if c.Topology == TopologyBoundedDegree && c.Degree == nil {
		k := DefaultDegree
		c.Degree = &k
	}
}

// validateTopology checks topology and degree.
func (c Cluster) validateTopology(v *validator, p string) {
	switch c.Topology {
	case TopologyFullMesh:
		if c.Degree != nil {
			v.add(p+".degree", "applies only to topology %q: remove it, or set topology: %s", TopologyBoundedDegree, TopologyBoundedDegree)
		}
	case TopologyBoundedDegree:
		if c.Degree != nil && (*c.Degree < MinDegree || *c.Degree > MaxDegree) {
			v.add(p+".degree", "must be between %d and %d (the most peers a member holds), got %d", MinDegree, MaxDegree, *c.Degree)
		}
	default:
		v.add(p+".topology", "must be %q or %q, got %q", TopologyFullMesh, TopologyBoundedDegree, c.Topology)
	}
}

// DegreeOf returns the cluster's degree: its Degree under boundedDegree,
// 0 for a full mesh.
func (c Cluster) DegreeOf() int {
	if c.Topology != TopologyBoundedDegree {
		return 0
	}
	if c.Degree == nil {
		return DefaultDegree
	}
	return *c.Degree
}

// topologyWarnings says what the file alone cannot check about a
// bounded-degree cluster: p is the cluster's path.
func (c Cluster) topologyWarnings(p string) []string {
	if c.Topology != TopologyBoundedDegree {
		return nil
	}
	out := []string{fmt.Sprintf("%s.topology: boundedDegree needs every node of cluster %q to run with -kernel connect_all false "+
		"(config/node/rel/env.sh.eex sets it from DROVER_CONNECT_ALL, false by default); this is checked on each node at run time "+
		"(its GET /v1/status), and a node that reports connect_all true gets no peers", p, c.Name)}
	if c.Policy == PolicyAddOnly {
		out = append(out, fmt.Sprintf("%s.policy: add-only with boundedDegree keeps every link a node ever held: "+
			"degrees grow past %d as members come and go, until the policy is set back to sync", p, c.DegreeOf()))
	}
	return out
}
