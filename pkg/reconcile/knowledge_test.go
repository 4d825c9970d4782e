package reconcile

import (
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

func TestNodeBookBackoff(t *testing.T) {
	now := time.Unix(1000, 0)
	node := func(starts int64) DesiredNode {
		return DesiredNode{Endpoint: mesh.Endpoint{Cluster: "c", Node: "hello@10.42.0.5"},
			Container: mesh.Member{ContainerID: "1i5", IP: "10.42.0.5", StartCount: starts}}
	}
	departing := func(n DesiredNode) DesiredCluster { return DesiredCluster{Name: "c", Departing: []DesiredNode{n}} }
	member := func(n DesiredNode) DesiredCluster { return DesiredCluster{Name: "c", Members: []DesiredNode{n}} }
	for _, tc := range []struct {
		name        string
		before      DesiredCluster // when the calls fail
		after       DesiredCluster
		backingOff  bool
		wantFailure int
	}{
		{"a starting container that turns member is called at once (refused reads while it started do not delay its join)",
			departing(node(1)), member(node(1)), false, 0},
		{"a member whose calls fail stays backed off", member(node(1)), member(node(1)), true, 3},
		{"a departing node whose calls fail stays backed off", departing(node(1)), departing(node(1)), true, 3},
		{"a member that departs stays backed off", member(node(1)), departing(node(1)), true, 3},
		{"a restarted container starts from nothing", member(node(1)), member(node(2)), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newNodeBook()
			b.sync(tc.before, nil)
			f := b.get(firstNode(tc.before).Endpoint)
			for range 3 {
				f.failed(now, time.Second, 30*time.Second)
			}
			b.sync(tc.after, nil)
			f = b.get(firstNode(tc.after).Endpoint)
			if got := f.backingOff(now); got != tc.backingOff {
				t.Errorf("backing off = %v, want %v (until %v)", got, tc.backingOff, f.until)
			}
			if f.failures != tc.wantFailure {
				t.Errorf("failures = %d, want %d", f.failures, tc.wantFailure)
			}
		})
	}
}

// firstNode is the cluster's first member, or its first departing node.
func firstNode(dc DesiredCluster) DesiredNode {
	return append(append([]DesiredNode(nil), dc.Members...), dc.Departing...)[0]
}
