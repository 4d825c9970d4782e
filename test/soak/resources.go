package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// figure is one resource figure and its allowance: the last quarter's
// median may exceed the first quarter's median m by at most
// m*rel + abs + perNode*max(0, nodes growth), where nodes is the median
// number of running containers of each quarter (more nodes legitimately
// hold more connections, goroutines and memory).
type figure struct {
	name         string
	rel, abs     float64
	perNode      float64
	exec, goOnly bool // only with -runtime exec / only with go
}

// The figures. The allowances are documented in docs/soak.md.
const (
	figCtlRSS  = "controller RSS MiB"
	figCtlGo   = "controller goroutines"
	figCtlFDs  = "controller open fds"
	figSimRSS  = "simulator RSS MiB"
	figSimGo   = "simulator goroutines"
	figSimFDs  = "simulator open fds"
	figVMRSS   = "VM RSS MiB (median VM)"
	figVMFDs   = "VM open fds (median VM)"
	figVMProcs = "VM processes (median VM)"
	mib        = 1 << 20
)

func figures(exec bool) []figure {
	all := []figure{
		{name: figCtlRSS, rel: 0.5, abs: 16, perNode: 0.5},
		{name: figCtlGo, rel: 0.25, abs: 20, perNode: 3},
		{name: figCtlFDs, rel: 0.25, abs: 20, perNode: 2},
		{name: figSimRSS, rel: 0.5, abs: 16, perNode: 1},
		{name: figSimGo, rel: 0.25, abs: 20, perNode: 6, goOnly: true},
		{name: figSimFDs, rel: 0.25, abs: 20, perNode: 4},
		{name: figVMRSS, rel: 0.25, abs: 16, perNode: 1, exec: true},
		{name: figVMFDs, rel: 0.25, abs: 16, perNode: 1, exec: true},
		{name: figVMProcs, rel: 0.25, abs: 50, perNode: 3, exec: true},
	}
	var out []figure
	for _, f := range all {
		if (f.exec && !exec) || (f.goOnly && exec) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// resSample is one resource sample: at is the time since the run began.
type resSample struct {
	at     time.Duration
	nodes  int
	values map[string]float64
}

// comparison is one figure's first and last quarter.
type comparison struct {
	fig                   figure
	first, last           float64 // medians
	nFirst, nLast         int     // samples
	nodesFirst, nodesLast float64
	allowed               float64
	ok                    bool
}

// compare compares, for every figure, the median of the samples in
// [warmup, duration/4) with the median of those in [3*duration/4,
// duration]. A figure without samples in either quarter is not judged.
func compare(samples []resSample, figs []figure, warmup, duration time.Duration) []comparison {
	inFirst := func(s resSample) bool { return s.at >= warmup && s.at < duration/4 }
	inLast := func(s resSample) bool { return s.at >= duration*3/4 && s.at <= duration }
	out := make([]comparison, 0, len(figs))
	for _, f := range figs {
		var a, b, na, nb []float64
		for _, s := range samples {
			v, ok := s.values[f.name]
			if !ok {
				continue
			}
			switch {
			case inFirst(s):
				a, na = append(a, v), append(na, float64(s.nodes))
			case inLast(s):
				b, nb = append(b, v), append(nb, float64(s.nodes))
			}
		}
		c := comparison{fig: f, nFirst: len(a), nLast: len(b), ok: true}
		if len(a) == 0 || len(b) == 0 {
			out = append(out, c)
			continue
		}
		c.first, c.last = median(a), median(b)
		c.nodesFirst, c.nodesLast = median(na), median(nb)
		c.allowed = c.first*(1+f.rel) + f.abs + f.perNode*max(0, c.nodesLast-c.nodesFirst)
		c.ok = c.last <= c.allowed
		out = append(out, c)
	}
	return out
}

// median of xs (not empty); the mean of the middle two for an even count.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// resources samples every figure periodically.
type resources struct {
	env   *env
	samp  *sampler
	t0    time.Time
	every time.Duration

	mu      sync.Mutex
	samples []resSample
	errors  int
	pids    map[identity]int // BEAM VM of each incarnation
}

func newResources(e *env, s *sampler, every time.Duration) *resources {
	return &resources{env: e, samp: s, every: every, pids: map[identity]int{}}
}

// run samples until ctx is done, once start has set t0.
func (r *resources) run(ctx context.Context) {
	every(ctx, r.every, func() {
		r.mu.Lock()
		t0 := r.t0
		r.mu.Unlock()
		if t0.IsZero() {
			return // before the run began
		}
		s, errs := r.sample(ctx)
		s.at = time.Since(t0)
		r.mu.Lock()
		r.samples = append(r.samples, s)
		r.errors += errs
		r.mu.Unlock()
	})
}

// start marks the beginning of the run.
func (r *resources) start(t0 time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t0 = t0
}

// snapshot returns the samples so far and the count of failed reads.
func (r *resources) snapshot() ([]resSample, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples), r.errors
}

// sample reads every figure it can; errs counts those it could not read
// (a controller that is down is not an error).
func (r *resources) sample(ctx context.Context) (resSample, int) {
	ctx, cancel := context.WithTimeout(ctx, r.every)
	defer cancel()
	s := resSample{values: map[string]float64{}}
	errs := 0
	if rd := r.samp.latest(); rd != nil {
		s.nodes = rd.after.running
	}
	if c := r.env.controller(); c != nil {
		for name, metric := range map[string]string{figCtlRSS: "process_resident_memory_bytes",
			figCtlGo: "go_goroutines", figCtlFDs: "process_open_fds"} {
			v, err := c.Metric(ctx, metric, nil)
			if err != nil {
				if r.env.controller() == c {
					errs++
				}
				continue
			}
			if name == figCtlRSS {
				v /= mib
			}
			s.values[name] = v
		}
	}
	pid := r.env.sim.Process().PID()
	if rss, fds, err := procFigures(pid); err == nil {
		s.values[figSimRSS], s.values[figSimFDs] = rss, fds
	} else {
		errs++
	}
	if !r.env.exec {
		if st, err := r.env.sim.ProcessStats(ctx); err == nil {
			s.values[figSimGo] = float64(st.Goroutines)
		} else {
			errs++
		}
	} else {
		errs += r.sampleVMs(ctx, &s)
	}
	return s, errs
}

// sampleVMs adds the median VM's RSS, fds and process count.
func (r *resources) sampleVMs(ctx context.Context, s *resSample) int {
	rd := r.samp.latest()
	if rd == nil {
		return 0
	}
	var rss, fds, procs []float64
	var nodes []string
	errs := 0
	for _, m := range rd.after.members {
		nodes = append(nodes, m.node)
		pid, err := r.vmPID(ctx, m)
		if err != nil {
			errs++
			continue
		}
		if a, b, err := procFigures(pid); err == nil {
			rss, fds = append(rss, a), append(fds, b)
		}
	}
	counts, err := r.env.probe.counts(ctx, nodes)
	if err != nil {
		errs++
	}
	for _, c := range counts {
		procs = append(procs, float64(c))
	}
	for name, xs := range map[string][]float64{figVMRSS: rss, figVMFDs: fds, figVMProcs: procs} {
		if len(xs) > 0 {
			s.values[name] = median(xs)
		}
	}
	return errs
}

// vmPID returns (and remembers) the VM of an incarnation.
func (r *resources) vmPID(ctx context.Context, m member) (int, error) {
	r.mu.Lock()
	pid, ok := r.pids[m.identity]
	r.mu.Unlock()
	if ok && isAlive(pid) {
		return pid, nil
	}
	pids, err := harness.NodeVMPIDs(ctx, m.ip)
	if err != nil {
		return 0, err
	}
	if len(pids) != 1 {
		return 0, fmt.Errorf("%d VMs in the namespace of %s", len(pids), m.ip)
	}
	r.mu.Lock()
	r.pids[m.identity] = pids[0]
	r.mu.Unlock()
	return pids[0], nil
}

func isAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// procFigures returns a process's resident set in MiB (from
// /proc/PID/statm) and its number of open fds.
func procFigures(pid int) (float64, float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, 0, fmt.Errorf("reading the memory of %d: %w", pid, err)
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/statm: %q", pid, data)
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/statm: %q", pid, data)
	}
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0, 0, fmt.Errorf("reading the fds of %d: %w", pid, err)
	}
	return pages * float64(os.Getpagesize()) / mib, float64(len(entries)), nil
}
