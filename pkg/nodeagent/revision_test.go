package nodeagent

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	applied := nodeState{revision: 5, managed: []string{"a@1", "b@2"}}
	leaving := nodeState{revision: 5, managed: []string{}, leaving: true}
	fresh := nodeState{managed: []string{}}
	tests := []struct {
		name string
		cur  nodeState
		cmd  command
		want verdict
	}{
		{"higher revision: apply", applied, command{revision: 6, peers: []string{"a@1"}}, apply},
		{"lower revision: stale", applied, command{revision: 4, peers: []string{"a@1", "b@2"}}, stale},
		{"same revision, same set: no-op", applied, command{revision: 5, peers: []string{"a@1", "b@2"}}, noop},
		{"same revision, other set: stale", applied, command{revision: 5, peers: []string{"a@1"}}, stale},
		{"leave at higher revision: apply", applied, command{leave: true, revision: 6}, apply},
		{"leave at lower revision: stale", applied, command{leave: true, revision: 4}, stale},
		{"leave at the revision of a peer set: stale", applied, command{leave: true, revision: 5}, stale},
		{"repeated leave: no-op", leaving, command{leave: true, revision: 5}, noop},
		{"peers at the revision of a leave: stale", leaving, command{revision: 5, peers: []string{}}, stale},
		{"peers after a leave at a higher revision: apply", leaving, command{revision: 6, peers: []string{"a@1"}}, apply},
		{"fresh node, empty set at revision 0: no-op", fresh, command{revision: 0, peers: []string{}}, noop},
		{"fresh node, a set at revision 0: stale", fresh, command{revision: 0, peers: []string{"a@1"}}, stale},
		{"fresh node, revision 1: apply", fresh, command{revision: 1, peers: []string{"a@1"}}, apply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := decide(tt.cur, tt.cmd)
			if got != tt.want {
				t.Errorf("decide = %v (%s), want %v", got, reason, tt.want)
			}
			if (got == stale) != (reason != "") {
				t.Errorf("reason %q for verdict %v", reason, got)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	cur := nodeState{revision: 5, managed: []string{"a@1", "b@2"}}
	tests := []struct {
		name           string
		cmd            command
		v              verdict
		connected      []string
		wantConnect    []string
		wantDisconnect []string
	}{
		{"new set: connect missing, drop only managed", command{revision: 6, peers: []string{"b@2", "c@3"}}, apply,
			[]string{"a@1", "b@2", "shell@9"}, []string{"c@3"}, []string{"a@1"}},
		{"no-op: repair missing managed, drop nothing", command{revision: 5, peers: []string{"a@1", "b@2"}}, noop,
			[]string{"a@1", "x@9"}, []string{"b@2"}, nil},
		{"leave: drop managed and connected", command{leave: true, revision: 6}, apply,
			[]string{"a@1", "z@9"}, nil, []string{"a@1", "b@2", "z@9"}},
		{"repeated leave: nothing", command{leave: true, revision: 5}, noop, []string{"z@9"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d := plan(cur, tt.cmd, tt.v, tt.connected)
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
