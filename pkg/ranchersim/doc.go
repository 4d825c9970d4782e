// Package ranchersim is a Rancher 1.6 (Cattle, API v2-beta) simulator, in
// process for tests and behind cmd/ranchersim for end-to-end runs: the API
// with schemas, filters, paging and actions, the websocket event stream
// (exact and Cattle-like modes), the container lifecycle with real health
// checks, rancher-metadata, Rancher DNS, a pluggable runtime and fault
// injection. ../shared/rancher-api.md is its specification.
//
// It must not import drover's controller packages: it stands for Rancher,
// and real Rancher clients must not be able to tell it apart.
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
// # What is simulated
//
//   - API: /v2-beta and /v2-beta/projects/<id> roots with X-API-Schemas;
//     basic auth with Cattle's 401 body; schemas with lowercase collection
//     links, collectionMethods and resourceMethods; collections with
//     field=value and field_<modifier>=value filters on filterable fields
//     only (others silently ignored), repeated parameters, sort/order,
//     limit/marker paging with pagination.next; by-id GETs with a 404 error
//     body; removed objects left out of lists but returned by id; PUT of a
//     service's scale; actions answering with the resource JSON; Cattle ids
//     (1a5, 1st5, 1s12, 1i34, 1h1) and the go-rancher v2 JSON names.
//   - Events: subscribe?eventNames=resource.change over a websocket; a
//     ping event at once and every 5 s; one text frame per changed object
//     with the resource as GET renders it. EventsCattle coalesces per Tick
//     and renders at send time; EventsExact delivers every transition.
//   - Lifecycle: scale up (requested, creating, starting, running; health
//     initializing then healthy), scale down (highest createIndex first;
//     stopping, stopped, removing, removed), in-service upgrade with
//     batches and startFirst (old containers stopped and kept until
//     finishupgrade, restarted by rollback), rolling restart (same ids,
//     startCount + 1), health-check failure with recreate, death outside
//     Rancher with restart. Each step lasts StepDelay.
//   - Health checks are really probed (TCP, then the request line; 2xx/3xx
//     pass) unless the runtime is NoopRuntime.
//   - rancher-metadata: versions, /self by caller IP (X-Forwarded-For with
//     Options.Metadata.XFF), services, containers, stacks, hosts, networks,
//     text and JSON formats, long polls on any key; fields as Cattle's
//     *MetaData classes render them. Answers and the version come from a
//     snapshot reloaded at most once per Options.Metadata.ReloadInterval
//     (1 s, as network-services runs rancher-metadata), not at every
//     lifecycle step; WaitMetadata waits for the next reload.
//   - DNS: A records (TTL 1 s), from the same snapshot, of running
//     containers that pass (or have no) health check for <service>,
//     <service>.<stack>[.rancher.internal], and rancher-metadata
//     [.rancher.internal] at 169.254.169.250 (NetworkServicesIP), where
//     Rancher serves both; UDP with truncation, and TCP.
//
// Behaviour that rancher-api.md marks UNCONFIRMED is chosen in the code and
// commented where it is decided (search for UNCONFIRMED).
package ranchersim
