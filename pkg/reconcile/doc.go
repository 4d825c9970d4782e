// Package reconcile is drover's core: it turns the config and a Rancher
// snapshot into the mesh every node should hold (desire.go, pure), compares
// that with what nodes report (plan.go, pure), and runs the loop that
// observes, plans and applies (controller.go), with drift checks and the
// safety policies of docs/design (never act on partial knowledge, full
// idempotent peer sets, bounded parallel pushes, hold sudden drops).
//
// It declares the small interfaces it needs (Observer, Watcher,
// ContainerLookup, Nodes) and never imports go-rancher, net/http or an
// adapter package; cmd/controller wires the adapters in.
package reconcile
