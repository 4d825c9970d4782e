package mesh

// Endpoint is where a node's admin agent can be reached.
type Endpoint struct {
	// Cluster is the config cluster the node belongs to; adapters use it to
	// pick the cluster's token.
	Cluster string `json:"cluster"`
	// Node is the node's Erlang name.
	Node NodeName `json:"node"`
	// ContainerID is the Rancher container behind the node.
	ContainerID string `json:"containerId"`
	// URL is the agent's base URL, e.g. "http://10.42.3.7:4001".
	URL string `json:"url"`
}

// NodeStatus is what a node reports about itself.
type NodeStatus struct {
	Node NodeName `json:"node"`
	// Connected are the visible nodes the node is connected to.
	Connected PeerSet `json:"connected"`
	// Managed is the peer set last applied by a controller.
	Managed PeerSet `json:"managed"`
	// Revision of the last applied peer set or leave.
	Revision uint64 `json:"revision"`
	// Leaving is true after a leave, until the next peer set.
	Leaving bool `json:"leaving"`
	// OTPRelease, e.g. "25"; "go" for a Go agent.
	OTPRelease string `json:"otpRelease"`
	// ConnectAll is the node's connect_all kernel flag.
	ConnectAll bool `json:"connectAll"`
	// Failed maps peers the node could not connect to the reason.
	Failed map[NodeName]string `json:"failed,omitempty"`
}
