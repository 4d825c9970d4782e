package nodeapi

import (
	"github.com/drover-mesh/drover/pkg/mesh"
)

// ToNodeStatus translates a wire Status into the domain model. Names are
// sorted and de-duplicated.
func ToNodeStatus(s Status) mesh.NodeStatus {
	out := mesh.NodeStatus{
		Node:       mesh.NodeName(s.Node),
		Connected:  toPeerSet(s.Connected),
		Managed:    toPeerSet(s.Managed),
		Revision:   s.Revision,
		Leaving:    s.Leaving,
		OTPRelease: s.OTPRelease,
		ConnectAll: s.Flags.ConnectAll,
	}
	if len(s.Failed) > 0 {
		out.Failed = make(map[mesh.NodeName]string, len(s.Failed))
		for _, f := range s.Failed {
			out.Failed[mesh.NodeName(f.Node)] = f.Reason
		}
	}
	return out
}

// FromNodeStatus translates a domain NodeStatus into a wire Status, with
// Failed sorted by node. Flags the model does not hold
// (PreventOverlappingPartitions, NetTicktime) are zero.
func FromNodeStatus(s mesh.NodeStatus) Status {
	out := Status{
		Node:       string(s.Node),
		Connected:  nonNil(s.Connected.Strings()),
		Managed:    nonNil(s.Managed.Strings()),
		Revision:   s.Revision,
		Leaving:    s.Leaving,
		OTPRelease: s.OTPRelease,
		Flags:      Flags{ConnectAll: s.ConnectAll},
	}
	failed := make(mesh.PeerSet, 0, len(s.Failed))
	for n := range s.Failed {
		failed = append(failed, n)
	}
	for _, n := range mesh.NewPeerSet(failed...) {
		out.Failed = append(out.Failed, PeerError{Node: string(n), Reason: s.Failed[n]})
	}
	return out
}

func toPeerSet(names []string) mesh.PeerSet {
	ns := make([]mesh.NodeName, len(names))
	for i, n := range names {
		ns[i] = mesh.NodeName(n)
	}
	return mesh.NewPeerSet(ns...)
}

// nonNil makes empty lists marshal as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
