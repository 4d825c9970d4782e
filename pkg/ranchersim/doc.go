// Package ranchersim is a Rancher 1.6 (Cattle) simulator, in process for
// tests and behind cmd/ranchersim for end-to-end runs: the v2-beta and v1
// API with Cattle's member schema set, filters, paging and state-gated
// actions, the websocket event stream (exact and Cattle-like modes), the
// container, service, stack and host processes with real health checks,
// compose stacks, rancher-metadata, Rancher DNS, a pluggable runtime, fault
// injection, older payload shapes, an API latency model and TLS.
// docs/simulator.md is its specification, with the Cattle source files each
// behaviour comes from and what is not simulated.
//
// It must not import drover's controller packages nor testing: it stands
// for Rancher, real Rancher clients must not be able to tell it apart, and
// the standalone binary must not link the test framework.
//
// # Use in tests
//
//	sim := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
//	sim.CreateStack("demo")
//	sim.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: 3, StartOnCreate: true})
//	sim.WaitSettled(ctx)
//	c, _ := client.NewRancherClient(&client.ClientOpts{Url: sim.SchemasURL(),
//	    AccessKey: sim.AccessKey(), SecretKey: sim.SecretKey()})
//
// NewServer serves the API and its websocket, rancher-metadata
// (MetadataURL) and DNS (DNSAddr) on 127.0.0.1 and closes everything on
// t.Cleanup. Scripting methods (Scale, Upgrade, FinishUpgrade, Rollback,
// Restart, KillContainer, FailHealth) have the same effect as the API
// calls; Containers returns the truth; Faults injects failures; Requests
// counts API requests by "METHOD /path-pattern".
//
// # Layout
//
//   - api.go, collections.go, create.go, actions.go, stacks.go, hosts.go:
//     the API; schemas.go and cattle_types.go: the schemas;
//     processes.go: the states each action starts from; render.go and
//     apiv1.go: objects as Cattle renders them, in v2-beta and v1.
//   - lifecycle.go, services.go, health.go, purge.go: the processes;
//     compose.go: compose files; events.go: the event stream.
//   - metadata*.go, dns*.go: rancher-metadata and DNS.
//   - runtime.go, faults.go, control.go, script.go, fixture.go, observe.go:
//     runtimes, faults, the /_sim/ control API, scripting, fixtures, and
//     observation for benchmarks.
//
// Behaviour that rancher-api.md marks UNCONFIRMED is chosen in the code and
// commented where it is decided (search for UNCONFIRMED).
package ranchersim
