package nodeagent

import (
	"fmt"
	"slices"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// The revision rules of docs/nodeapi.md, pure and exported so that fakes
// of agents elsewhere (pkg/reconcile's tests) apply these rules rather
// than a copy of them.

// State is what an agent remembers between requests.
type State struct {
	Revision uint64
	Managed  []string // sorted, duplicate-free
	Leaving  bool
	Failed   []nodeapi.PeerError
}

// Command is a peer-set or leave request after decoding and validation.
type Command struct {
	Leave    bool
	Revision uint64
	Peers    []string // sorted, duplicate-free, without the node itself
}

// Verdict is what an agent does with a command.
type Verdict int

const (
	// Apply: a newer revision; change the managed set.
	Apply Verdict = iota
	// Noop: the same revision and the same result (a retried push); change
	// nothing, repair missing connections.
	Noop
	// Stale: refuse with 409 stale_revision.
	Stale
)

// Decide applies the revision rules (pure):
//
//	request revision | request                       | verdict
//	lower            | any                           | stale
//	equal            | peers, not leaving, same set  | noop
//	equal            | leave, already leaving        | noop
//	equal            | anything else                 | stale
//	higher           | any                           | apply
//
// The reason explains a stale verdict.
func Decide(cur State, c Command) (Verdict, string) {
	switch {
	case c.Revision > cur.Revision:
		return Apply, ""
	case c.Revision < cur.Revision:
		return Stale, fmt.Sprintf("revision %d is lower than the applied revision %d", c.Revision, cur.Revision)
	case c.Leave && cur.Leaving:
		return Noop, ""
	case !c.Leave && !cur.Leaving && slices.Equal(c.Peers, cur.Managed):
		return Noop, ""
	case c.Leave:
		return Stale, fmt.Sprintf("revision %d was already applied as a peer set, not a leave", c.Revision)
	case cur.Leaving:
		return Stale, fmt.Sprintf("revision %d was already applied as a leave", c.Revision)
	}
	return Stale, fmt.Sprintf("revision %d was already applied with a different peer set", c.Revision)
}

// Plan returns the peers to connect and to disconnect for a Command that
// Decide accepted. connected is the node's current view. Only previously
// managed peers are disconnected by a peer set; a leave disconnects every
// managed and every connected node.
func Plan(cur State, c Command, v Verdict, connected []string) ([]string, []string) {
	if c.Leave {
		if v == Noop {
			return nil, nil
		}
		return nil, union(cur.Managed, connected)
	}
	want := c.Peers
	var disconnect []string
	if v == Apply {
		disconnect = minus(cur.Managed, want)
	}
	return minus(want, connected), disconnect
}

// normalize sorts and de-duplicates names and drops self.
func normalize(names []string, self string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	if i, ok := slices.BinarySearch(out, self); ok {
		out = slices.Delete(out, i, i+1)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// minus returns the names of a that are not in b.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, n := range b {
		in[n] = true
	}
	var out []string
	for _, n := range a {
		if !in[n] {
			out = append(out, n)
		}
	}
	return out
}

// union returns the sorted, duplicate-free names of a and b.
func union(a, b []string) []string {
	return normalize(append(slices.Clone(a), b...), "")
}
