// Command soak is drover's soak run (`make soak`): for a bounded time it
// drives a Rancher 1.6 simulator with randomized, seeded changes (scale up
// and down, in-service upgrades with and without startFirst, rolling
// restarts, kill -9 of containers and VMs, SIGKILL and SIGTERM of the
// controller, Rancher API 5xx and hangs, websocket drops) against the real
// controller binary and nodes (in-process Go agents by default, real BEAM
// nodes in network namespaces with -runtime exec), and checks all along:
//
//   - no member loses a peer it should keep: every member's connected peers
//     are sampled often; a pair of members that were connected and are
//     both still members with the same identity (container id and start
//     count) must stay connected;
//   - every change converges: once Rancher's truth stops changing (and any
//     fault has ended) every member is connected to exactly the other
//     members of its cluster within a bound;
//   - resources stay bounded: the controller's RSS, goroutines and fds, the
//     simulator's (it hosts the Go agents), and on BEAM every VM's RSS, fds
//     and process count, compared between the first and the last quarter
//     of the run.
//
// It prints one line per action, a status line every 30 s and a summary,
// exits 1 on any violation (2 on a usage error), and stops everything it
// started on every exit path, Ctrl-C included. docs/soak.md describes the
// checks, their allowances and how to replay a seed.
package main
