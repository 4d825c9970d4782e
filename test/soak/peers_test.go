package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// testTopo has clusters "a" (service a) and "b" (services b1, b2).
func testTopo() topology {
	return topology{stack: "s", clusters: []clusterDef{{"a", []string{"a"}}, {"b", []string{"b1", "b2"}}},
		nodeName: func(svc, ip string) string { return svc + "@" + ip }}
}

// mem builds a member: service, container id, start count, last octet.
func mem(svc, id string, sc int64, ip string) member {
	topo := testTopo()
	return member{identity: identity{id, sc}, ip: ip, node: svc + "@" + ip, service: svc, cluster: topo.clusterOf(svc)}
}

func truthOf(ms ...member) truth {
	t := truth{members: map[string]member{}}
	for _, m := range ms {
		t.members[m.id] = m
	}
	return t
}

// links is "who sees whom" by container id.
type links map[string][]member

func roundOf(n int, before, after truth, seen links, failed ...string) *round {
	r := &round{n: n, end: time.Unix(int64(n), 0), before: before, after: after, settled: true, statuses: map[string]status{}}
	for id, m := range before.members {
		st := status{node: m.node}
		for _, p := range seen[id] {
			st.connected = append(st.connected, p.node)
		}
		if slices.Contains(failed, id) {
			st = status{err: errors.New("timeout")}
		}
		r.statuses[id] = st
	}
	return r
}

func TestKeeperJudgesLinksBetweenStableMembersOnly(t *testing.T) {
	a1, a2 := mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 1, "10.0.0.2")
	a2again := mem("a", "1i2", 2, "10.0.0.2") // restarted: start count 2
	b1, b2 := mem("b1", "1i3", 1, "10.0.0.3"), mem("b2", "1i4", 1, "10.0.0.4")
	full := links{"1i1": {a2}, "1i2": {a1}}
	none := links{}
	cases := []struct {
		name    string
		second  func() *round // the round after one that saw a1 <-> a2
		excused []identity
		losses  []string // "from>to"
	}{
		{"a kept link is no loss", func() *round { return roundOf(2, truthOf(a1, a2), truthOf(a1, a2), full) }, nil, nil},
		{"a link dropped between stable members is a loss, both ways", func() *round {
			return roundOf(2, truthOf(a1, a2), truthOf(a1, a2), none)
		}, nil, []string{"a@10.0.0.1>a@10.0.0.2", "a@10.0.0.2>a@10.0.0.1"}},
		{"a member that stopped during the round may drop out", func() *round {
			return roundOf(2, truthOf(a1, a2), truthOf(a1), none)
		}, nil, nil},
		{"a member that is gone before the round may drop out", func() *round {
			return roundOf(2, truthOf(a1), truthOf(a1), none)
		}, nil, nil},
		{"a restarted member (start count + 1) drops its links legitimately", func() *round {
			return roundOf(2, truthOf(a1, a2again), truthOf(a1, a2again), none)
		}, nil, nil},
		{"a member killed outside Rancher is excused", func() *round {
			return roundOf(2, truthOf(a1, a2), truthOf(a1, a2), none)
		}, []identity{a2.identity}, nil},
		{"a status that could not be read is not judged", func() *round {
			return roundOf(2, truthOf(a1, a2), truthOf(a1, a2), links{"1i2": {a1}}, "1i1")
		}, nil, nil},
		{"one side dropping is a loss of that side", func() *round {
			return roundOf(2, truthOf(a1, a2), truthOf(a1, a2), links{"1i2": {a1}})
		}, nil, []string{"a@10.0.0.1>a@10.0.0.2"}},
		{"an agent answering for another node is not judged", func() *round {
			r := roundOf(2, truthOf(a1, a2), truthOf(a1, a2), full)
			r.statuses["1i1"] = status{node: "someone@else"}
			return r
		}, nil, nil},
		{"other clusters' members do not matter", func() *round {
			return roundOf(2, truthOf(a1, a2, b1, b2), truthOf(a1, a2, b1, b2), links{"1i1": {a2}, "1i2": {a1}})
		}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKeeper()
			excused := func(id identity) bool { return slices.Contains(tc.excused, id) }
			if l := k.observe(roundOf(1, truthOf(a1, a2, b1, b2), truthOf(a1, a2, b1, b2), full), excused); len(l) != 0 {
				t.Fatalf("first round: losses %v", l)
			}
			var got []string
			for _, l := range k.observe(tc.second(), excused) {
				got = append(got, l.from.node+">"+l.to.node)
			}
			if !slices.Equal(got, tc.losses) {
				t.Fatalf("losses %v, want %v", got, tc.losses)
			}
		})
	}
}

