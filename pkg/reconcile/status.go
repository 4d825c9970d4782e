package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Condition types, Kubernetes style.
const (
	// ConditionReady: the controller observes Rancher and the cluster (or
	// node) is converged.
	ConditionReady = "Ready"
	// ConditionConverged: every member holds its desired peers and is
	// connected to them.
	ConditionConverged = "Converged"
	// ConditionStale: the last observation of Rancher failed; what is shown
	// is the last complete one, and nothing is being changed.
	ConditionStale = "Stale"
	// ConditionDegraded: some node cannot be reached or refused a change.
	ConditionDegraded = "Degraded"
)

// Condition statuses.
const (
	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Condition is one aspect of a cluster's or node's state.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// LastTransitionTime is when Status last changed.
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// Status is the controller's view, as Controller.Status returns it.
type Status struct {
	// Passes counts the passes run; LastPass describes the last one.
	Passes   int64      `json:"passes"`
	LastPass PassStatus `json:"lastPass"`
	// LastObserved is when Rancher was last observed completely.
	LastObserved time.Time       `json:"lastObserved"`
	Clusters     []ClusterStatus `json:"clusters"`
}

// PassStatus describes one pass.
type PassStatus struct {
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	// Result is "ok", "error" or "aborted".
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Changes is how many calls the plan held (after policies).
	Changes int `json:"changes"`
	// Kind is why the pass ran (a Kind: event, resync, drift, ...).
	Kind string `json:"kind"`
	// Relist is true when the observer re-listed Rancher; Full when the pass
	// re-read every node's status.
	Relist bool `json:"relist"`
	Full   bool `json:"full"`
}

// ClusterStatus is one cluster's state.
type ClusterStatus struct {
	Name       string       `json:"name"`
	Policy     string       `json:"policy"`
	Topology   string       `json:"topology"`
	Members    int          `json:"members"`
	Conditions []Condition  `json:"conditions"`
	Nodes      []NodeStatus `json:"nodes"`
}

// NodeStatus is one node's state: desired against observed.
type NodeStatus struct {
	Node        mesh.NodeName `json:"node"`
	ContainerID string        `json:"containerId"`
	URL         string        `json:"url"`
	State       string        `json:"state"`
	HealthState string        `json:"healthState"`
	// Member is false for departing nodes; Held marks a removal held by the
	// sudden-drop guard.
	Member bool `json:"member"`
	Held   bool `json:"held,omitempty"`
	// Desired are the peers the node should hold.
	Desired mesh.PeerSet `json:"desired"`
	// Observed is what the node last reported; nil if it never answered.
	Observed *mesh.NodeStatus `json:"observed,omitempty"`
	// Leaving is the node's own leaving flag.
	Leaving bool `json:"leaving"`
	// LastPush is the last call that changed (or tried to change) the node.
	LastPush *PushResult `json:"lastPush,omitempty"`
	// BackoffUntil is set while calls to the node are held back after a
	// failure.
	BackoffUntil time.Time   `json:"backoffUntil,omitzero"`
	Conditions   []Condition `json:"conditions"`
}

// PushResult is the outcome of one set-peers or leave call.
type PushResult struct {
	Action   Action        `json:"action"`
	Revision uint64        `json:"revision"`
	Peers    mesh.PeerSet  `json:"peers,omitempty"`
	Reason   string        `json:"reason"`
	Result   string        `json:"result"`
	Error    string        `json:"error,omitempty"`
	At       time.Time     `json:"at"`
	Latency  time.Duration `json:"latency"`
}

// Cluster returns the status of the named cluster.
func (s Status) Cluster(name string) (ClusterStatus, bool) {
	for _, c := range s.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return ClusterStatus{}, false
}

// FindCondition returns the condition of the given type.
func FindCondition(conds []Condition, typ string) (Condition, bool) {
	for _, c := range conds {
		if c.Type == typ {
			return c, true
		}
	}
	return Condition{}, false
}

// DeepCopy returns a copy that shares no memory with s.
func (s Status) DeepCopy() Status {
	out := s
	out.Clusters = make([]ClusterStatus, len(s.Clusters))
	for i, c := range s.Clusters {
		c.Conditions = slices.Clone(c.Conditions)
		nodes := make([]NodeStatus, len(c.Nodes))
		for j, n := range c.Nodes {
			nodes[j] = n.deepCopy()
		}
		c.Nodes = nodes
		out.Clusters[i] = c
	}
	return out
}

func (n NodeStatus) deepCopy() NodeStatus {
	n.Desired = slices.Clone(n.Desired)
	n.Conditions = slices.Clone(n.Conditions)
	if n.Observed != nil {
		o := copyNodeStatus(*n.Observed)
		n.Observed = &o
	}
	if n.LastPush != nil {
		p := *n.LastPush
		p.Peers = slices.Clone(p.Peers)
		n.LastPush = &p
	}
	return n
}

func copyNodeStatus(s mesh.NodeStatus) mesh.NodeStatus {
	s.Connected = slices.Clone(s.Connected)
	s.Managed = slices.Clone(s.Managed)
	if s.Failed != nil {
		f := make(map[mesh.NodeName]string, len(s.Failed))
		for k, v := range s.Failed {
			f[k] = v
		}
		s.Failed = f
	}
	return s
}

func cond(typ string, ok bool, reason, msg string) Condition {
	s := ConditionFalse
	if ok {
		s = ConditionTrue
	}
	return Condition{Type: typ, Status: s, Reason: reason, Message: msg}
}

// nodeConverged reports whether a node holds what it should.
func nodeConverged(n NodeStatus) bool {
	o := n.Observed
	switch {
	case n.Held:
		return true
	case o == nil:
		return !n.Member // a stopped container that never answered holds nothing
	case !n.Member:
		return o.Leaving || (len(o.Managed) == 0 && len(o.Connected) == 0)
	}
	return !o.Leaving && o.Managed.Equal(n.Desired) && len(n.Desired.Minus(o.Connected)) == 0
}

// describeGap says what a member lacks, e.g. "missing peers: a@1; not connected: b@2".
func describeGap(n NodeStatus) string {
	o := n.Observed
	var parts []string
	if o.Leaving {
		parts = append(parts, "leaving")
	}
	if miss := n.Desired.Minus(o.Managed); n.Member && len(miss) > 0 {
		parts = append(parts, "missing peers: "+joinNames(miss))
	}
	if extra := o.Managed.Minus(n.Desired); len(extra) > 0 {
		parts = append(parts, "extra peers: "+joinNames(extra))
	}
	if nc := n.Desired.Minus(o.Connected); n.Member && len(nc) > 0 {
		parts = append(parts, "not connected: "+joinNames(nc))
	}
	return strings.Join(parts, "; ")
}

func joinNames(p mesh.PeerSet) string {
	const maxShown = 5
	if len(p) > maxShown {
		return strings.Join(p[:maxShown].Strings(), ", ") + fmt.Sprintf(" and %d more", len(p)-maxShown)
	}
	return strings.Join(p.Strings(), ", ")
}
