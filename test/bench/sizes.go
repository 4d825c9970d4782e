package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
	"github.com/drover-mesh/drover/test/harness"
)

// overlapMarker is in the line OTP 25's global logs when it disconnects a
// node "in order to prevent overlapping partitions".
const overlapMarker = "overlapping partitions"

// overlapCounter counts the nodes' output lines (the exec runtime logs
// each as "container output" with the line) that carry overlapMarker.
type overlapCounter struct {
	slog.Handler
	n interface{ Add(int64) int64 }
}

func (h *overlapCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "container output" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "line" && strings.Contains(a.Value.String(), overlapMarker) {
				h.n.Add(1)
			}
			return true
		})
	}
	return h.Handler.Handle(ctx, r)
}

func (h *overlapCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &overlapCounter{Handler: h.Handler.WithAttrs(attrs), n: h.n}
}

func (h *overlapCounter) WithGroup(name string) slog.Handler {
	return &overlapCounter{Handler: h.Handler.WithGroup(name), n: h.n}
}

// overlay returns the peers each node of ips should hold: the drover
// cluster's topology for drover's stack, a full mesh for the recipe.
func (e *env) overlay(stack string, ips []string) map[string]mesh.PeerSet {
	names := make([]mesh.NodeName, len(ips))
	for i, ip := range ips {
		names[i] = mesh.NodeName(harness.NodeName(ip))
	}
	topology, k := e.o.topology, e.o.degree
	if stack != droverStack {
		topology = ""
	}
	out := map[string]mesh.PeerSet{}
	for n, peers := range reconcile.Overlay(topology, k, names) {
		out[string(n)] = peers
	}
	return out
}

// holders returns the IPs of ips whose desired peers include node.
func (e *env) holders(stack string, ips []string, node string) []string {
	want := e.overlay(stack, ips)
	var out []string
	for _, ip := range ips {
		if want[harness.NodeName(ip)].Contains(mesh.NodeName(node)) {
			out = append(out, ip)
		}
	}
	return out
}

// changeStats counts, over the measured changes of one run, the
// collateral disconnects (nodedown between two members that neither join
// nor leave, over a link the topology keeps) and global's overlap
// warnings.
type changeStats struct {
	changes, collateral int
	overlap             int64
	examples            []string // the first few collateral events
}

// changeMark is where a change started.
type changeMark struct {
	stack   string
	downs   int
	overlap int64
}

func (e *env) startChange(stack string) changeMark {
	return changeMark{stack: stack, downs: e.obs.downCount(), overlap: e.count.overlap.Load()}
}

// endChange counts what happened since mark among ips, of which changing
// joined or left, as n changes. It returns a progress suffix ("" when no
// statistics are kept for this run).
func (e *env) endChange(mark changeMark, ips, changing []string, n int) string {
	if e.stats == nil {
		return ""
	}
	moving := map[string]bool{}
	for _, ip := range changing {
		moving[harness.NodeName(ip)] = true
	}
	var stable []string
	for _, ip := range ips {
		if !moving[harness.NodeName(ip)] {
			stable = append(stable, ip)
		}
	}
	before := e.overlay(mark.stack, stable)
	during := e.overlay(mark.stack, append(slices.Clone(stable), changing...))
	collateral := 0
	for _, d := range e.obs.downsSince(mark.downs) {
		p := mesh.NodeName(d.peer)
		if moving[d.node] || moving[d.peer] || !before[d.node].Contains(p) || !during[d.node].Contains(p) {
			continue
		}
		if _, member := before[d.node]; !member {
			continue
		}
		collateral++
		if len(e.stats.examples) < 5 {
			e.stats.examples = append(e.stats.examples, fmt.Sprintf("%s lost %s at %s", d.node, d.peer,
				d.at.Format("15:04:05.000000")))
		}
	}
	overlap := e.count.overlap.Load() - mark.overlap
	e.stats.changes += n
	e.stats.collateral += collateral
	e.stats.overlap += overlap
	return fmt.Sprintf(" collateral %d, overlap warnings %d", collateral, overlap)
}

// report sets the figures of the statistics.
func (s *changeStats) report(res *results, prefix string) {
	if s == nil {
		return
	}
	res.set(prefix+"changes", fmt.Sprint(s.changes))
	res.set(prefix+"collateral_disconnects", fmt.Sprint(s.collateral))
	res.set(prefix+"overlap_warnings", fmt.Sprint(s.overlap))
	if s.changes > 0 {
		res.set(prefix+"overlap_warnings_per_change", fmt.Sprintf("%.1f", float64(s.overlap)/float64(s.changes)))
	}
	for _, ex := range s.examples {
		res.note("%scollateral disconnect: %s", prefix, ex)
	}
}