func TestKeeperTracksOnlySameClusterLinksOfStableMembers(t *testing.T) {
	a1 := mem("a", "1i1", 1, "10.0.0.1")
	b1, b2 := mem("b1", "1i3", 1, "10.0.0.3"), mem("b2", "1i4", 1, "10.0.0.4")
	joiner := mem("b2", "1i5", 1, "10.0.0.5") // a member only in the second truth
	k := newKeeper()
	r := roundOf(1, truthOf(a1, b1, b2), truthOf(a1, b1, b2, joiner),
		links{"1i1": {b1}, "1i3": {b2, a1, joiner}, "1i4": {b1}})
	k.observe(r, func(identity) bool { return false })
	var got []string
	for key := range k.required {
		got = append(got, key.from.id+">"+key.to.id)
	}
	slices.Sort(got)
	if want := []string{"1i3>1i4", "1i4>1i3"}; !slices.Equal(got, want) {
		t.Fatalf("tracked %v, want %v (a cross-cluster link and one to a new member are not tracked)", got, want)
	}
	// The link is reported once, then forgotten.
	r2 := roundOf(2, truthOf(a1, b1, b2), truthOf(a1, b1, b2), links{"1i3": {b2}})
	if l := k.observe(r2, func(identity) bool { return false }); len(l) != 1 || !strings.Contains(l[0].String(), "b2@10.0.0.4 (container 1i4 start 1) lost b1@10.0.0.3") {
		t.Fatalf("losses %v", l)
	}
	if l := k.observe(roundOf(3, truthOf(a1, b1, b2), truthOf(a1, b1, b2), links{"1i3": {b2}}), func(identity) bool { return false }); len(l) != 0 {
		t.Fatalf("reported again: %v", l)
	}
}

func TestMatchMeshComparesEveryMemberWithItsClusterMates(t *testing.T) {
	a1, a2 := mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 1, "10.0.0.2")
	b1, b2 := mem("b1", "1i3", 1, "10.0.0.3"), mem("b2", "1i4", 1, "10.0.0.4")
	all := truthOf(a1, a2, b1, b2)
	cases := []struct {
		name  string
		round *round
		want  []string
	}{
		{"the full mesh of each cluster matches", roundOf(1, all, all, links{"1i1": {a2}, "1i2": {a1}, "1i3": {b2}, "1i4": {b1}}), nil},
		{"a missing and an extra peer", roundOf(1, all, all, links{"1i1": {a2, b1}, "1i2": {a1}, "1i3": {}, "1i4": {b1}}),
			[]string{"a@10.0.0.1: extra b1@10.0.0.3", "b1@10.0.0.3: missing b2@10.0.0.4"}},
		{"an unread member does not match", roundOf(1, all, all, links{"1i1": {a2}, "1i2": {a1}, "1i3": {b2}, "1i4": {b1}}, "1i4"),
			[]string{"b2@10.0.0.4: timeout"}},
		{"a lone member must see nobody", roundOf(1, truthOf(a1), truthOf(a1), links{}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range matchMesh(tc.round) {
				got = append(got, m.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
