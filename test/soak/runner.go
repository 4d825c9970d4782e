package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// Bounds of the runner's own calls.
const (
	actionTimeout = 2 * time.Minute
	pollEvery     = 200 * time.Millisecond
)

// runner is one soak run.
type runner struct {
	o    options
	out  io.Writer
	env  *env
	topo topology
	samp *sampler
	res  *resources
	viol *violations
	plan *planner

	stats map[kind]*stepStats
	t0    time.Time

	mu      sync.Mutex
	doomed  map[identity]bool // killed outside Rancher: their links may drop before Rancher knows
	current string            // the step in progress, for the status line
	since   time.Time
}

func newRunner(o options, out io.Writer) *runner {
	exec := o.runtime == runtimeExec
	topo := soakTopology(exec)
	r := &runner{o: o, out: out, topo: topo, viol: &violations{out: out},
		stats: map[kind]*stepStats{}, doomed: map[identity]bool{}}
	r.env = &env{o: o, out: out, exec: exec, topo: topo}
	r.plan = newPlanner(o.seed, topo.services(), initialScales(exec), o.maxScale, exec)
	return r
}

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

// elapsed is the run time so far.
func (r *runner) elapsed() time.Duration {
	if r.t0.IsZero() {
		return 0
	}
	return time.Since(r.t0)
}

// run sets up, runs the steps for the duration and prints the summary.
// It returns an error when the run could not be made (not for violations).
func (r *runner) run(ctx context.Context) error {
	r.printf("soak: runtime %s, duration %s, seed %d (replay: go run ./test/soak -runtime %s -seed %d)\n",
		r.o.runtime, r.o.duration, r.o.seed, r.o.runtime, r.o.seed)
	r.printf("soak: load average %s on %d cores at start\n", loadAverage(), numCPU())
	if err := r.env.setUp(ctx); err != nil {
		return err
	}
	r.samp = newSampler(r.env.sim, r.topo, harness.AgentStatus, r.o.sample, r.excused, r.onLosses)
	r.res = newResources(r.env, r.samp, r.o.resourcesEvery)
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.samp.run(bg) })
	wg.Go(func() { r.res.run(bg) })
	defer func() {
		stopBG()
		wg.Wait()
	}()
	r.printf("soak: waiting for the initial mesh (%s)\n", scalesString(r.plan.scales, r.topo))
	if c := r.converge(ctx, time.Now(), r.o.settle); !c.recovered {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("the initial mesh did not converge: see the violations above")
	}
	r.t0 = time.Now()
	r.viol.start(r.t0)
	r.res.start(r.t0)
	wg.Go(func() { r.statusLoop(bg) })
	r.printf("[%s] run begins: %s\n", clock(0), scalesString(r.plan.scales, r.topo))
	err := r.steps(ctx)
	interrupted := ctx.Err() != nil
	if interrupted {
		err = nil
	}
	r.summary(interrupted || err != nil).write(r.out)
	return err
}

// steps runs steps until the duration has passed. It returns ctx's error
// when interrupted, and an error when the mesh did not recover from a step
// or the simulator died.
func (r *runner) steps(ctx context.Context) error {
	for i := 1; ; i++ {
		el := r.elapsed()
		if el >= r.o.duration {
			return nil
		}
		if exited, err := r.env.sim.Process().Exited(); exited {
			log := tailString(r.env.sim.Process().Log(), 1500)
			if err != nil {
				return fmt.Errorf("the simulator exited: %w: %s", err, log)
			}
			return fmt.Errorf("the simulator exited: %s", log)
		}
		r.checkController(ctx)
		s := r.plan.next(i, float64(el)/float64(r.o.duration))
		r.setCurrent(fmt.Sprintf("#%d %s %s", s.n, s.kind, s))
		begin := time.Now()
		from, note, actErr := r.execute(ctx, s)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if actErr != nil {
			r.printf("[%s] #%d %s: the action failed: %v\n", clock(r.elapsed()), s.n, s.kind, actErr)
		}
		conv := r.converge(ctx, from, r.o.converge)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st := r.stats[s.kind]
		if st == nil {
			st = &stepStats{}
			r.stats[s.kind] = st
		}
		st.record(conv.took, time.Since(begin), conv.inTime, actErr != nil)
		verdict := "converged in " + secs(conv.took)
		if !conv.inTime {
			verdict = "DID NOT CONVERGE in time"
		}
		if note != "" {
			note = " (" + note + ")"
		}
		r.printf("[%s] #%d %s %s%s: %s, step %s; %s\n", clock(r.elapsed()), s.n, s.kind, s, note, verdict,
			secs(time.Since(begin)), scalesString(r.plan.scales, r.topo))
		r.setCurrent("")
		if !conv.recovered {
			return fmt.Errorf("the mesh did not recover within %s of step #%d; stopping", r.o.settle, s.n)
		}
		if err := sleepFor(ctx, s.pause); err != nil {
			return err
		}
	}
}

