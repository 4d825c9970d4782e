// Package harness runs drover end to end on one machine: it builds the
// binaries and the hello release once, sets up the network-namespace hosts
// (hack/netns.sh), starts the standalone Rancher simulator (cmd/ranchersim)
// with the exec runtime running hack/sim-node.sh, starts, stops and kills
// the controller binary with a generated config, reads nodes() inside a
// node's VM through the release's rpc in its namespace, and talks to the
// simulator's control API.
//
// Rancher's network services are where a container finds them:
// rancher-metadata at 169.254.169.250:80 and Rancher DNS at
// 169.254.169.250:53, named in each host's resolv.conf with Rancher's
// search list. The simulator listens on the bridge (10.42.0.1) on free
// ports of its own, and hack/netns.sh adds DNAT rules inside each
// namespace (never in the root namespace; they vanish with the namespace)
// that lead 169.254.169.250 to the simulator of the run that owns the
// host, so runs that share the bridge (an e2e run and a benchmark) each
// reach their own. Releases see no simulator address: they read
// http://rancher-metadata/... as on Rancher.
//
// It is shared by the end-to-end tests (test/e2e), the benchmark
// (test/bench) and the demo (cmd/drover-demo). Functions return errors
// rather than failing a test, so that programs can use them too; every
// process it starts is stopped by Stop/Kill/Close, which callers register
// as cleanups. It sends traffic only to loopback and to the 10.42.0.0/16
// namespace hosts it (or hack/netns.sh) created.
//
// Most of it needs root (network namespaces) and Erlang/Elixir; Require
// says what is missing.
package harness
