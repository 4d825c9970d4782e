// Package simruntime is a simulator runtime that runs an in-process Go
// agent (pkg/nodeagent) per simulated container: the agent listens on the
// container's IP (the simulator hands out 127.42.0.0/16, which is
// loopback), names itself from a node-name template, and all agents share
// one in-memory mesh, so that every agent's connected list is consistent
// and a stopped, crashed or isolated container vanishes from its peers'
// views. It announces "up" and "stopping" to the controller when an
// announce URL is set. Each agent runs on nodeapi's hardened Server (the
// protocol's connection caps and deadlines), over HTTPS with Options.TLS.
//
// It stands in for real BEAM nodes in fast tests and in large benchmarks
// (thousands of containers in one process). It must not talk to anything
// but loopback, and it knows nothing about Rancher beyond the container
// fields the simulator passes in.
package simruntime
