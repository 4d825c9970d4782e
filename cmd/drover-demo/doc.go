// Command drover-demo is `make demo`: it builds everything, starts the
// Rancher simulator with the demo fixture (config/sim/demo.yaml), real
// hello nodes (Elixir releases in network namespaces, as root) or
// in-process Go agents (without root), and the controller; then it walks
// through a scale up, a scale down and a node failure, printing a live
// table (service, node, peers seen / expected, state) and how long each
// change took to converge. It keeps running until Ctrl-C so that the mesh
// view and `controller status` can be tried, then stops everything and
// leaves nothing behind: processes, namespaces, the bridge, sysctls, logs.
//
// It drives the simulator and the binaries through test/harness, the
// same code the end-to-end tests use.
package main