func (r *runner) setCurrent(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current, r.since = s, time.Now()
}

// excused reports whether an incarnation was killed outside Rancher.
func (r *runner) excused(id identity) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doomed[id]
}

func (r *runner) doom(id identity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.doomed[id] = true
}

// onLosses reports the links lost in one round as one violation.
func (r *runner) onLosses(ls []loss) {
	r.mu.Lock()
	cur := r.current
	r.mu.Unlock()
	if cur == "" {
		cur = "between steps"
	}
	const shown = 6
	parts := make([]string, 0, shown+1)
	for i, l := range ls {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(ls)-shown))
			break
		}
		parts = append(parts, l.String())
	}
	r.viol.add(rulePeerLost, "%d links lost during %s: %s", len(ls), cur, strings.Join(parts, "; "))
}

// convergence is how a wait for the mesh ended.
type convergence struct {
	took      time.Duration // from the last change to the matching sample
	inTime    bool          // within the bound
	recovered bool          // matched at all, before -settle passed
}

// tracker follows the rounds after an action and decides when the mesh
// has converged. Not safe for concurrent use.
type tracker struct {
	bound time.Duration
	// changeAt is the last read of the truth before its last change (or
	// the start of the wait, when later): the change happened after it, so
	// times measured from it are upper bounds within one sampling period.
	changeAt time.Time
	// matchedAt is the end of the first of the matching samples since the
	// last change: the mesh may match before the simulator settles (a
	// stopped container leaves the mesh before Docker's stop returns).
	matchedAt time.Time
	prev      *truth
	late      bool
	mism      []mismatch // of the last stable round
}

func newTracker(from time.Time, bound time.Duration) *tracker {
	return &tracker{bound: bound, changeAt: from}
}

// observe takes the next round and returns, in order: converged (the
// simulator is settled and the mesh matches its truth), the convergence
// time when it did, and becameLate (the truth has been stable for bound
// and the mesh still does not match; reported once).
func (t *tracker) observe(rd *round, now time.Time) (bool, time.Duration, bool) {
	if t.prev != nil && !sameMembers(*t.prev, rd.before) {
		t.changeAt = maxTime(t.changeAt, t.prev.at)
		t.matchedAt = time.Time{} // that match was against the old truth
	}
	stable := sameMembers(rd.before, rd.after)
	if !stable {
		t.changeAt = maxTime(t.changeAt, rd.before.at)
	}
	t.prev = &rd.after
	var mism []mismatch
	if stable {
		mism = matchMesh(rd)
		t.mism = mism
	}
	switch {
	case !stable || len(mism) > 0:
		t.matchedAt = time.Time{}
	case t.matchedAt.IsZero():
		t.matchedAt = rd.end
	}
	if stable && rd.settled && len(mism) == 0 {
		return true, max(0, t.matchedAt.Sub(t.changeAt)), false
	}
	if !t.late && stable && len(mism) > 0 && now.After(t.changeAt.Add(t.bound)) {
		t.late = true
		return false, 0, true
	}
	return false, 0, false
}

// converge waits until the simulator is settled and the mesh matches its
// truth (see tracker). A mismatch that lasts bound after the truth's last
// change is a violation; the wait then goes on until -settle has passed
// since from, so that the run can continue if the mesh recovers.
func (r *runner) converge(ctx context.Context, from time.Time, bound time.Duration) convergence {
	hard := from.Add(max(r.o.settle, bound))
	wctx, cancel := context.WithDeadline(ctx, hard.Add(time.Minute))
	defer cancel()
	t := newTracker(from, bound)
	for after := from; ; {
		r.checkController(ctx)
		rd, err := r.samp.nextAfter(wctx, after)
		if err != nil {
			if ctx.Err() == nil {
				r.viol.add(ruleNotConverged, "no complete sample of the simulator and the agents since %s", clock(from.Sub(r.t0)))
			}
			return convergence{}
		}
		after = rd.start
		now := time.Now()
		done, took, late := t.observe(rd, now)
		if done {
			if t.late {
				r.printf("[%s] the mesh converged late, %s after the last change\n", clock(r.elapsed()), secs(took))
			}
			return convergence{took: took, inTime: !t.late, recovered: true}
		}
		if late {
			r.viol.add(ruleNotConverged, "the mesh does not match Rancher's truth %s after its last change: %s",
				bound, describeMismatches(t.mism))
			r.dumpStatus()
		}
		if now.After(hard) {
			if !rd.settled {
				r.viol.add(ruleNotSettled, "the simulator did not settle within %s", r.o.settle)
			} else if !t.late {
				r.viol.add(ruleNotConverged, "the mesh does not match Rancher's truth: %s", describeMismatches(t.mism))
			}
			return convergence{}
		}
	}
}

