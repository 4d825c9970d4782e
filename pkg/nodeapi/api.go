package nodeapi

import "github.com/drover-mesh/drover/pkg/mesh"

// This file is the node admin protocol, version 1: every path, header,
// request and response type that the controller, the Go agent and the BEAM
// agent (agent/) share. docs/nodeapi.md describes it for humans; keep both
// in step.

// Paths served by a node's agent.
const (
	// PathHealth answers 200 while the agent is up. No token needed.
	PathHealth = "/v1/health"
	// PathStatus (GET) returns a Status.
	PathStatus = "/v1/status"
	// PathPeers (PUT) sets the desired peer set: SetPeersRequest in,
	// SetPeersResponse out.
	PathPeers = "/v1/peers"
	// PathLeave (POST) makes the node leave the cluster cleanly:
	// LeaveRequest in, SetPeersResponse out.
	PathLeave = "/v1/leave"
)

// PathAnnounce is served by the controller's node-facing endpoint (not by
// nodes): a node says it is up or stopping. Announcement in, 202 out.
const PathAnnounce = "/v1/announce"

// MediaType is the content type of every request and response body.
const MediaType = "application/json"

// MaxBodyBytes caps request bodies on both sides: a peer set of 2,000
// long node names is about 100 KiB.
const MaxBodyBytes = 1 << 20

// Status is a node's own view of itself.
type Status struct {
	// Node is the node's own name, e.g. "hello@10.42.3.7".
	Node string `json:"node"`
	// Connected are the visible nodes it is connected to (erlang:nodes()).
	Connected []string `json:"connected"`
	// Managed is the peer set last applied by a controller.
	Managed []string `json:"managed"`
	// Revision is the revision of the last applied peer set or leave; 0
	// before any.
	Revision uint64 `json:"revision"`
	// Leaving is true after a leave until the next peer set.
	Leaving bool `json:"leaving"`
	// OTPRelease is the OTP release, e.g. "25"; "go" for the Go agent.
	OTPRelease string `json:"otpRelease"`
	// Flags are the kernel settings that change how a mesh behaves.
	Flags Flags `json:"flags"`
	// Failed lists managed peers that the last attempt could not connect,
	// with the reason.
	Failed []PeerError `json:"failed,omitempty"`
	// AtomsCreated and AtomBudget are reported by the BEAM agent only:
	// the atoms its peer names created so far, and how many it may create
	// (names beyond get 503 atom_budget_exhausted).
	AtomsCreated *uint64 `json:"atoms_created,omitempty"`
	AtomBudget   *uint64 `json:"atom_budget,omitempty"`
}

// Flags are the kernel flags that matter to drover.
type Flags struct {
	ConnectAll                   bool `json:"connectAll"`
	PreventOverlappingPartitions bool `json:"preventOverlappingPartitions"`
	// NetTicktime in seconds.
	NetTicktime int `json:"netTicktime"`
}

// PeerError is a peer that could not be connected.
type PeerError struct {
	Node   string `json:"node"`
	Reason string `json:"reason"`
}

// SetPeersRequest replaces the node's managed peer set. The node connects
// every peer in Peers (in parallel, with a timeout) and disconnects every
// previously managed peer that is not in Peers. It never touches nodes it
// did not manage (remote shells, hidden nodes).
//
// Peers holds at most MaxPeers entries (400 too_many_peers beyond).
// Revision must be >= the last applied revision. An equal revision with an
// equal set is a no-op (a retried push); an equal revision with a different
// set, or a lower revision, is refused with 409.
type SetPeersRequest struct {
	Revision uint64   `json:"revision"`
	Peers    []string `json:"peers"`
}

// SetPeersResponse reports the node's state after applying a request.
type SetPeersResponse struct {
	Status
}

// LeaveRequest makes the node leave: disconnect every peer (global:disconnect
// on BEAM), forget the managed set and report Leaving. Same revision rules
// as SetPeersRequest.
type LeaveRequest struct {
	Revision uint64 `json:"revision"`
}

// Announcement events.
const (
	EventUp       = mesh.EventUp
	EventStopping = mesh.EventStopping
)

// Announcement is what an agent tells the controller when it comes up and
// when it starts to stop. It is only a hint: the controller reads that
// container from Rancher at once, and Rancher decides membership.
type Announcement struct {
	Event string `json:"event"`
	// Node is the node's name; IP its primary IP (the controller finds the
	// container by IP).
	Node string `json:"node"`
	IP   string `json:"ip"`
}

// Error is the body of every non-2xx answer, on both sides.
type Error struct {
	// Code is a stable machine-readable word: one of the Code constants.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes.
const (
	CodeUnauthorized     = "unauthorized"
	CodeTooLarge         = "too_large"
	CodeBadRequest       = "bad_request"
	CodeBadNodeName      = "bad_node_name"
	CodeTooManyPeers     = "too_many_peers"
	CodeStaleRevision    = "stale_revision"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeRateLimited      = "rate_limited"
	CodeInternal         = "internal"
	// CodeURITooLong (414): a request line over MaxLineBytes.
	CodeURITooLong = "uri_too_long"
	// CodeHeadersTooLarge (431): a header line over MaxLineBytes, or a
	// head over MaxHeadBytes.
	CodeHeadersTooLarge = "headers_too_large"
	// CodeAtomBudgetExhausted (503, BEAM agent only): a peer name that is
	// not an atom yet would exceed the node's atom budget.
	CodeAtomBudgetExhausted = "atom_budget_exhausted"
)
