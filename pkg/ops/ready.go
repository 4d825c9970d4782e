package ops

import (
	"fmt"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

// ReadyState is what readiness is judged on. Every field is read from
// memory: judging it never calls Rancher or a node.
type ReadyState struct {
	// ConfigLoaded: the config file was loaded and validated.
	ConfigLoaded bool
	// RancherConnected: the Rancher API answered once and the client is
	// built (the controller is past its start-up retries).
	RancherConnected bool
	// StreamConnected: the Rancher event stream is up.
	StreamConnected bool
	// Status is the reconciler's last published status.
	Status reconcile.Status
}

// Readiness reports whether the controller is ready: config loaded,
// Rancher reachable (the last pass observed it), event stream up, first
// pass done. Otherwise it returns every reason, in that order.
//
// A standby controller that is otherwise ready is ready: it could take
// over at once, and a health check that failed it would have Rancher
// recreate the one controller that is ready to take over. Its one line
// says so ("standby: ..."); so does a line about a config file that
// failed to reload (the last good configuration runs). Ready answers carry
// these lines as notes.
func Readiness(s ReadyState) (bool, []string) {
	var reasons []string
	if !s.ConfigLoaded {
		reasons = append(reasons, "config not loaded")
	}
	switch {
	case !s.RancherConnected:
		reasons = append(reasons, "rancher not reachable: still connecting to the API")
	case s.Status.Passes == 0:
		reasons = append(reasons, "first pass not done")
	case s.Status.LastPass.Result == "aborted":
		reasons = append(reasons, "rancher not reachable: the last pass could not observe it (Stale): "+
			s.Status.LastPass.Error)
	case s.Status.LastObserved.IsZero():
		reasons = append(reasons, "first pass not done")
	}
	if s.RancherConnected && !s.StreamConnected {
		reasons = append(reasons, "rancher event stream down")
	}
	if len(reasons) > 0 {
		return false, reasons
	}
	return true, readyNotes(s.Status)
}

// readyNotes are the lines of a ready answer: the standby role, a config
// file that failed to reload.
func readyNotes(st reconcile.Status) []string {
	var notes []string
	if l := st.Leadership; l.Role == reconcile.RoleStandby {
		leader := l.Holder
		if leader == "" {
			leader = "no controller"
		}
		notes = append(notes, fmt.Sprintf("standby: %s leads; this controller (%s) pushes nothing and takes over when the leader stops being running and healthy", leader, orDash(l.Self)))
	}
	if c, ok := reconcile.FindCondition(st.Conditions, reconcile.ConditionConfigInvalid); ok && c.Status == reconcile.ConditionTrue {
		notes = append(notes, "config: the last reload failed; the last good configuration runs (ConfigInvalid: see /status)")
	}
	return notes
}
