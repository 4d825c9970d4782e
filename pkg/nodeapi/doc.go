// Package nodeapi owns the node admin protocol (api.go: paths, media type,
// request, response and error types; limits.go: its limits; decode.go: its
// strict decoders; httputil.go: the answers every server of the protocol
// gives), the controller's Go client for it (timeouts, retries with
// backoff, capped and drained bodies, per-cluster TLS), the controller's
// announce endpoint, and Server, the hardened HTTP/1.1 server that Go
// agents and the announce endpoint run on (connection caps, one head and
// one body deadline, JSON answers for every error, TLS). docs/nodeapi.md
// is the human description of the same protocol.
//
// The Go agent that serves the protocol for tests and the simulator is
// pkg/nodeagent: the controller links this package, never that one.
//
// It must not know about Rancher, the config file or the reconcile loop: it
// moves peer sets and statuses, it does not decide them.
package nodeapi
