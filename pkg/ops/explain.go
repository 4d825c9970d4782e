package ops

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// ErrUnknownNode is what Explain returns (wrapped, with the closest names)
// when no node of the status matches the query.
var ErrUnknownNode = errors.New("no such node")

// maxSuggestions bounds the closest names Explain offers.
const maxSuggestions = 5

// Explain prints why the node that query names (its node name, IP,
// container name or container id) is or is not a member of its cluster,
// from a running controller's report: the container's state and health
// against the cluster's membership rule, its desired and observed peers,
// the links missing and extra, its last push, a change planned and not
// sent, its backoff and the conditions that hold. Every node that matches
// is explained (one IP may show in two clusters). With no match it
// returns an error wrapping ErrUnknownNode that names the closest
// candidates.
func Explain(w io.Writer, r Report, query string, now time.Time) error {
	query = strings.TrimSpace(query)
	var b strings.Builder
	found := 0
	for _, c := range r.Status.Clusters {
		for _, n := range c.Nodes {
			if matches(n, query) {
				if found > 0 {
					b.WriteString("\n")
				}
				found++
				explainNode(&b, c, n, now)
			}
		}
	}
	if found == 0 {
		return unknownNode(r.Status, query)
	}
	writeRole(&b, r.Status.Leadership, now)
	if l := r.Status.Leadership; l.Role == reconcile.RoleStandby {
		b.WriteString("this controller stands by: it plans and sends nothing; the leader's status is the one that acts\n")
	}
	writeConditions(&b, r.Status.Conditions, "controller ")
	_, err := io.WriteString(w, b.String())
	return err
}

// matches reports whether query names the node.
func matches(n reconcile.NodeStatus, query string) bool {
	if query == "" {
		return false
	}
	return string(n.Node) == query || n.ContainerName == query || n.ContainerID == query || nodeIP(n) == query
}

// nodeIP is the node's container IP (or its name's host part).
func nodeIP(n reconcile.NodeStatus) string {
	if n.IP != "" {
		return n.IP
	}
	_, host, _ := strings.Cut(string(n.Node), "@")
	return host
}

func explainNode(b *strings.Builder, c reconcile.ClusterStatus, n reconcile.NodeStatus, now time.Time) {
	fmt.Fprintf(b, "node %s: cluster %s (%s)\n", n.Node, c.Name, clusterOrigin(c))
	if c.Unmanaged {
		fmt.Fprintf(b, "  the cluster is UNMANAGED since %s: it left the configuration, drover sends nothing to its nodes and they keep their links; what follows is the last view\n",
			ago(c.UnmanagedSince, now))
	}
	fmt.Fprintf(b, "  container: %s (%s), service %s, IP %s, state %s, health %s\n", orDash(n.ContainerName),
		orDash(n.ContainerID), orDash(n.Service), orDash(nodeIP(n)), orDash(n.State), healthName(n.HealthState))
	fmt.Fprintf(b, "  member: %s\n", memberVerdict(c, n))
	fmt.Fprintf(b, "  rule: state in [%s] and health in [%s]\n", strings.Join(c.Membership.States, ", "),
		healthList(c.Membership.HealthStates))
	fmt.Fprintf(b, "  desired peers (%d): %s\n", len(n.Desired), names(n.Desired))
	writeObserved(b, n)
	if n.LastPush == nil {
		b.WriteString("  last push: none since the controller started\n")
	} else {
		p := n.LastPush
		fmt.Fprintf(b, "  last push: %s %s, revision %d, reason %s, %s, took %s", p.Action, p.Result, p.Revision,
			orDash(p.Reason), ago(p.At, now), p.Latency.Round(time.Microsecond))
		if p.Error != "" {
			fmt.Fprintf(b, ": %s", p.Error)
		}
		b.WriteString("\n")
	}
	if p := n.Plan; p != nil {
		fmt.Fprintf(b, "  planned, not sent (%s): %s revision %d, reason %s, peers (%d) %s; adds %s; removes %s\n", p.NotSentBecause,
			p.Action, p.Revision, p.Reason, len(p.Peers), names(p.Peers), names(p.Added), names(p.Removed))
	}
	if !n.BackoffUntil.IsZero() {
		fmt.Fprintf(b, "  backoff: calls held back after failures until %s (%s)\n", n.BackoffUntil.Format(time.RFC3339), until(n.BackoffUntil, now))
	} else {
		b.WriteString("  backoff: none\n")
	}
	var conds []string
	for _, k := range n.Conditions {
		s := k.Type + "=" + k.Status
		if !reconcile.ConditionHealthy(k) {
			s += " (" + k.Reason
			if k.Message != "" {
				s += ": " + k.Message
			}
			s += ")"
		}
		conds = append(conds, s)
	}
	fmt.Fprintf(b, "  node conditions: %s\n", orDash(strings.Join(conds, ", ")))
	writeConditions(b, c.Conditions, "  cluster ")
}

