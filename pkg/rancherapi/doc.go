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
// Cattle silently ignores filters on fields it cannot filter, and honours a
// filter on a column even where the column is empty, so filters only
// narrow an answer and every object is checked here.
//
// Members are found through every source Cattle offers (sources.go): the
// service's instanceIds, the container's serviceIds and serviceId, the
// io.rancher.stack_service.name label ("<stack>/<service>"; a third part
// marks a sidekick, which is no member) and its stackId. None is rendered
// by every server (older Cattle and the v1 API have neither serviceIds nor
// stackId on containers, nor instanceIds on services); the ids win over
// the label, which keeps the old names after a rename. Missing data is
// never taken for an empty or smaller service: a stack-filtered list that
// leaves a configured service without a member, short of its scale with no
// instanceIds, or with sources that disagree is read again without the
// filter (and the filter is dropped for good once it hid members); sources
// that still disagree get the services read again; what still disagrees,
// or a service with scale > 0 and no member that no instanceIds confirm,
// fails the snapshot as transient. An instance a service names but the
// list lacks is read by id; too many of them fail the snapshot too.
//
// At most one snapshot runs at a time; callers that arrive meanwhile share
// the one queued after it.
//
// # Errors
//
// IsTerminal: 401 or 403 (one message naming CATTLE_URL, CATTLE_ACCESS_KEY,
// CATTLE_SECRET_KEY and their RANCHER_ twins), 404 on the API root, a URL
// that is not a Rancher API, several visible projects, a configured stack
// or service that does not exist, a certificate that does not verify.
// IsTransient: 5xx, timeouts, refused connections, partial or inconsistent
// answers. Messages name the URL and what to check; neither the secret key
// nor the URL's user info ever appears in them, even for a URL that does
// not parse (CheckURL validates one the same way).
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
// # TLS
//
// Options.TLS is the event stream's TLS configuration. go-rancher's own
// requests use http.DefaultTransport (its ClientOpts has no transport), so
// the caller installs the same configuration there. A certificate that does
// not verify, or a server that does not speak TLS, is a terminal error
// that names --rancher-ca-file, RANCHER_CA_FILE and SSL_CERT_FILE.
//
// go-rancher's calls take no context: each one is bounded by
// Options.Timeout, and a caller whose context ends gets its error at once
// while the request finishes in the background.
package rancherapi
