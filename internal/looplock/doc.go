// Package looplock keeps test processes that use the same loopback range
// apart. Tests bind simulated containers (Go agents) to addresses of a
// fixed 127.x.0.0/16 range per package (docs/simulator.md); two processes
// using one range at once, e.g. `go test ./...` in two checkouts on one
// machine or two packages sharing a range within one run, would bind
// each other's addresses. Run holds an exclusive lock per range for the
// whole test binary, so such processes take turns instead.
//
// It only ever locks a file under the temporary directory; it never
// touches the network.
package looplock
