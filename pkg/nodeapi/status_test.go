package nodeapi

import (
	"reflect"
	"testing"

	"github.com/drover-mesh/drover/pkg/mesh"
)

func TestStatusTranslation(t *testing.T) {
	wire := Status{
		Node: "a@1", Connected: []string{"c@3", "b@2", "b@2"}, Managed: []string{"b@2"},
		Revision: 4, Leaving: true, OTPRelease: "25", Flags: Flags{ConnectAll: true},
		Failed: []PeerError{{Node: "d@4", Reason: "timeout"}, {Node: "c@3", Reason: "refused"}},
	}
	got := ToNodeStatus(wire)
	want := mesh.NodeStatus{
		Node: "a@1", Connected: mesh.PeerSet{"b@2", "c@3"}, Managed: mesh.PeerSet{"b@2"},
		Revision: 4, Leaving: true, OTPRelease: "25", ConnectAll: true,
		Failed: map[mesh.NodeName]string{"d@4": "timeout", "c@3": "refused"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ToNodeStatus = %+v, want %+v", got, want)
	}
	back := FromNodeStatus(got)
	if back.Failed[0].Node != "c@3" || len(back.Connected) != 2 || back.Flags != (Flags{ConnectAll: true}) {
		t.Errorf("FromNodeStatus = %+v", back)
	}
	if again := ToNodeStatus(back); !reflect.DeepEqual(again, want) {
		t.Errorf("round trip = %+v, want %+v", again, want)
	}
	empty := FromNodeStatus(mesh.NodeStatus{})
	if empty.Connected == nil || empty.Managed == nil || empty.Failed != nil {
		t.Errorf("FromNodeStatus(zero) = %#v, want empty lists and no failures", empty)
	}
}
