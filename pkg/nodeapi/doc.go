// Package nodeapi owns the node admin protocol (api.go: paths, media type,
// request, response and error types), the controller's Go client for it
// (timeouts, retries with backoff, capped and drained bodies), and a Go
// agent library that serves the protocol for tests and for nodes that are
// not BEAM. docs/nodeapi.md is the human description of the same protocol.
//
// It must not know about Rancher, the config file or the reconcile loop: it
// moves peer sets and statuses, it does not decide them.
package nodeapi
