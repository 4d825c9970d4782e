package nodeagent

import (
	"fmt"
	"slices"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// nodeState is what an agent remembers between requests.
type nodeState struct {
	revision uint64
	managed  []string // sorted, duplicate-free
	leaving  bool
	failed   []nodeapi.PeerError
}

// command is a peer-set or leave request after decoding and validation.
type command struct {
	leave    bool
	revision uint64
	peers    []string // sorted, duplicate-free, without the node itself
}

// verdict is what an agent does with a command.
type verdict int

const (
	// apply: a newer revision; change the managed set.
	apply verdict = iota
	// noop: the same revision and the same result (a retried push); change
	// nothing, repair missing connections.
	noop
	// stale: refuse with 409 stale_revision.
	stale
)

// decide applies the revision rules (pure):
//
//	request revision | request                       | verdict
//	lower            | any                           | stale
//	equal            | peers, not leaving, same set  | noop
//	equal            | leave, already leaving        | noop
//	equal            | anything else                 | stale
//	higher           | any                           | apply
//
// The reason explains a stale verdict.
func decide(cur nodeState, c command) (verdict, string) {
	switch {
	case c.revision > cur.revision:
		return apply, ""
	case c.revision < cur.revision:
		return stale, fmt.Sprintf("revision %d is lower than the applied revision %d", c.revision, cur.revision)
	case c.leave && cur.leaving:
		return noop, ""
	case !c.leave && !cur.leaving && slices.Equal(c.peers, cur.managed):
		return noop, ""
	case c.leave:
		return stale, fmt.Sprintf("revision %d was already applied as a peer set, not a leave", c.revision)
	case cur.leaving:
		return stale, fmt.Sprintf("revision %d was already applied as a leave", c.revision)
	}
	return stale, fmt.Sprintf("revision %d was already applied with a different peer set", c.revision)
}

// plan returns the peers to connect and to disconnect for a command that
// decide accepted. connected is the node's current view. Only previously
// managed peers are disconnected by a peer set; a leave disconnects every
// managed and every connected node.
func plan(cur nodeState, c command, v verdict, connected []string) ([]string, []string) {
	if c.leave {
		if v == noop {
			return nil, nil
		}
		return nil, union(cur.managed, connected)
	}
	want := c.peers
	var disconnect []string
	if v == apply {
		disconnect = minus(cur.managed, want)
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