// dumpStatus saves the controller's /status in the log directory.
func (r *runner) dumpStatus() {
	c := r.env.controller()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.OpsURL+"/status", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.printf("reading the controller's status: %v\n", err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	path := filepath.Join(r.env.dir, fmt.Sprintf("status-%s.json", strings.ReplaceAll(clock(r.elapsed()), ".", "_")))
	if err := os.WriteFile(path, data, 0o644); err == nil {
		r.printf("the controller's /status is saved in %s\n", path)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func describeMismatches(ms []mismatch) string {
	if len(ms) == 0 {
		return "no complete sample"
	}
	parts := make([]string, 0, min(len(ms), 10))
	for i, m := range ms {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ms)-10))
			break
		}
		parts = append(parts, m.String())
	}
	return strings.Join(parts, "; ")
}

// scalesString is the planned scales, e.g. "alpha 3, beta 0, gamma 2+1".
func scalesString(scales map[string]int, topo topology) string {
	parts := make([]string, 0, len(topo.clusters))
	for _, c := range topo.clusters {
		var ns []string
		for _, s := range c.services {
			ns = append(ns, fmt.Sprint(scales[s]))
		}
		parts = append(parts, c.name+" "+strings.Join(ns, "+"))
	}
	return strings.Join(parts, ", ")
}

// statusLoop prints a status line every -status-every.
func (r *runner) statusLoop(ctx context.Context) {
	every(ctx, r.o.statusEvery, func() { r.printf("%s\n", r.statusLine()) })
}

// every calls fn every period until ctx is done.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

func (r *runner) statusLine() string {
	r.mu.Lock()
	cur, since := r.current, r.since
	r.mu.Unlock()
	if cur == "" {
		cur = "between steps"
	} else {
		cur = fmt.Sprintf("%s (for %s)", cur, clock(time.Since(since)))
	}
	c := r.samp.totals()
	var sizes string
	if rd := r.samp.latest(); rd != nil {
		var parts []string
		for i, n := range rd.after.clusterSizes(r.topo) {
			parts = append(parts, fmt.Sprintf("%s %d", r.topo.clusters[i].name, n))
		}
		sizes = strings.Join(parts, ", ")
	}
	var res string
	if samples, _ := r.res.snapshot(); len(samples) > 0 {
		last := samples[len(samples)-1]
		var parts []string
		for _, f := range figures(r.env.exec) {
			if v, ok := last.values[f.name]; ok {
				parts = append(parts, fmt.Sprintf("%s %.0f", f.name, v))
			}
		}
		res = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("[%s] status: %s; members: %s; %d rounds, %d links tracked, %d checks, %d status reads failed; %d violations; %s; load %s",
		clock(r.elapsed()), cur, sizes, c.rounds, c.tracked, c.checks, c.readErrors, len(r.viol.all()), res, loadAverage())
}

// summary gathers the end-of-run figures, judging resources.
func (r *runner) summary(interrupted bool) summary {
	samples, resErrs := r.res.snapshot()
	cmps := compare(samples, figures(r.env.exec), r.o.warmup, r.o.duration)
	if !interrupted {
		for _, c := range cmps {
			if c.nFirst > 0 && c.nLast > 0 && !c.ok {
				r.viol.add(ruleResources, "%s grew from %.1f (first quarter) to %.1f (last quarter), allowed %.1f",
					c.fig.name, c.first, c.last, c.allowed)
			}
		}
	}
	host, _ := os.Hostname()
	return summary{
		header: []string{
			fmt.Sprintf("runtime %s, seed %d, duration %s (ran %s), max scale %d, sampling every %s",
				r.o.runtime, r.o.seed, r.o.duration, clock(r.elapsed()), r.o.maxScale, r.o.sample),
			fmt.Sprintf("machine %s: %d cores, load average %s at the end (shared with other work: figures are from a loaded machine)",
				host, numCPU(), loadAverage()),
			fmt.Sprintf("replay: go run ./test/soak -runtime %s -seed %d -duration %s", r.o.runtime, r.o.seed, r.o.duration),
		},
		stats: r.stats, counts: r.samp.totals(), sample: r.o.sample,
		resSamples: len(samples), resErrors: resErrs, comparisons: cmps,
		warmup: r.o.warmup, duration: r.o.duration, violations: r.viol.all(), interrupted: interrupted,
	}
}
