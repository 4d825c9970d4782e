// Package ops serves drover's operator surface: an HTTP server with
// /healthz, /readyz, /metrics (Prometheus), /status (the reconciler's
// Status as JSON) and / (a live mesh view), the Prometheus metrics behind
// reconcile.Recorder and rancherapi's OnRequest, and the status table that
// "controller status" prints.
//
// Handlers never call Rancher or the nodes: they read the last Status the
// reconciler published, through the Status and Ready functions they are
// given, so they answer while Rancher or every node is down, and while a
// pass is stuck. Every response passes through a redactor that removes the
// configured secrets and the user information of URLs: the ops server never
// shows a token or key.
//
// The package must not read flags or the environment, and never logs and
// returns the same error.
package ops
