package ops

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

func TestReadiness(t *testing.T) {
	observed := reconcile.Status{Passes: 3, LastObserved: fixedNow(), LastPass: reconcile.PassStatus{Result: "ok"}}
	aborted := observed
	aborted.LastPass = reconcile.PassStatus{Result: "aborted", Error: "observing rancher: 503"}
	withErrors := observed
	withErrors.LastPass.Result = "error"
	standby := observed
	standby.Leadership = reconcile.LeadershipStatus{Role: reconcile.RoleStandby, Self: "drover-drover-2", Holder: "drover-drover-1"}
	badConfig := observed
	badConfig.Conditions = []reconcile.Condition{{Type: reconcile.ConditionConfigInvalid, Status: reconcile.ConditionTrue}}
	tests := []struct {
		name  string
		state ReadyState
		want  []string
		notes bool // want holds the notes of a ready answer
	}{
		{"a standby is ready, and says so", ReadyState{true, true, true, standby},
			[]string{"standby: drover-drover-1 leads; this controller (drover-drover-2) pushes nothing and takes over when the leader stops being running and healthy"}, true},
		{"a failed reload: ready, and says so", ReadyState{true, true, true, badConfig},
			[]string{"config: the last reload failed; the last good configuration runs (ConfigInvalid: see /status)"}, true},
		{"everything up: ready", ReadyState{true, true, true, observed}, nil, false},
		{"a pass with node errors still observed rancher: ready", ReadyState{true, true, true, withErrors}, nil, false},
		{"still connecting to rancher", ReadyState{true, false, false, reconcile.Status{}},
			[]string{"rancher not reachable: still connecting to the API"}, false},
		{"connected, no pass yet", ReadyState{true, true, true, reconcile.Status{}}, []string{"first pass not done"}, false},
		{"first pass under way", ReadyState{true, true, true, reconcile.Status{Passes: 1}}, []string{"first pass not done"}, false},
		{"last pass aborted: stale", ReadyState{true, true, true, aborted},
			[]string{"rancher not reachable: the last pass could not observe it (Stale): observing rancher: 503"}, false},
		{"event stream down", ReadyState{true, true, false, observed}, []string{"rancher event stream down"}, false},
		{"no config, stream down, aborted: every reason", ReadyState{false, true, false, aborted}, []string{
			"config not loaded",
			"rancher not reachable: the last pass could not observe it (Stale): observing rancher: 503",
			"rancher event stream down"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, reasons := Readiness(tt.state)
			if ready != (len(tt.want) == 0 || tt.notes) {
				t.Errorf("ready = %v with reasons %q", ready, reasons)
			}
			if d := cmp.Diff(tt.want, reasons); d != "" {
				t.Errorf("reasons (-want +got):\n%s", d)
			}
		})
	}
}