func clusterOrigin(c reconcile.ClusterStatus) string {
	var parts []string
	switch c.Source {
	case reconcile.SourceLabels:
		parts = append(parts, "defined by the io.drover.cluster labels of its services")
	case reconcile.SourceFile:
		parts = append(parts, "from the config file")
	}
	if c.Stack != "" {
		parts = append(parts, "stack "+c.Stack)
	}
	if len(c.Services) > 0 {
		parts = append(parts, "services "+strings.Join(c.Services, ", "))
	}
	if len(c.Labelled) > 0 && c.Source != reconcile.SourceLabels {
		parts = append(parts, "joined by label: "+strings.Join(c.Labelled, ", "))
	}
	parts = append(parts, "policy "+orDash(c.Policy))
	return strings.Join(parts, "; ")
}

// memberVerdict says whether and why the node is a member.
func memberVerdict(c reconcile.ClusterStatus, n reconcile.NodeStatus) string {
	rule := c.Membership
	stateOK := slices.Contains(rule.States, n.State)
	healthOK := slices.Contains(rule.HealthStates, n.HealthState)
	switch {
	case n.Held:
		return "held: Rancher no longer reports it a member, but more than maxDropPercent of the cluster's members vanished at once; it stays in its peers' sets, and nothing is sent to it, until a confirming pass agrees"
	case n.Member:
		return fmt.Sprintf("yes: state %s and health %s count under the cluster's rule", orDash(n.State), healthName(n.HealthState))
	case !stateOK && !healthOK && len(rule.States) > 0:
		return fmt.Sprintf("no: its state %s is not one of [%s], and its health %s is not one of [%s]; it is told to leave while it holds peers, and its peers drop it",
			orDash(n.State), strings.Join(rule.States, ", "), healthName(n.HealthState), healthList(rule.HealthStates))
	case !stateOK && len(rule.States) > 0:
		return fmt.Sprintf("no: its state %s is not one of [%s]; it is told to leave while it holds peers, and its peers drop it",
			orDash(n.State), strings.Join(rule.States, ", "))
	case !healthOK && len(rule.HealthStates) > 0:
		return fmt.Sprintf("no: its health %s is not one of [%s] (a new container is a member once Rancher's health check says healthy)",
			healthName(n.HealthState), healthList(rule.HealthStates))
	}
	return "no: Rancher reports it, but not as a member of this cluster"
}

func writeObserved(b *strings.Builder, n reconcile.NodeStatus) {
	o := n.Observed
	if o == nil {
		b.WriteString("  observed: the node never answered a status read (unreachable, or not read yet)\n")
		return
	}
	fmt.Fprintf(b, "  observed: revision %d, leaving %s, OTP %s, connect_all %v\n", o.Revision, yesNo(o.Leaving), orDash(o.OTPRelease), o.ConnectAll)
	fmt.Fprintf(b, "    connected (%d): %s\n", len(o.Connected), names(o.Connected))
	fmt.Fprintf(b, "    managed (%d): %s\n", len(o.Managed), names(o.Managed))
	fmt.Fprintf(b, "  missing links (desired, not connected): %s\n", names(n.Desired.Minus(o.Connected)))
	fmt.Fprintf(b, "  extra links (connected, not desired): %s\n", names(o.Connected.Minus(n.Desired)))
	if len(o.Failed) > 0 {
		for _, p := range slices.Sorted(maps.Keys(o.Failed)) {
			fmt.Fprintf(b, "    connect to %s failed: %s\n", p, o.Failed[p])
		}
	}
}

// unknownNode is the error for a query that names no node, with the
// closest candidates.
func unknownNode(st reconcile.Status, query string) error {
	type cand struct {
		name string
		d    int
	}
	seen := map[string]bool{}
	var cands []cand
	add := func(s string) {
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		d := editDistance(query, s)
		if strings.HasPrefix(s, query) || strings.HasPrefix(query, s) {
			d = min(d, 1)
		}
		if d <= max(3, len(query)/3) {
			cands = append(cands, cand{s, d})
		}
	}
	total := 0
	for _, c := range st.Clusters {
		for _, n := range c.Nodes {
			total++
			add(string(n.Node))
			add(nodeIP(n))
			add(n.ContainerName)
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.name, b.name)) })
	if len(cands) > maxSuggestions {
		cands = cands[:maxSuggestions]
	}
	msg := fmt.Sprintf("%q: no such node among the %d nodes of the controller's status", query, total)
	if net.ParseIP(query) != nil {
		msg += " (a container without an IP, or of a service no cluster names, is not in the status)"
	}
	if len(cands) == 0 {
		return fmt.Errorf("%s; give a node name (hello@10.42.0.5), an IP, a container name or id: %w", msg, ErrUnknownNode)
	}
	var names []string
	for _, c := range cands {
		names = append(names, c.name)
	}
	return fmt.Errorf("%s; closest: %s: %w", msg, strings.Join(names, ", "), ErrUnknownNode)
}

// editDistance is the Levenshtein distance between a and b, in bytes;
// inputs are cut at 256 bytes (node names are short).
func editDistance(a, b string) int {
	a, b = a[:min(len(a), 256)], b[:min(len(b), 256)]
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func names(p mesh.PeerSet) string {
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p.Strings(), ", ")
}

func healthName(h string) string {
	if h == "" {
		return "none (no health check)"
	}
	return h
}

func healthList(hs []string) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = cmp.Or(h, "none")
	}
	return strings.Join(out, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func until(t, now time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "in " + d.Round(time.Second).String()
	}
	return "over"
}
