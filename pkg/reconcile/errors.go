package reconcile

import "errors"

// ErrPartialSnapshot reports a snapshot that lacks a configured cluster.
// A pass that meets it acts on nothing (safety rule 1).
var ErrPartialSnapshot = errors.New("snapshot is partial")

// ErrStaleRevision is what Options.IsStaleRevision recognises by default: a
// node refused a push because it already holds a newer or different
// revision (another controller, or a status read before a restart). It is
// not retried blindly: the node's status is re-read by the next pass.
var ErrStaleRevision = errors.New("stale revision")