// machineLoad describes the machine's load now: load averages, CPUs,
// available memory.
func machineLoad() string {
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
				var kb int64
				if _, err := fmt.Sscan(rest, &kb); err == nil {
					mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	return fmt.Sprintf("loadavg %s, %d CPUs, %s available", load, runtime.NumCPU(), mem)
}

// runSizes runs drover's real-node scenarios at each of o.sizes in one
// environment (scaling up between sizes) and adds the side-by-side table.
// Everything it starts is gone when it returns, also on error.
func runSizes(ctx context.Context, o options, res *results) error {
	e, err := setUpEnv(ctx, o)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.startController(ctx, true); err != nil {
		return err
	}
	var done []int
	defer func() { res.table(sizesTable(o, done, res)) }()
	for _, n := range o.sizes {
		r := newResults()
		err := e.runSize(ctx, n, r)
		r.finalize(e.o)
		res.merge(r, fmt.Sprintf("n%d_", n))
		done = append(done, n)
		if err != nil {
			return fmt.Errorf("at %d nodes: %w", n, err)
		}
	}
	progress("drover: scaling to 0")
	e.stopController()
	return e.bringUp(ctx, droverStack, 0)
}

// runSize brings the drover service to n members and measures joins and
// clean leaves, a silent loss and the steady load on Rancher there.
func (e *env) runSize(ctx context.Context, n int, r *results) error {
	e.o.nodes = n
	r.set("load_start", machineLoad())
	defer func() { r.set("load_end", machineLoad()) }()
	progress("drover: %d nodes (%s), %s", n, e.topologyLabel(), machineLoad())
	started := time.Now()
	if err := e.bringUp(ctx, droverStack, n); err != nil {
		return err
	}
	progress("drover: %d nodes steady after %s", n, time.Since(started).Round(time.Second))
	if err := e.measureLoad(ctx, r, "", droverStack); err != nil {
		return err
	}
	e.stats = &changeStats{}
	defer func() { e.stats.report(r, ""); e.stats = nil }()
	v := variant{name: fmt.Sprintf("drover at %d", n), stack: droverStack, cookie: droverCook, joinKey: "join",
		leaveKey: "leave_clean"}
	if err := e.joins(ctx, r, v); err != nil {
		return err
	}
	if err := e.silentLoss(ctx, r, droverStack, "leave_silent"); err != nil {
		return err
	}
	return nil
}

func (e *env) topologyLabel() string {
	if e.o.bounded() {
		return fmt.Sprintf("%s, degree %d", e.o.topology, e.o.degree)
	}
	return e.o.topology
}

// sizesTable renders the figures of each size side by side (markdown).
func sizesTable(o options, sizes []int, res *results) string {
	if len(sizes) == 0 {
		return ""
	}
	rows := []struct{ label, figure string }{
		{"join p50 / p99 (ms)", "join_p50_ms|join_p99_ms"},
		{"clean leave p50 / p99 / max (ms)", "leave_clean_p50_ms|leave_clean_p99_ms|leave_clean_max_ms"},
		{"samples (joins, leaves)", "join_samples|leave_clean_samples"},
		{"silent loss p50 / max (s)", "leave_silent_p50_s|leave_silent_max_s"},
		{"steady Rancher requests per hour", "requests_per_hour"},
		{"  api / metadata / dns", "api_requests_per_hour|metadata_requests_per_hour|dns_requests_per_hour"},
		{"collateral disconnects (changes)", "collateral_disconnects|changes"},
		{"global overlap warnings per change", "overlap_warnings_per_change"},
		{"machine at start", "load_start"},
		{"machine at end", "load_end"},
	}
	var b strings.Builder
	topology := o.topology
	if o.bounded() {
		topology = fmt.Sprintf("%s, degree %d", o.topology, o.degree)
	}
	fmt.Fprintf(&b, "drover at %v real nodes (%s; %d joins and clean leaves, %d hosts cut off, %s load window)\n\n",
		sizes, topology, o.joins, o.losses, o.loadWindow)
	b.WriteString("| figure |")
	for _, n := range sizes {
		fmt.Fprintf(&b, " %d nodes |", n)
	}
	b.WriteString("\n|---|")
	for range sizes {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", row.label)
		for _, n := range sizes {
			var parts []string
			for _, f := range strings.Split(row.figure, "|") {
				v, ok := res.get(fmt.Sprintf("n%d_%s", n, f))
				if !ok {
					v = "-"
				}
				parts = append(parts, v)
			}
			fmt.Fprintf(&b, " %s |", strings.Join(parts, " / "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
