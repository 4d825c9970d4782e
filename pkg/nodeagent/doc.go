// Package nodeagent is the Go agent: it serves the node admin protocol of
// pkg/nodeapi for one node (Agent, on nodeapi's hardened Server), applies
// the protocol's revision rules to each peer-set and leave request
// (revision.go: decide and plan, pure), and connects peers through a
// Connector. MemoryMesh is the in-memory model of distributed-Erlang links
// that Go agents share in tests, the simulator (--runtime go), the demo
// and the benchmark.
//
// Only tests, the simulator, the demo and the benchmark link it; the
// controller binary must not (cmd/controller's TestControllerLinksNoGoAgent
// checks it). It must not know about Rancher, the config file or the
// reconcile loop.
package nodeagent
