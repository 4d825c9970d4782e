package mesh

import (
	"slices"
	"time"
)

// Member is one container of a clustered service as Rancher reports it,
// whatever its state. Whether it counts as a member of the mesh is decided
// by the membership rule of the cluster (see config.Membership), not here.
type Member struct {
	// ContainerID is Rancher's container id, e.g. "1i34".
	ContainerID string `json:"containerId"`
	// Name is the container name, e.g. "demo-hello-1".
	Name string `json:"name"`
	// Service is the name of the Rancher service the container belongs to.
	Service string `json:"service"`
	// ServiceID is Rancher's service id, e.g. "1s12".
	ServiceID string `json:"serviceId"`
	// IP is the container's primary (overlay) IP address, e.g. "10.42.3.7".
	IP string `json:"ip"`
	// State is the container state: running, stopping, stopped, ...
	State string `json:"state"`
	// HealthState is the container health state; "" when the service has no
	// health check.
	HealthState string `json:"healthState"`
	// CreateIndex is the service's creation counter at the time the container
	// was created. It is never reused within a service.
	CreateIndex int64 `json:"createIndex"`
	// StartCount counts how many times the container has been started.
	StartCount int64 `json:"startCount"`
	// HostID is Rancher's id of the host running the container, e.g. "1h1".
	HostID string `json:"hostId"`
}

// Service is one Rancher service that is part of a cluster.
type Service struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Scale is the desired scale the service was given.
	Scale int64 `json:"scale"`
	// Containers are all non-removed containers of the service in any state,
	// sorted by CreateIndex.
	Containers []Member `json:"containers"`
}

// Cluster is what Rancher reports for one clustered service group of the
// config: a stack and the services that form one mesh.
type Cluster struct {
	// Name is the cluster name from the config.
	Name string `json:"name"`
	// Stack is the Rancher stack name, StackID its id.
	Stack    string    `json:"stack"`
	StackID  string    `json:"stackId"`
	Services []Service `json:"services"`
	// Generation changes whenever the observer's data for the cluster
	// changes, and only then: a consumer may reuse what it computed from an
	// earlier snapshot of the same generation. 0 means unknown: always
	// recompute.
	Generation uint64 `json:"generation,omitempty"`
}

// Snapshot is a consistent, complete observation of every configured
// cluster. A snapshot is either whole or not returned at all: an adapter
// that fails to read any part must return an error instead.
type Snapshot struct {
	Clusters []Cluster `json:"clusters"`
	// TakenAt is when the observation finished.
	TakenAt time.Time `json:"takenAt"`
	// Requests is the number of API requests the snapshot cost.
	Requests int `json:"requests"`
}

// Cluster returns the cluster with the given name and whether it exists.
func (s Snapshot) Cluster(name string) (Cluster, bool) {
	for _, c := range s.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return Cluster{}, false
}

// Members returns every container of every service of the cluster, in
// service order then CreateIndex order.
func (c Cluster) Members() []Member {
	var out []Member
	for _, s := range c.Services {
		out = append(out, s.Containers...)
	}
	return out
}

// NodeName is a distributed Erlang node name, e.g. "hello@10.42.3.7".
type NodeName string

// PeerSet is a sorted, duplicate-free list of node names.
type PeerSet []NodeName

// NewPeerSet returns the sorted, de-duplicated set of the given names.
func NewPeerSet(names ...NodeName) PeerSet {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// Equal reports whether two peer sets hold the same names. Both must be
// normalised (as NewPeerSet returns them).
func (p PeerSet) Equal(q PeerSet) bool { return slices.Equal(p, q) }

// Contains reports whether the set holds name.
func (p PeerSet) Contains(name NodeName) bool {
	_, ok := slices.BinarySearch(p, name)
	return ok
}

// Minus returns the names of p that are not in q, sorted.
func (p PeerSet) Minus(q PeerSet) PeerSet {
	var out PeerSet
	for _, n := range p {
		if !q.Contains(n) {
			out = append(out, n)
		}
	}
	return out
}

// Strings returns the names as plain strings.
func (p PeerSet) Strings() []string {
	out := make([]string, len(p))
	for i, n := range p {
		out[i] = string(n)
	}
	return out
}
