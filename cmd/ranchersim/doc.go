// Command ranchersim runs the Rancher 1.6 simulator of package ranchersim
// on its own, for end-to-end tests, the demo, and users who want to try
// drover without Rancher. docs/simulator.md specifies what it simulates,
// every flag, and how it answers what it does not simulate.
//
//	ranchersim --fixture config/sim/demo.yaml --api 127.0.0.1:8080 \
//	    --metadata 127.0.0.1:8081 --dns 127.0.0.1:8053 --events cattle
//
// On start it prints one line each: the API URL, the schemas URL (build
// go-rancher clients from it), the access and secret keys, the metadata
// and DNS addresses, and "ranchersim: ready". SIGINT or SIGTERM stops every
// container through the runtime and exits.
//
// With --runtime exec, --exec names a command run once per container as a
// child process in its own process group, with CONTAINER_ID,
// CONTAINER_NAME, CONTAINER_IP, STACK_NAME, SERVICE_NAME, CREATE_INDEX,
// HOST_ID, RANCHER_METADATA_URL, RANCHER_DNS and the service's environment;
// its exit is the container's death. Health checks are then really probed.
//
// With --runtime go, each container is an in-process Go agent (pkg/simruntime)
// on its IP, all on one in-memory mesh: no root, no Erlang. Use a loopback
// range (--ip-range 127.42.0.0/16); the agents' token is DROVER_NODE_TOKEN,
// DROVER_ANNOUNCE_URL and DROVER_ANNOUNCE_TOKEN turn announcements on.
//
// --shape renders older Cattle payloads (e.g. --shape
// noContainerServiceRefs,noServiceInstanceIDs), --api-latency and
// --api-latency-per-object delay API answers as a loaded Cattle does,
// --tls-cert and --tls-key serve the API and websocket over TLS (metadata
// and DNS stay plain), --remove-delay and --purge-interval set when removed
// objects are purged. Flags that cannot work (an --exec command that does
// not exist, a --runtime go range this machine cannot listen on) stop it at
// start with exit status 2 and a message saying what to change.
//
// The control API lives under /_sim/ on the API listener, with the same
// basic auth (see ranchersim's control.go): scale, upgrade, finishupgrade,
// rollback, restart, kill, fail-health, fault, state, containers,
// requests, wait-settled, flush-events.
package main
