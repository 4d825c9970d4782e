package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// results collects samples (durations, by series) and single figures.
type results struct {
	mu      sync.Mutex
	series  map[string][]time.Duration
	figures map[string]string
	order   []string // figure names in the order they were set
	notes   []string
	tables  []string // markdown tables printed before the figures
}

func newResults() *results {
	return &results{series: map[string][]time.Duration{}, figures: map[string]string{}}
}

// add records one sample of a series.
func (r *results) add(series string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.series[series] = append(r.series[series], d)
}

// samples returns a sorted copy of a series.
func (r *results) samples(series string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.series[series])
	slices.Sort(s)
	return s
}

// set records a figure (name=value line).
func (r *results) set(name, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.figures[name]; !ok {
		r.order = append(r.order, name)
	}
	r.figures[name] = value
}

// get returns a figure as set.
func (r *results) get(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.figures[name]
	return v, ok
}

// table records a markdown table for the output and the raw file.
func (r *results) table(t string) {
	if t == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tables = append(r.tables, t)
}

// merge copies o's series, figures and notes into r, each name prefixed.
func (r *results) merge(o *results, prefix string) {
	o.mu.Lock()
	series, figures, order, notes := o.series, o.figures, slices.Clone(o.order), slices.Clone(o.notes)
	o.mu.Unlock()
	for name, s := range series {
		for _, d := range s {
			r.add(prefix+name, d)
		}
	}
	for _, name := range order {
		r.set(prefix+name, figures[name])
	}
	for _, n := range notes {
		r.note("%s%s", prefix, n)
	}
}

// note records a remark for the raw file.
func (r *results) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// percentile returns the p-th percentile (nearest rank) of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize sets name_p50/p90/p99/max (in unit) from a series, and returns
// false when the series is empty.
func (r *results) summarize(series, prefix string, unit time.Duration) bool {
	s := r.samples(series)
	if len(s) == 0 {
		r.note("%s: no samples", series)
		return false
	}
	suffix := "_ms"
	if unit == time.Second {
		suffix = "_s"
	}
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"p50", percentile(s, 50)}, {"p90", percentile(s, 90)}, {"p99", percentile(s, 99)}, {"max", s[len(s)-1]}} {
		r.set(prefix+"_"+p.name+suffix, formatIn(p.v, unit))
	}
	r.set(prefix+"_samples", fmt.Sprint(len(s)))
	return true
}

// formatIn renders d in unit with a sensible precision.
func formatIn(d time.Duration, unit time.Duration) string {
	v := float64(d) / float64(unit)
	switch {
	case unit == time.Second:
		return fmt.Sprintf("%.2f", v)
	case math.Abs(v) < 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

// printFigures prints every figure as name=value, in the order set.
func (r *results) printFigures(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tables {
		fmt.Fprintf(w, "%s\n", t)
	}
	fmt.Fprintln(w, "# figures")
	for _, name := range r.order {
		fmt.Fprintf(w, "%s=%s\n", name, r.figures[name])
	}
}

// write writes the raw file and the plot when asked.
func (r *results) write(o options) error {
	if o.plot != "" {
		if err := r.writePlot(o.plot); err != nil {
			return fmt.Errorf("writing the plot: %w", err)
		}
		progress("plot written to %s", o.plot)
	}
	if o.rawPath == "" {
		return nil
	}
	if err := os.WriteFile(o.rawPath, []byte(r.raw()), 0o644); err != nil {
		return fmt.Errorf("writing raw results: %w", err)
	}
	progress("raw results written to %s", o.rawPath)
	return nil
}

// raw renders every series (sorted samples in ms) and figure as markdown.
func (r *results) raw() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, t := range r.tables {
		fmt.Fprintf(&b, "%s\n", t)
	}
	fmt.Fprintf(&b, "Raw samples, sorted, in milliseconds.\n\n")
	names := make([]string, 0, len(r.series))
	for n := range r.series {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := slices.Clone(r.series[n])
		slices.Sort(s)
		parts := make([]string, len(s))
		for i, d := range s {
			parts[i] = formatIn(d, time.Millisecond)
		}
		fmt.Fprintf(&b, "- `%s` (%d): %s\n", n, len(s), strings.Join(parts, " "))
	}
	fmt.Fprintf(&b, "\nFigures:\n\n```\n")
	for _, name := range r.order {
		fmt.Fprintf(&b, "%s=%s\n", name, r.figures[name])
	}
	fmt.Fprintf(&b, "```\n")
	if len(r.notes) > 0 {
		fmt.Fprintf(&b, "\nNotes:\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// finalize turns the series into the name=value figures and the load
// extrapolation.
func (r *results) finalize(o options) {
	ms := []string{"join", "baseline_join", "join_ready", "baseline_join_ready", "leave_clean",
		"baseline_leave_clean", "noannounce_join", "noannounce_leave_clean", "join_ready_health", "running_leave_clean"}
	for _, s := range ms {
		r.summarize(s, s, time.Millisecond)
	}
	if o.beamLatency > 0 { // the joins at -beam-latency, when the real-node part ran them
		k := latencyKey(o.beamLatency)
		for _, s := range []string{"join_" + k, "leave_clean_" + k} {
			if len(r.samples(s)) > 0 {
				r.summarize(s, s, time.Millisecond)
			}
		}
	}
	for _, s := range []string{"leave_silent", "baseline_leave_silent"} {
		r.summarize(s, s, time.Second)
	}
	r.ratio("join_p50_ratio", "baseline_join_p50_ms", "join_p50_ms")
	r.ratio("join_p99_ratio", "baseline_join_p99_ms", "join_p99_ms")
	r.ratio("join_ready_p50_ratio", "join_ready_p50_ms", "baseline_join_ready_p50_ms")
	r.extrapolate()
}

// figure returns a figure as a number.
func (r *results) figure(name string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.figures[name]
	if !ok {
		return 0, false
	}
	var f float64
	_, err := fmt.Sscanf(v, "%g", &f)
	return f, err == nil
}

// ratio sets name = a / b when both exist.
func (r *results) ratio(name, a, b string) {
	x, ok1 := r.figure(a)
	y, ok2 := r.figure(b)
	if ok1 && ok2 && y != 0 {
		r.set(name, fmt.Sprintf("%.1f", x/y))
	}
}

// extrapolate states the load at 100 and 1,000 nodes. The recipe: every
// node polls on its own, R(N) = N x (measured per node). drover: one event
// stream and one resync per interval per environment, whose container list
// is one page up to 1,000 containers: R(N) = measured R(20) for N <= 1,000
// (plus one request per resync for every further 1,000 containers).
func (r *results) extrapolate() {
	if per, ok := r.figure("baseline_requests_per_node_per_hour"); ok {
		r.set("baseline_requests_per_hour_100", fmt.Sprintf("%.0f", per*100))
		r.set("baseline_requests_per_hour_1000", fmt.Sprintf("%.0f", per*1000))
	}
	if tot, ok := r.figure("requests_per_hour"); ok {
		r.set("requests_per_hour_100", fmt.Sprintf("%.0f", tot))
		r.set("requests_per_hour_1000", fmt.Sprintf("%.0f", tot))
	}
}
