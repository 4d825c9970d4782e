package mesh

import "time"

// Defaults shared by the controller (pkg/config, pkg/reconcile), the
// protocol (pkg/nodeapi) and the agents, defined once here because this is
// the one package all of them import. The BEAM agent's own defaults
// (agent/src/drover_agent.erl) must agree: test/artifacts'
// TestTimeoutsNest reads them from the Erlang source and checks.
const (
	// DefaultAdminPort is the port of the agent inside each node.
	DefaultAdminPort = 4001
	// DefaultAdminTimeout bounds one attempt of an admin call (a cluster's
	// admin.timeout): a healthy agent answers in about a millisecond, and
	// a connect to a dead IP must not hold a worker. It is above the
	// agents' peer connect timeout (1.5 s), because an agent answers a
	// push only after its connects.
	DefaultAdminTimeout = 2 * time.Second
	// DefaultAnnounceRate caps the announcements per second the
	// controller's endpoint accepts: a whole 2,000-node environment
	// restarting in 10 s.
	DefaultAnnounceRate = 200
)

// Announcement events, as agents send them (docs/nodeapi.md, "Announce").
const (
	// EventUp: the node's agent listens, or answered a health probe.
	EventUp = "up"
	// EventStopping: the node received SIGTERM and is leaving.
	EventStopping = "stopping"
)
