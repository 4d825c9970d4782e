// Package rancherapi is everything that speaks Rancher 1.6: the go-rancher
// v2 client built from the project's schemas URL, an informer-style cache
// of the environment fed by lists and the websocket event stream, complete
// snapshots of the configured clusters judged from it, targeted reads of
// announced containers, and pure functions that translate Cattle's objects
// into pkg/mesh values. It implements reconcile.Observer, Watcher and
// ContainerLookup.
//
// go-rancher types never leave this package; objects are decoded straight
// into slim types of the fields drover uses (wire.go). It must not decide
// membership or talk to nodes, and it never returns a partial snapshot:
// any error or incomplete answer is an error, classified as transient or
// terminal.
//
// # Connecting
//
// New accepts any URL form a user gives (http://h:8080, .../v1,
// .../v2-beta, .../v2-beta/projects/1a5, .../schemas, a UI .../env/1a5) and
// builds the go-rancher client from .../v2-beta/projects/<id>/schemas, as
// the rancher CLI does: one GET. Without a project in the URL it lists the
// projects the key can see and uses the only one, or fails naming them.
//
// # The cache
//
// The cache (cache.go) holds every stack, service (with its launch
// config's labels) and container of the environment. A list replaces a
// collection; each resource.change event carries the whole object as
// Cattle renders it at send time and replaces it; a removed object leaves.
// Events are numbered as they are received and reads note the numbers
// around them, so an observation is ordered against the others: an event
// received before a list started is superseded by it, one received after
// it is applied, and one received while it ran is ambiguous, so the object
// is read again by id before the next snapshot. The cache is used only
// when complete: the stream is connected, a full list ran since its last
// (re)connect, and no event was dropped (the queue between the stream's
// reader and the cache is bounded, Options.EventQueue). Watch feeds it;
// the reconciler's scheduler owns the resync (Snapshot with relist).
//
// # Snapshots
//
// Snapshot(ctx, false) answers from a complete cache at no request, and
// lists first otherwise; Snapshot(ctx, true) always lists: one list of
// stacks, one of services and one of containers, each unfiltered (the
// cache holds the whole environment) and followed through its pages
// (Options.PageSize rows a page), plus at most a few by-id reads. Each
// cluster's Generation changes when, and only when, its data does.
// SetClusters replaces the configured clusters for the next snapshot.
//
// Members are found through every source Cattle offers (sources.go): the
// service's instanceIds, the container's serviceIds and serviceId, the
// io.rancher.stack_service.name label ("<stack>/<service>"; a third part
// marks a sidekick, which is no member) and its stackId. None is rendered
// by every server (older Cattle and the v1 API have neither serviceIds nor
// stackId on containers, nor instanceIds on services); the ids win over
// the label, which keeps the old names after a rename. Missing data is
// never taken for an empty or smaller service: an instance a service names
// but the cache lacks is read by id (too many of them fail the snapshot);
// sources that disagree get the services listed again, then, for an answer
// from the cache, everything; what still disagrees, or a service with
// scale > 0 and no member that no instanceIds confirm, fails the snapshot
// as transient.
//
// At most one snapshot runs at a time; callers that arrive meanwhile share
// the one queued after it.
//
// # Lookups
//
// ContainersByIP reads announced containers by what Cattle filters and
// sorts, never by IP, which it cannot filter: the services of the
// containers the cache knows by name_prefix, and IPs it does not know from
// one page of the newest containers (ids descending); each row is checked
// with the member sources, and what is read goes into the cache. Its cost
// is O(configured services), never O(IPs).
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
// resource.change into the cache, and calls onChange on every change that
// may matter to a configured cluster, after every (re)connect (Cattle
// replays nothing: the cache is listed again before it is used) and when
// events fell behind. The client sets its own read deadline, renewed by
// Cattle's ping events, dials with a handshake timeout (go-rancher's
// Websocket has none, and no context), and reconnects with jittered,
// capped exponential backoff that starts over after a healthy period.
// While the stream is down, snapshots list.
//
// # TLS
//
// Options.TLS is the event stream's TLS configuration. go-rancher's own
// requests use http.DefaultTransport (its ClientOpts has no transport), and
// so do the list pages this package streams itself (go-rancher reads a
// page whole), so the caller installs the same configuration there. A certificate that does
// not verify, or a server that does not speak TLS, is a terminal error
// that names --rancher-ca-file, RANCHER_CA_FILE and SSL_CERT_FILE.
//
// go-rancher's calls take no context: each one is bounded by
// Options.Timeout, and a caller whose context ends gets its error at once
// while the request finishes in the background. A list page is bounded by
// the caller's context and Options.Timeout, and by its size (64 MiB).
package rancherapi
