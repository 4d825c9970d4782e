package ops

import (
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
	return len(reasons) == 0, reasons
}
