package main

import (
	"slices"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// identity is one incarnation of a container: a restarted container keeps
// its id and gets startCount + 1, and legitimately drops its links.
type identity struct {
	id         string
	startCount int64
}

// member is a container that is a member of its cluster's mesh.
type member struct {
	identity
	ip, node, service, cluster string
	createIndex                int64
}

// topology says which cluster each service belongs to and how nodes are
// named; the soak's config is generated from it.
type topology struct {
	stack string
	// clusters lists each cluster's services.
	clusters []clusterDef
	// nodeName names the node of a container of service at ip.
	nodeName func(service, ip string) string
}

type clusterDef struct {
	name     string
	services []string
}

// clusterOf returns the cluster of a service ("" when it is none of ours).
func (t topology) clusterOf(service string) string {
	for _, c := range t.clusters {
		if slices.Contains(c.services, service) {
			return c.name
		}
	}
	return ""
}

// services returns every service, in cluster order.
func (t topology) services() []string {
	var out []string
	for _, c := range t.clusters {
		out = append(out, c.services...)
	}
	return out
}

// truth is the simulator's view of our stack at one instant.
type truth struct {
	at time.Time
	// members by container id: running, with health healthy,
	// updating-healthy or none (the controller's default rule).
	members map[string]member
	// running counts the running containers (members or not): the nodes
	// that hold resources.
	running int
	// serviceStates by service name (active, upgrading, upgraded, ...).
	serviceStates map[string]string
}

// truthFromState extracts our stack's truth from the simulator's state.
func truthFromState(st harness.StateView, topo topology, at time.Time) truth {
	t := truth{at: at, members: map[string]member{}, serviceStates: map[string]string{}}
	for _, svc := range st.Stacks[topo.stack] {
		cluster := topo.clusterOf(svc.Name)
		if cluster == "" {
			continue
		}
		t.serviceStates[svc.Name] = svc.State
		for _, c := range svc.Containers {
			if c.State == "running" {
				t.running++
			}
			if !isMember(c.State, c.HealthState) {
				continue
			}
			t.members[c.ID] = member{identity: identity{c.ID, c.StartCount}, ip: c.IP,
				node: topo.nodeName(svc.Name, c.IP), service: svc.Name, cluster: cluster, createIndex: c.CreateIndex}
		}
	}
	return t
}

// isMember is the controller's default membership rule.
func isMember(state, health string) bool {
	if state != "running" {
		return false
	}
	switch health {
	case "healthy", "updating-healthy", "", "none":
		return true
	}
	return false
}

// sameMembers reports whether a and b hold the same incarnations.
func sameMembers(a, b truth) bool {
	if len(a.members) != len(b.members) {
		return false
	}
	for id, m := range a.members {
		if o, ok := b.members[id]; !ok || o.identity != m.identity || o.ip != m.ip {
			return false
		}
	}
	return true
}

// expectedPeers returns the node names m must be connected to: every
// other member of its cluster, sorted.
func (t truth) expectedPeers(m member) []string {
	var out []string
	for _, o := range t.members {
		if o.cluster == m.cluster && o.id != m.id {
			out = append(out, o.node)
		}
	}
	slices.Sort(out)
	return out
}

// membersOf returns the members of a service sorted by create index.
func (t truth) membersOf(service string) []member {
	var out []member
	for _, m := range t.members {
		if m.service == service {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b member) int { return int(a.createIndex - b.createIndex) })
	return out
}

// clusterSizes returns the number of members per cluster.
func (t truth) clusterSizes(topo topology) []int {
	out := make([]int, len(topo.clusters))
	for _, m := range t.members {
		for i, c := range topo.clusters {
			if c.name == m.cluster {
				out[i]++
			}
		}
	}
	return out
}
