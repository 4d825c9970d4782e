package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// violation is one broken rule.
type violation struct {
	at   time.Duration // since the run began
	rule string
	msg  string
}

// Rules a violation can break.
const (
	rulePeerLost     = "peer lost"
	ruleNotConverged = "not converged"
	ruleNotSettled   = "simulator not settled"
	ruleController   = "controller"
	ruleResources    = "resources"
)

// violations collects and prints violations; safe for concurrent use.
type violations struct {
	out io.Writer

	mu   sync.Mutex
	t0   time.Time
	list []violation
}

func (v *violations) start(t0 time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.t0 = t0
}

func (v *violations) add(rule, format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var at time.Duration
	if !v.t0.IsZero() {
		at = time.Since(v.t0)
	}
	x := violation{at: at, rule: rule, msg: fmt.Sprintf(format, args...)}
	v.list = append(v.list, x)
	fmt.Fprintf(v.out, "[%s] VIOLATION %s: %s\n", clock(at), rule, x.msg)
}

func (v *violations) all() []violation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.list)
}

// stepStats are the figures of one kind of step.
type stepStats struct {
	count    int
	converge []time.Duration // convergence times of the steps that converged in time
	duration []time.Duration // whole step, action to convergence
	failed   int             // did not converge in time
	errors   int             // the action itself could not be made
}

// record adds one step.
func (s *stepStats) record(conv, dur time.Duration, converged, actionErr bool) {
	s.count++
	s.duration = append(s.duration, dur)
	if converged {
		s.converge = append(s.converge, conv)
	} else {
		s.failed++
	}
	if actionErr {
		s.errors++
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// ds, or 0 when ds is empty.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// clock formats a run time as 1h02m03s / 2m03s / 3.4s.
func clock(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm%02ds", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// summary is everything the end of a run prints.
type summary struct {
	header      []string
	stats       map[kind]*stepStats
	counts      samplerCounts
	sample      time.Duration
	resSamples  int
	resErrors   int
	comparisons []comparison
	warmup      time.Duration
	duration    time.Duration
	violations  []violation
	interrupted bool
}

// write prints the summary.
func (s summary) write(w io.Writer) {
	fmt.Fprintln(w, "\n==== soak summary ====")
	for _, h := range s.header {
		fmt.Fprintln(w, h)
	}
	fmt.Fprintf(w, "\nactions (convergence: from the last read of Rancher's truth before its last change, or the end of the fault or downtime, to the end of\nthe first sample of the matching mesh: an upper bound, within one sampling period of %s; step: from the action to that sample)\n", s.sample)
	fmt.Fprintf(w, "  %-9s %5s %6s %6s %9s %9s %9s %9s %9s\n", "kind", "count", "late", "errors", "conv p50", "conv p90", "conv max", "step p50", "step max")
	var kinds []kind
	for k := range s.stats {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	total := 0
	for _, k := range kinds {
		st := s.stats[k]
		total += st.count
		fmt.Fprintf(w, "  %-9s %5d %6d %6d %9s %9s %9s %9s %9s\n", k, st.count, st.failed, st.errors,
			secs(percentile(st.converge, 50)), secs(percentile(st.converge, 90)), secs(percentile(st.converge, 100)),
			secs(percentile(st.duration, 50)), secs(percentile(st.duration, 100)))
	}
	fmt.Fprintf(w, "  %-9s %5d\n", "total", total)
	c := s.counts
	fmt.Fprintf(w, "\nsamples: %d rounds (every %s), %d status reads (%d failed), %d link checks, %d truth reads failed\n",
		c.rounds, s.sample, c.reads, c.readErrors, c.checks, c.truthErrors)
	fmt.Fprintf(w, "\nresources: median of the first quarter after warm-up [%s, %s) vs the last quarter [%s, %s]; %d samples, %d failed reads\n",
		clock(s.warmup), clock(s.duration/4), clock(s.duration*3/4), clock(s.duration), s.resSamples, s.resErrors)
	fmt.Fprintf(w, "  %-26s %10s %10s %10s %12s  %s\n", "figure", "first", "last", "allowed", "nodes", "")
	for _, cmp := range s.comparisons {
		verdict := "ok"
		switch {
		case cmp.nFirst == 0 || cmp.nLast == 0:
			fmt.Fprintf(w, "  %-26s %10s %10s %10s %12s  not judged (no samples in a quarter)\n", cmp.fig.name, "-", "-", "-", "-")
			continue
		case !cmp.ok:
			verdict = "GROWTH"
		}
		fmt.Fprintf(w, "  %-26s %10.1f %10.1f %10.1f %5.0f -> %-4.0f  %s\n", cmp.fig.name, cmp.first, cmp.last, cmp.allowed,
			cmp.nodesFirst, cmp.nodesLast, verdict)
	}
	fmt.Fprintf(w, "\nviolations: %d\n", len(s.violations))
	for i, v := range s.violations {
		if i == 50 {
			fmt.Fprintf(w, "  ... and %d more\n", len(s.violations)-50)
			break
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", clock(v.at), v.rule, v.msg)
	}
	switch {
	case len(s.violations) > 0:
		fmt.Fprintln(w, "result: FAIL")
	case s.interrupted:
		fmt.Fprintln(w, "result: INTERRUPTED (no violation so far)")
	default:
		fmt.Fprintln(w, "result: PASS")
	}
}

// loadAverage returns /proc/loadavg's first three fields.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
