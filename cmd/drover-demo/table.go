package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// serviceTruth is one service's containers, as the simulator has them.
type serviceTruth struct {
	Stack, Service string
	Containers     []ranchersim.ContainerView
}

// view is what one node's agent reports: erlang:nodes() inside the VM.
type view struct {
	Connected []string
	Err       error
}

// row is one line of the live table.
type row struct {
	Service, Node, Container string
	Seen, Expected           int
	State                    string
}

// Row states.
const (
	stateOK          = "in mesh"
	stateJoining     = "converging"
	stateNotMember   = "not a member"
	stateUnreachable = "unreachable"
)

// nodeName is the node name of a container of service (the config's
// default template, {{service}}@{{primaryIP}}).
func nodeName(service, ip string) string { return service + "@" + ip }

// isMember is the default membership rule: running, and healthy (or no
// health check).
func isMember(c ranchersim.ContainerView) bool {
	if c.State != "running" {
		return false
	}
	switch c.HealthState {
	case "healthy", "updating-healthy", "", "none":
		return true
	}
	return false
}

func isLive(c ranchersim.ContainerView) bool {
	return c.State != "removed" && c.State != "stopped" && c.State != "error"
}

// expectedPeers returns, per member IP, the names it must see.
func expectedPeers(t serviceTruth) map[string][]string {
	var names []string
	for _, c := range t.Containers {
		if isMember(c) {
			names = append(names, nodeName(t.Service, c.IP))
		}
	}
	want := map[string][]string{}
	for _, c := range t.Containers {
		if isMember(c) {
			self := nodeName(t.Service, c.IP)
			want[c.IP] = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == self })
			slices.Sort(want[c.IP])
		}
	}
	return want
}

// buildRows is the live table: one row per live container.
func buildRows(truth []serviceTruth, views map[string]view) []row {
	var rows []row
	for _, t := range truth {
		want := expectedPeers(t)
		for _, c := range t.Containers {
			if !isLive(c) {
				continue
			}
			r := row{Service: t.Service, Node: nodeName(t.Service, c.IP), Container: containerState(c)}
			v, seen := views[c.IP]
			r.Seen, r.Expected = len(v.Connected), len(want[c.IP])
			exp, member := want[c.IP]
			switch {
			case !member:
				r.State = stateNotMember
			case !seen || v.Err != nil:
				r.State = stateUnreachable
			case slices.Equal(sorted(v.Connected), exp):
				r.State = stateOK
			default:
				r.State = stateJoining
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func containerState(c ranchersim.ContainerView) string {
	if c.HealthState == "" || c.HealthState == "none" {
		return c.State
	}
	return c.State + "/" + c.HealthState
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// converged reports whether service has want members, no other live
// container, and every member sees exactly the others.
func converged(rows []row, service string, want int) bool {
	n := 0
	for _, r := range rows {
		if r.Service != service {
			continue
		}
		if r.State != stateOK {
			return false
		}
		n++
	}
	return n == want
}

// render formats the rows as an aligned table.
func render(rows []row) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tNODE\tCONTAINER\tPEERS SEEN/EXPECTED\tSTATE")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\n", r.Service, r.Node, r.Container, r.Seen, r.Expected, r.State)
	}
	_ = w.Flush()
	return b.String()
}
