// Package nodeapitest provides recording fake nodes for tests and the
// protocol's conformance suite.
//
// StartNode and StartNodes run the Go agent (pkg/nodeagent) behind httptest
// servers. Nodes started on one Network share an in-memory mesh: a link
// shows on both ends, as with Erlang distribution, and a node that is down
// disappears from every other node's view. Each node records the peer-set
// and leave requests it receives (Calls) and the ones it applied
// (Changes), and a test can make it fail with SetFault (500, hang, down)
// or Restart it with a fresh state.
//
// RunConformance checks any agent, Go or BEAM, against the refusal rules
// and limits of docs/nodeapi.md: 401, 404, 405, 413, 400, 409, 414 and
// 431 with JSON error bodies quoting at most 64 bytes of the input, peer
// and connection caps, the head deadline, and an untouched state after
// each.
//
// NewClient, Serve, ServeAgent, Endpoint and PeerSet are the small helpers
// the protocol's and the Go agent's tests share.
//
// PKI is a throwaway certificate authority for TLS tests.
//
// It must only be imported from tests and test tooling.
package nodeapitest
