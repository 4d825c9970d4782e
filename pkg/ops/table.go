package ops

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

// WriteTable prints r as "controller status" shows it: the controller's
// readiness and last pass, then per cluster its conditions and one line
// per node (node, state, peers seen / expected, last push, leaving,
// readiness); a bounded-degree cluster also names its degree, and PEERS
// is then the node's degree (connected desired peers / desired peers). now dates the "ago" columns.
func WriteTable(w io.Writer, r Report, now time.Time) error {
	var b strings.Builder
	st := r.Status
	if r.Ready {
		b.WriteString("controller: ready\n")
	} else {
		fmt.Fprintf(&b, "controller: NOT READY: %s\n", strings.Join(r.Reasons, "; "))
	}
	lp := st.LastPass
	fmt.Fprintf(&b, "passes: %d, last pass %s in %s %s, last observed %s\n",
		st.Passes, orDash(lp.Result), lp.Duration.Round(time.Microsecond), ago(lp.Start, now), ago(st.LastObserved, now))
	if lp.Error != "" {
		fmt.Fprintf(&b, "last pass error: %s\n", lp.Error)
	}
	writeRole(&b, st.Leadership, now)
	writeConfig(&b, st, now)
	if len(st.Clusters) == 0 {
		b.WriteString("\nno cluster observed yet\n")
	}
	for _, c := range st.Clusters {
		writeCluster(&b, c, now)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRole prints the controller's role when an election runs.
func writeRole(b *strings.Builder, l reconcile.LeadershipStatus, now time.Time) {
	if l.Self == "" && l.Role != reconcile.RoleStandby {
		return
	}
	fmt.Fprintf(b, "role: %s since %s (this controller %s, leader %s): %s\n", orDash(l.Role), ago(l.Since, now),
		orDash(l.Self), orDash(l.Holder), orDash(l.Reason))
}

// writeConfig prints the configuration in effect and its problems.
func writeConfig(b *strings.Builder, st reconcile.Status, now time.Time) {
	c := st.Config
	if c.Path != "" {
		fmt.Fprintf(b, "config: %s (%s) loaded %s; %d reloads, %d failed\n", c.Path, orDash(c.Digest), ago(c.LoadedAt, now), c.Reloads, c.Failed)
	}
	for _, e := range c.Errors {
		fmt.Fprintf(b, "  reload error: %s\n", e)
	}
	for _, p := range c.PendingRestart {
		fmt.Fprintf(b, "  needs a restart: %s\n", p)
	}
	writeConditions(b, st.Conditions, "")
}

// writeConditions prints the conditions that are not healthy, with their
// reason and message.
func writeConditions(b *strings.Builder, conds []reconcile.Condition, indent string) {
	for _, k := range conds {
		switch {
		case reconcile.ConditionHealthy(k):
		case k.Message == "":
			fmt.Fprintf(b, "%s%s: %s\n", indent, k.Type, k.Reason)
		default:
			fmt.Fprintf(b, "%s%s: %s: %s\n", indent, k.Type, k.Reason, k.Message)
		}
	}
}

func writeCluster(b *strings.Builder, c reconcile.ClusterStatus, now time.Time) {
	topology := orDash(c.Topology)
	if c.Degree > 0 {
		topology += fmt.Sprintf(", degree %d", c.Degree)
	}
	from := ""
	if c.Source == reconcile.SourceLabels {
		from = ", from labels"
	}
	fmt.Fprintf(b, "\ncluster %s (topology %s, policy %s%s): %d members, %d nodes\n",
		c.Name, topology, orDash(c.Policy), from, c.Members, len(c.Nodes))
	if c.Unmanaged {
		fmt.Fprintf(b, "  UNMANAGED since %s: it left the configuration; drover sends nothing to its nodes, which keep their links. Last view:\n",
			ago(c.UnmanagedSince, now))
	}
	var conds []string
	for _, k := range c.Conditions {
		conds = append(conds, k.Type+"="+k.Status)
	}
	fmt.Fprintf(b, "  %s\n", strings.Join(conds, "  "))
	writeConditions(b, c.Conditions, "  ")
	if len(c.Nodes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tSTATE\tPEERS\tLAST PUSH\tLEAVING\tREADY")
	for _, n := range c.Nodes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", n.Node, nodeState(n), peersSeen(n), lastPush(n.LastPush, now)+planned(n.Plan),
			leaving(n), nodeReady(n))
	}
	_ = tw.Flush()
}

func nodeState(n reconcile.NodeStatus) string {
	s := orDash(n.State)
	if n.HealthState != "" {
		s += "/" + n.HealthState
	}
	if n.Held {
		s += " (held)"
	}
	if n.Refused {
		s += " (refused: connect_all true)"
	}
	return s
}

// peersSeen is "connected desired peers / desired peers", with the extra
// peers the node holds; "?" when the node never answered.
func peersSeen(n reconcile.NodeStatus) string {
	if n.Observed == nil {
		return fmt.Sprintf("?/%d", len(n.Desired))
	}
	seen := len(n.Desired) - len(n.Desired.Minus(n.Observed.Connected))
	s := fmt.Sprintf("%d/%d", seen, len(n.Desired))
	if extra := len(n.Observed.Connected.Minus(n.Desired)); extra > 0 {
		s += fmt.Sprintf(" +%d extra", extra)
	}
	return s
}

func lastPush(p *reconcile.PushResult, now time.Time) string {
	if p == nil {
		return "-"
	}
	s := fmt.Sprintf("%s %s %s", p.Action, p.Result, ago(p.At, now))
	if p.Error != "" {
		s += ": " + p.Error
	}
	return s
}

// planned is a change planned and not sent, e.g. " (would set-peers: standby)".
func planned(p *reconcile.PlannedChange) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf(" (would %s: %s)", p.Action, p.NotSentBecause)
}

func leaving(n reconcile.NodeStatus) string {
	switch {
	case n.Leaving:
		return "yes"
	case !n.Member:
		return "departing"
	}
	return "no"
}

func nodeReady(n reconcile.NodeStatus) string {
	c, ok := reconcile.FindCondition(n.Conditions, reconcile.ConditionReady)
	switch {
	case !ok:
		return "-"
	case c.Status == reconcile.ConditionTrue:
		return "yes"
	case c.Message != "":
		return c.Reason + ": " + c.Message
	}
	return c.Reason
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh ago", int(d.Hours()))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
