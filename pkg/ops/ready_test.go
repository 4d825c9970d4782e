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
	tests := []struct {
		name  string
		state ReadyState
		want  []string
	}{
		{"everything up: ready", ReadyState{true, true, true, observed}, nil},
		{"a pass with node errors still observed rancher: ready", ReadyState{true, true, true, withErrors}, nil},
		{"still connecting to rancher", ReadyState{true, false, false, reconcile.Status{}},
			[]string{"rancher not reachable: still connecting to the API"}},
		{"connected, no pass yet", ReadyState{true, true, true, reconcile.Status{}}, []string{"first pass not done"}},
		{"first pass under way", ReadyState{true, true, true, reconcile.Status{Passes: 1}}, []string{"first pass not done"}},
		{"last pass aborted: stale", ReadyState{true, true, true, aborted},
			[]string{"rancher not reachable: the last pass could not observe it (Stale): observing rancher: 503"}},
		{"event stream down", ReadyState{true, true, false, observed}, []string{"rancher event stream down"}},
		{"no config, stream down, aborted: every reason", ReadyState{false, true, false, aborted}, []string{
			"config not loaded",
			"rancher not reachable: the last pass could not observe it (Stale): observing rancher: 503",
			"rancher event stream down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, reasons := Readiness(tt.state)
			if ready != (len(tt.want) == 0) {
				t.Errorf("ready = %v with reasons %q", ready, reasons)
			}
			if d := cmp.Diff(tt.want, reasons); d != "" {
				t.Errorf("reasons (-want +got):\n%s", d)
			}
		})
	}
}
