package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// status is one member's agent status as read in a round.
type status struct {
	node      string   // the agent's own node name
	connected []string // its visible connected nodes
	err       error
}

// round is one sample: the truth, every member's status, the truth again.
// Links are judged only between members that are the same incarnations in
// both truths, so a change that happens while the statuses are read never
// counts as a loss: the simulator changes a container's state before it
// stops or kills what runs in it.
type round struct {
	n          int
	start, end time.Time
	before     truth
	after      truth
	// settled: the simulator had no lifecycle work pending between the
	// statuses and the second truth.
	settled bool
	// statuses by container id, for the members of before.
	statuses map[string]status
}

// stable reports whether the container id is the same member in both
// truths of the round, and returns it.
func (r *round) stable(id identity) (member, bool) {
	a, ok1 := r.before.members[id.id]
	b, ok2 := r.after.members[id.id]
	if !ok1 || !ok2 || a.identity != id || b.identity != id || a.ip != b.ip {
		return member{}, false
	}
	return b, true
}

// loss is a link between two members that dropped while both stayed the
// same members: a violation.
type loss struct {
	from, to member
	lastSeen time.Time // the last round that saw the link
	at       time.Time // the round that saw it missing
}

func (l loss) String() string {
	return fmt.Sprintf("%s (container %s start %d) lost %s (container %s start %d) of cluster %s: connected at %s, missing at %s",
		l.from.node, l.from.id, l.from.startCount, l.to.node, l.to.id, l.to.startCount, l.from.cluster,
		l.lastSeen.Format("15:04:05.000"), l.at.Format("15:04:05.000"))
}

// pairKey is a directed link between two incarnations.
type pairKey struct{ from, to identity }

// keeper tracks the links members must keep. Not safe for concurrent use.
type keeper struct {
	// required maps each link seen between stable members of one cluster
	// to the last round that saw it.
	required map[pairKey]time.Time
	// checks counts link judgements (a required link checked in a round).
	checks int
}

func newKeeper() *keeper { return &keeper{required: map[pairKey]time.Time{}} }

// observe judges a round: every required link whose two ends are still the
// same members, and not excused, must still be there. Then it adds the
// links the round saw between stable members of the same cluster. A
// member whose status could not be read is not judged in that round.
func (k *keeper) observe(r *round, excused func(identity) bool) []loss {
	var losses []loss
	for key, seen := range k.required {
		a, okA := r.stable(key.from)
		b, okB := r.stable(key.to)
		if !okA || !okB || excused(key.from) || excused(key.to) {
			delete(k.required, key)
			continue
		}
		st, ok := r.statuses[a.id]
		if !ok || st.err != nil || st.node != a.node {
			continue
		}
		k.checks++
		if slices.Contains(st.connected, b.node) {
			k.required[key] = r.end
			continue
		}
		losses = append(losses, loss{from: a, to: b, lastSeen: seen, at: r.end})
		delete(k.required, key)
	}
	byNode := map[string]member{}
	for _, m := range r.after.members {
		byNode[m.node] = m
	}
	for id, st := range r.statuses {
		a, ok := r.stable(r.before.members[id].identity)
		if !ok || st.err != nil || st.node != a.node || excused(a.identity) {
			continue
		}
		for _, name := range st.connected {
			b, ok := byNode[name]
			if !ok || b.cluster != a.cluster || b.id == a.id || excused(b.identity) {
				continue
			}
			if _, ok := r.stable(b.identity); ok {
				k.required[pairKey{a.identity, b.identity}] = r.end
			}
		}
	}
	slices.SortFunc(losses, func(x, y loss) int {
		return strings.Compare(x.from.node+" "+x.to.node, y.from.node+" "+y.to.node)
	})
	return losses
}

// mismatch is a member whose connected peers differ from its cluster's
// other members.
type mismatch struct {
	m              member
	missing, extra []string
	err            error
}

func (m mismatch) String() string {
	if m.err != nil {
		return fmt.Sprintf("%s: %v", m.m.node, m.err)
	}
	var parts []string
	if len(m.missing) > 0 {
		parts = append(parts, "missing "+strings.Join(m.missing, ","))
	}
	if len(m.extra) > 0 {
		parts = append(parts, "extra "+strings.Join(m.extra, ","))
	}
	return m.m.node + ": " + strings.Join(parts, "; ")
}

// matchMesh compares every member of the round's second truth with what
// its agent reported; nil means the mesh is exactly Rancher's truth.
func matchMesh(r *round) []mismatch {
	var out []mismatch
	for _, m := range r.after.members {
		st, ok := r.statuses[m.id]
		switch {
		case !ok:
			out = append(out, mismatch{m: m, err: fmt.Errorf("not read in this round")})
			continue
		case st.err != nil:
			out = append(out, mismatch{m: m, err: st.err})
			continue
		case st.node != m.node:
			out = append(out, mismatch{m: m, err: fmt.Errorf("the agent at %s is %q", m.ip, st.node)})
			continue
		}
		want := r.after.expectedPeers(m)
		missing, extra := diffSorted(want, st.connected)
		if len(missing)+len(extra) > 0 {
			out = append(out, mismatch{m: m, missing: missing, extra: extra})
		}
	}
	slices.SortFunc(out, func(a, b mismatch) int { return strings.Compare(a.m.node, b.m.node) })
	return out
}

// diffSorted returns what want has and got lacks (missing), and the
// reverse (extra).
func diffSorted(want, got []string) ([]string, []string) {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	slices.Sort(extra)
	return missing, extra
}
