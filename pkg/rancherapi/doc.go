// Package rancherapi is everything that speaks Rancher 1.6: the go-rancher
// v2 client built from the project's schemas URL, complete snapshots of the
// configured clusters (following pagination, checking every filter it
// relies on), the websocket event stream used as a trigger with ping
// deadlines and reconnect backoff, and pure functions that translate wire
// types into pkg/mesh values.
//
// go-rancher types never leave this package. It must not decide membership
// or talk to nodes, and it never returns a partial snapshot: any error or
// incomplete answer is an error, classified as transient or terminal.
//
// # Connecting
//
// New accepts any URL form a user gives (http://h:8080, .../v1,
// .../v2-beta, .../v2-beta/projects/1a5, .../schemas, a UI .../env/1a5) and
// builds the go-rancher client from .../v2-beta/projects/<id>/schemas, as
// the rancher CLI does: one GET. Without a project in the URL it lists the
// projects the key can see and uses the only one, or fails naming them.
//
// # Snapshots
//
// Snapshot resolves stacks and services by name and finds containers with
// a bounded number of requests, whatever the number of containers: one list
// of stacks, one of services, one of containers (each followed through its
// pages, Options.PageSize rows a page), plus at most a few by-id reads.
// Cattle silently ignores filters on fields it cannot filter, so filters
// only narrow an answer: every object is checked here (names, stack id,
// the container's serviceIds and stack/service label, the service's
// instanceIds). An instance a service names but the list lacks is read by
// id; if too many are missing the list is done again without filters, and
// if they are still missing the snapshot fails (transient) rather than
// shrink. Sidekick containers are not members of their service.
//
// At most one snapshot runs at a time; callers that arrive meanwhile share
// the one queued after it.
//
// # Errors
//
// IsTerminal: 401 or 403 (one message naming CATTLE_URL, CATTLE_ACCESS_KEY,
// CATTLE_SECRET_KEY and their RANCHER_ twins), 404 on the API root, a URL
// that is not a Rancher API, several visible projects, a configured stack
// or service that does not exist. IsTransient: 5xx, timeouts, refused
// connections, partial or inconsistent answers. Messages name the URL and
// what to check; the secret key never appears in them.
//
// # Events
//
// Watch reads the subscribe collection's websocket with eventNames
// resource.change. Events are triggers, not data: a relevant one (a
// container, instance, service or stack of the configured stacks) calls
// onChange, and so does every (re)connect, because Cattle replays nothing,
// and every ResyncInterval. The client sets its own read deadline, renewed
// by Cattle's ping events, dials with a handshake timeout (go-rancher's
// Websocket has none, and no context), and reconnects with jittered,
// capped exponential backoff that starts over after a healthy period.
//
// go-rancher's calls take no context: each one is bounded by
// Options.Timeout, and a caller whose context ends gets its error at once
// while the request finishes in the background.
package rancherapi
