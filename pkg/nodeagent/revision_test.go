package nodeagent

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	applied := State{Revision: 5, Managed: []string{"a@1", "b@2"}}
	leaving := State{Revision: 5, Managed: []string{}, Leaving: true}
	fresh := State{Managed: []string{}}
	tests := []struct {
		name string
		cur  State
		cmd  Command
		want Verdict
	}{
		{"higher Revision: Apply", applied, Command{Revision: 6, Peers: []string{"a@1"}}, Apply},
		{"lower Revision: Stale", applied, Command{Revision: 4, Peers: []string{"a@1", "b@2"}}, Stale},
		{"same revision, same set: no-op", applied, Command{Revision: 5, Peers: []string{"a@1", "b@2"}}, Noop},
		{"same revision, other set: Stale", applied, Command{Revision: 5, Peers: []string{"a@1"}}, Stale},
		{"leave at higher Revision: Apply", applied, Command{Leave: true, Revision: 6}, Apply},
		{"leave at lower Revision: Stale", applied, Command{Leave: true, Revision: 4}, Stale},
		{"leave at the revision of a peer set: Stale", applied, Command{Leave: true, Revision: 5}, Stale},
		{"repeated Leave: no-op", leaving, Command{Leave: true, Revision: 5}, Noop},
		{"peers at the revision of a Leave: Stale", leaving, Command{Revision: 5, Peers: []string{}}, Stale},
		{"peers after a leave at a higher Revision: Apply", leaving, Command{Revision: 6, Peers: []string{"a@1"}}, Apply},
		{"fresh node, empty set at revision 0: no-op", fresh, Command{Revision: 0, Peers: []string{}}, Noop},
		{"fresh node, a set at revision 0: Stale", fresh, Command{Revision: 0, Peers: []string{"a@1"}}, Stale},
		{"fresh node, revision 1: Apply", fresh, Command{Revision: 1, Peers: []string{"a@1"}}, Apply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := Decide(tt.cur, tt.cmd)
			if got != tt.want {
				t.Errorf("decide = %v (%s), want %v", got, reason, tt.want)
			}
			if (got == Stale) != (reason != "") {
				t.Errorf("reason %q for Verdict %v", reason, got)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	cur := State{Revision: 5, Managed: []string{"a@1", "b@2"}}
	tests := []struct {
		name           string
		cmd            Command
		v              Verdict
		connected      []string
		wantConnect    []string
		wantDisconnect []string
	}{
		{"new set: connect missing, drop only managed", Command{Revision: 6, Peers: []string{"b@2", "c@3"}}, Apply,
			[]string{"a@1", "b@2", "shell@9"}, []string{"c@3"}, []string{"a@1"}},
		{"no-op: repair missing managed, drop nothing", Command{Revision: 5, Peers: []string{"a@1", "b@2"}}, Noop,
			[]string{"a@1", "x@9"}, []string{"b@2"}, nil},
		{"Leave: drop managed and connected", Command{Leave: true, Revision: 6}, Apply,
			[]string{"a@1", "z@9"}, nil, []string{"a@1", "b@2", "z@9"}},
		{"repeated Leave: nothing", Command{Leave: true, Revision: 5}, Noop, []string{"z@9"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d := Plan(cur, tt.cmd, tt.v, tt.connected)
			if !slices.Equal(c, tt.wantConnect) || !slices.Equal(d, tt.wantDisconnect) {
				t.Errorf("plan = connect %v disconnect %v, want %v %v", c, d, tt.wantConnect, tt.wantDisconnect)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	got := normalize([]string{"b@2", "self@1", "a@1", "b@2"}, "self@1")
	if want := []string{"a@1", "b@2"}; !slices.Equal(got, want) {
		t.Errorf("normalize = %v, want %v", got, want)
	}
	if got := normalize(nil, "x@1"); got == nil || len(got) != 0 {
		t.Errorf("normalize(nil) = %#v, want empty non-nil", got)
	}
}
