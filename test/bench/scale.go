package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
	"github.com/drover-mesh/drover/test/harness"
)

// The scale part runs Go agents (pkg/simruntime) on loopback addresses,
// away from the ranges the tests use (/work/notes/ipranges.md: 127.42-127.46).
const (
	scaleIPRange  = "127.62.0.0/16"
	scaleStack    = "scale"
	scaleSettle   = 10 * time.Minute
	scaleConverge = 5 * time.Minute
	quietPeriod   = 3 * time.Second
)

// scaleEnv is the in-process simulator with Go agents.
type scaleEnv struct {
	o        options
	clusters int    // services, one cluster each
	size     int    // Go agents per service
	prefix   string // of the figures' names
	build    *harness.Build
	sim      *ranchersim.Sim
	hsim     *harness.Sim
	rt       *simruntime.Runtime
	announce string
	ops      string
	services []string
	ctlN     int
	peakKB   int64
}

func scaleServiceName(i int) string { return fmt.Sprintf("s%03d", i) }

// runScale measures the controller at o.scaleClusters x o.scaleSize Go
// agents, then at o.scaleLarge x o.scaleSize (figures prefixed with the
// number of nodes, e.g. n10000_, except at 2,000 nodes).
// Then it runs the join-and-leave cycles of cycle.go, and prints the
// figures beside issue 15's.
func runScale(ctx context.Context, o options, res *results) error {
	defer compareIssue15(res)
	if o.scaleClusters > 0 {
		env := &scaleEnv{o: o, clusters: o.scaleClusters, size: o.scaleSize}
		if n := o.scaleClusters * o.scaleSize; n != 2000 {
			env.prefix = fmt.Sprintf("n%d_", n) // the figures issue 15 names by size
		}
		if err := runScaleOnce(ctx, env, res); err != nil {
			return err
		}
	}
	if o.scaleLarge > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := o.scaleLarge * o.scaleSize
		if err := runScaleOnce(ctx, &scaleEnv{o: o, clusters: o.scaleLarge, size: o.scaleSize, prefix: fmt.Sprintf("n%d_", n)}, res); err != nil {
			return err
		}
	}
	if o.cycles <= 0 {
		return nil
	}
	build, err := harness.BuildAll(ctx, harness.BuildOptions{BinDir: filepath.Join(o.workDir, "bin"), SkipRelease: true})
	if err != nil {
		return err
	}
	return runCycles(ctx, o, build, res)
}

// issue15Row is a figure issue 15 started from, its target, and the
// figure that measures it now.
type issue15Row struct{ figure, what, before, target string }

// issue15Rows are issue 15's figures (go run ./test/bench -beam=false,
// 2,000 Go agents in 100 clusters) and targets.
func issue15Rows() []issue15Row {
	return []issue15Row{
		{"cpu_per_event_pass_ms", "CPU per event pass, 2,000 nodes (ms)", "165 (every pass listed)", "<= 20"},
		{"cpu_per_pass_ms", "CPU per full resync pass (Rancher listed), 2,000 (ms)", "165", "<= 100"},
		{"cpu_per_full_pass_ms", "CPU per drift pass (every node's status read), 2,000 (ms)", "403", ""},
		{"n10000_cpu_per_event_pass_ms", "CPU per event pass, 10,000 (ms)", "", ""},
		{"n10000_cpu_per_pass_ms", "CPU per full resync pass, 10,000 (ms)", "", "<= 150"},
		{"n10000_cpu_per_full_pass_ms", "CPU per drift pass, 10,000 (ms)", "", ""},
		{"controller_peak_rss_mb", "controller peak RSS, 2,000 (MB)", "277", "<= 100"},
		{"n10000_controller_peak_rss_mb", "controller peak RSS, 10,000 (MB)", "", "<= 300"},
		{"requests_per_hour_default_resync", "steady Rancher requests per hour, 2,000", "1,350", "<= 150"},
		{"n10000_requests_per_hour_default_resync", "steady Rancher requests per hour, 10,000", "1,350", "<= 150"},
		{"go_cycle_requests_mean_lat0", "API requests per join-and-leave cycle, 20 Go agents (mean)", "176", "<= 20"},
		{"go_cycle_requests_max_lat0", "API requests per join-and-leave cycle (max)", "176", "<= 20"},
		{"go_cycle_requests_mean_lat50ms", "the same at 50 ms API latency (mean)", "", "<= 20"},
		{"go_cycle_requests_max_lat50ms", "the same at 50 ms API latency (max)", "", "<= 20"},
		{"go_join_lat0_p50_ms", "Go-agent join p50, zero latency (ms)", "", ""},
		{"go_join_lat0_p99_ms", "Go-agent join p99, zero latency (ms)", "", ""},
		{"go_join_lat50ms_p50_ms", "Go-agent join p50, 50 ms API latency (ms)", "", ""},
		{"go_join_lat50ms_p99_ms", "Go-agent join p99, 50 ms API latency (ms)", "", "< 400 (BEAM)"},
		{"go_leave_clean_lat0_p99_ms", "Go-agent clean leave p99, zero latency (ms)", "", ""},
		{"go_leave_clean_lat50ms_p99_ms", "Go-agent clean leave p99, 50 ms API latency (ms)", "", ""},
	}
}

// compareIssue15 prints the measured figures beside issue 15's (and puts
// the table in the raw file's notes); figures not measured are left out.
func compareIssue15(res *results) {
	lines := []string{"| figure | issue 15 | target | now |", "|---|---|---|---|"}
	for _, f := range issue15Rows() {
		res.mu.Lock()
		now, ok := res.figures[f.figure]
		res.mu.Unlock()
		if ok {
			lines = append(lines, fmt.Sprintf("| %s (`%s`) | %s | %s | %s |", f.what, f.figure, f.before, f.target, now))
		}
	}
	if len(lines) == 2 {
		return
	}
	progress("scale figures beside issue 15's:\n%s", strings.Join(lines, "\n"))
	res.note("beside issue 15:\n\n%s\n", strings.Join(lines, "\n"))
}

// runScaleOnce measures one size: CPU per event pass, per resync pass
// (Rancher re-listed) and per full pass (every node's status read), the
// requests a resync costs, peak memory, and pushes per node for a burst
// of container events.
func runScaleOnce(ctx context.Context, s *scaleEnv, res *results) error {
	var cl cleanups
	defer cl.run()
	raiseFileLimit(4*s.clusters*s.size + 4096)
	if err := s.start(ctx, &cl); err != nil {
		return err
	}
	total := s.clusters * s.size
	s.set(res, "scale_nodes", strconv.Itoa(total))
	s.set(res, "scale_clusters", strconv.Itoa(s.clusters))
	// 1. Convergence from nothing, then event passes: a service scaled up
	// or down at a time (no resync, no drift pass in the window).
	ctl, err := s.controller(ctx, time.Hour, time.Hour)
	if err != nil {
		return err
	}
	started := time.Now()
	if err := s.waitConverged(ctx, nil); err != nil {
		ctl.Stop()
		return err
	}
	s.set(res, "scale_converge_s", formatIn(time.Since(started), time.Second))
	progress("scale: %d agents meshed %s after the controller started", total, time.Since(started).Round(time.Millisecond))
	if err := s.eventCPU(ctx, res, ctl); err != nil {
		return err
	}
	s.stop(ctl)
	// 2. Resync passes: Rancher re-listed every second.
	if ctl, err = s.controller(ctx, time.Second, time.Hour); err != nil {
		return err
	}
	passes, requests, err := s.steadyPassCPU(ctx, res, ctl, "cpu_per_pass_ms", "resync")
	if err != nil {
		return err
	}
	perResync := float64(requests) / float64(max(passes, 1))
	s.set(res, "requests_per_resync", fmt.Sprintf("%.1f", perResync))
	s.set(res, "requests_per_hour_default_resync", fmt.Sprintf("%.0f", perResync*float64(time.Hour/config.DefaultResyncInterval)))
	s.stop(ctl)
	// 3. Full passes: every node's status read, drift repaired.
	if ctl, err = s.controller(ctx, time.Hour, time.Second); err != nil {
		return err
	}
	if _, err := s.passCPU(ctx, res, ctl, "cpu_per_full_pass_ms", isKind("drift")); err != nil {
		return err
	}
	s.stop(ctl)
	// 4. A burst of container events with the default intervals.
	if ctl, err = s.controller(ctx, 0, 0); err != nil {
		return err
	}
	if err := s.burst(ctx, res, ctl); err != nil {
		return err
	}
	s.stop(ctl)
	s.set(res, "controller_peak_rss_mb", fmt.Sprintf("%.1f", float64(s.peakKB)/1024))
	return nil
}

// set records a figure of this run.
func (s *scaleEnv) set(res *results, name, value string) { res.set(s.prefix+name, value) }

// apiRequests is the number of API requests the simulator has served.
func (s *scaleEnv) apiRequests() int {
	n := 0
	for _, v := range s.sim.Requests() {
		n += v
	}
	return n
}

// raiseFileLimit raises the open-file limit (soft and, as root, hard) to at
// least n: every agent listens, and the controller keeps a connection to
// each. Failing to is not fatal: the run then fails with a clear error.
func raiseFileLimit(n int) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil || rl.Cur >= uint64(n) {
		return
	}
	want := syscall.Rlimit{Cur: uint64(n), Max: max(rl.Max, uint64(n))}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: rl.Max, Max: rl.Max}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
		progress("scale: open-file limit %d (wanted %d): %v", rl.Max, n, err)
	}
}

// start builds the controller and starts the simulator with its agents.
func (s *scaleEnv) start(ctx context.Context, cl *cleanups) error {
	var err error
	progress("scale: building the controller")
	s.build, err = harness.BuildAll(ctx, harness.BuildOptions{BinDir: filepath.Join(s.o.workDir, "bin"), SkipRelease: true})
	if err != nil {
		return err
	}
	// Both ports are chosen once, together, so that a controller's ops
	// server never takes the announce port between two controllers.
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	s.announce = fmt.Sprintf("127.0.0.1:%d", ports[0])
	s.ops = fmt.Sprintf("127.0.0.1:%d", ports[1])
	s.rt, err = simruntime.New(simruntime.Options{Token: harness.NodeToken,
		AnnounceURL: "http://" + s.announce, AnnounceToken: harness.AnnounceToken})
	if err != nil {
		return err
	}
	fx := &ranchersim.Fixture{Project: ranchersim.FixtureProject{ID: "1a5", Name: "scale"}}
	st := ranchersim.FixtureStack{Name: scaleStack}
	for i := range s.clusters {
		s.services = append(s.services, scaleServiceName(i))
		st.Services = append(st.Services, ranchersim.ServiceSpec{Name: scaleServiceName(i), Scale: s.size})
	}
	fx.Stacks = []ranchersim.FixtureStack{st}
	logf, err := os.Create(filepath.Join(s.o.workDir, s.prefix+"scale-sim.log"))
	if err != nil {
		return fmt.Errorf("creating the simulator log: %w", err)
	}
	s.sim, err = ranchersim.New(ranchersim.Options{Fixture: fx, Runtime: s.rt, IPRange: scaleIPRange,
		Logger: slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		_ = logf.Close()
		return fmt.Errorf("building the simulator: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.sim.Serve(sctx, "127.0.0.1:0", "", "")
	}()
	cl.add(func() {
		progress("scale: stopping the simulator and its agents")
		cancel()
		<-done
		s.rt.Close()
		_ = logf.Close()
	})
	<-s.sim.Ready()
	s.hsim = &harness.Sim{URL: s.sim.URL(), AccessKey: s.sim.AccessKey(), SecretKey: s.sim.SecretKey(),
		ProjectID: s.sim.ProjectID()}
	progress("scale: starting %d Go agents in %d services", s.clusters*s.size, s.clusters)
	wctx, wcancel := context.WithTimeout(ctx, scaleSettle)
	defer wcancel()
	if err := s.sim.WaitSettled(wctx); err != nil {
		return err
	}
	return nil
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// controller starts a controller over every cluster; 0 keeps a default.
func (s *scaleEnv) controller(ctx context.Context, resync, drift time.Duration) (*harness.Controller, error) {
	cs := make([]harness.ClusterConfig, len(s.services))
	for i, svc := range s.services {
		cs[i] = harness.ClusterConfig{Name: "c" + svc, Stack: scaleStack, Services: []string{svc}}
	}
	cfg := harness.ConfigOptions{Name: "scale", Clusters: cs, ResyncInterval: resync, DriftInterval: drift,
		AnnounceListen: s.announce, NodeName: simruntime.DefaultNodeName}.YAML()
	s.ctlN++
	return harness.StartController(ctx, s.build, s.hsim, harness.ControllerOptions{
		Name: fmt.Sprintf("%sscale-controller-%d", s.prefix, s.ctlN), Dir: s.o.workDir, Config: cfg, OpsAddr: s.ops,
		Args: []string{"--log-format", "json"}})
}

// stop records the controller's peak memory and stops it.
func (s *scaleEnv) stop(c *harness.Controller) {
	if kb, err := procStatusKB(c.Process().PID(), "VmHWM"); err == nil {
		s.peakKB = max(s.peakKB, kb)
		progress("scale: controller %d peak RSS %.1f MB", s.ctlN, float64(kb)/1024)
	}
	c.Stop()
}

// waitConverged waits until every agent is connected to every other
// member of its service; sizes gives a service's size when it is not
// s.size.
func (s *scaleEnv) waitConverged(ctx context.Context, sizes map[string]int) error {
	deadline := time.Now().Add(scaleConverge)
	for time.Now().Before(deadline) {
		if s.converged(sizes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the %d agents did not converge within %s", len(s.services)*s.size, scaleConverge)
}

func (s *scaleEnv) converged(sizes map[string]int) bool {
	mesh := s.rt.Mesh()
	for _, svc := range s.services {
		size := s.size
		if n, ok := sizes[svc]; ok {
			size = n
		}
		cs := s.sim.Containers(scaleStack, svc)
		n := 0
		for _, c := range cs {
			if c.State != "running" {
				continue
			}
			n++
			name := s.rt.NodeName(simruntime.Container{ID: c.ID, Name: c.Name, IP: c.IP, Stack: scaleStack, Service: svc})
			if len(mesh.Connected(name)) != size-1 {
				return false
			}
		}
		if n != size {
			return false
		}
	}
	return true
}

// eventCPU measures the controller's CPU per event-triggered pass: one
// service at a time is scaled up by one, and back once it converged, for
// the pass window; each change brings Cattle-like events (and the new
// agent's announcements), and a few passes.
func (s *scaleEnv) eventCPU(ctx context.Context, res *results, c *harness.Controller) error {
	if err := sleepCtx(ctx, quietPeriod); err != nil {
		return err
	}
	pid := c.Process().PID()
	logPath := strings.TrimSuffix(c.ConfigPath, ".yaml") + ".log"
	off := fileSize(logPath)
	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	start, changes := time.Now(), 0
	for i := 0; time.Since(start) < s.o.passWindow; i++ {
		svc := s.services[i%len(s.services)]
		for _, n := range []int{s.size + 1, s.size} {
			if err := s.sim.Scale(scaleStack, svc, n); err != nil {
				return fmt.Errorf("scaling %s: %w", svc, err)
			}
			if err := s.waitConverged(ctx, map[string]int{svc: n}); err != nil {
				return err
			}
			changes++
		}
	}
	if err := sleepCtx(ctx, quietPeriod); err != nil { // the last events' passes
		return err
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return err
	}
	passes, durs := countPasses(logPath, off, isKind("event", "announce", "backoff", "confirm", "retry"))
	if passes == 0 {
		return fmt.Errorf("no event pass in %s", s.o.passWindow)
	}
	per := (cpu1 - cpu0) / time.Duration(passes)
	s.set(res, "cpu_per_event_pass_ms", formatIn(per, time.Millisecond))
	s.set(res, "wall_per_event_pass_ms", formatIn(median(durs), time.Millisecond))
	res.note("%scpu_per_event_pass_ms: %d scale changes, %d passes, controller CPU %s (its idle cost included)",
		s.prefix, changes, passes, cpu1-cpu0)
	progress("scale: cpu_per_event_pass_ms = %s over %d passes for %d scale changes (median wall %s)",
		per.Round(100*time.Microsecond), passes, changes, median(durs).Round(100*time.Microsecond))
	return nil
}

// passCPU measures the controller's CPU time per pass of the kinds keep
// over the pass window (after the controller has been up a few seconds),
// and returns the number of passes.
func (s *scaleEnv) passCPU(ctx context.Context, res *results, c *harness.Controller, key string, keep func(kind string, full bool) bool) (int, error) {
	if err := sleepCtx(ctx, quietPeriod); err != nil {
		return 0, err
	}
	pid := c.Process().PID()
	logPath := strings.TrimSuffix(c.ConfigPath, ".yaml") + ".log"
	off := fileSize(logPath)
	cpu0, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := sleepCtx(ctx, s.o.passWindow); err != nil {
		return 0, err
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	wall := time.Since(start)
	passes, durs := countPasses(logPath, off, keep)
	if passes == 0 {
		return 0, fmt.Errorf("no pass in %s", s.o.passWindow)
	}
	per := (cpu1 - cpu0) / time.Duration(passes)
	s.set(res, key, formatIn(per, time.Millisecond))
	s.set(res, strings.Replace(key, "cpu_", "wall_", 1), formatIn(median(durs), time.Millisecond))
	res.note("%s%s: %d passes in %s, controller CPU %s (%.0f%% of one core)", s.prefix, key, passes,
		wall.Round(time.Millisecond), cpu1-cpu0, 100*float64(cpu1-cpu0)/float64(wall))
	progress("scale: %s%s = %s over %d passes (median wall %s)", s.prefix, key, per.Round(100*time.Microsecond), passes,
		median(durs).Round(100*time.Microsecond))
	return passes, nil
}

// Bounds of the steady window of steadyPassCPU.
const (
	steadyWait   = 5 * time.Minute       // for the first steady pass
	minSteady    = 3                     // passes in the window, at least
	logPollEvery = 20 * time.Millisecond // how often the log is read
)

// steadyPassCPU measures the controller's CPU per pass of kind in steady
// state. A new controller's first passes catch up: they read the statuses
// of nodes its start pass could not read in time, and change their
// conditions. The window therefore opens at the end of the first pass of
// kind that read no node status and changed no condition, and closes at
// the end of the first pass of kind after the pass window (at least
// minSteady passes): the CPU between the two pass ends, divided by the
// passes of kind that ended in between. What the window holds is noted.
// It returns those passes and the API requests served in the window.
func (s *scaleEnv) steadyPassCPU(ctx context.Context, res *results, c *harness.Controller, key, kind string) (int, int, error) {
	pid := c.Process().PID()
	f := &logFollower{path: strings.TrimSuffix(c.ConfigPath, ".yaml") + ".log"}
	deadline := time.Now().Add(steadyWait)
	var catchUp []passLine
	for {
		steady := false
		for _, p := range f.passes(kind) {
			if steady = p.steady(); !steady {
				catchUp = append(catchUp, p)
			}
		}
		if steady {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no %s pass read no node status and changed no condition within %s (%d passes did)", kind, steadyWait, len(catchUp))
		}
		if err := sleepCtx(ctx, logPollEvery); err != nil {
			return 0, 0, err
		}
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	start, requests := time.Now(), s.apiRequests()
	var window []passLine
	for len(window) < minSteady || time.Since(start) < s.o.passWindow {
		window = append(window, f.passes(kind)...)
		if time.Now().After(start.Add(s.o.passWindow + steadyWait)) {
			return 0, 0, fmt.Errorf("only %d %s passes in %s", len(window), kind, time.Since(start).Round(time.Second))
		}
		if err := sleepCtx(ctx, logPollEvery); err != nil {
			return 0, 0, err
		}
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	wall, requests := time.Since(start), s.apiRequests()-requests
	per := (cpu1 - cpu0) / time.Duration(len(window))
	var durs []time.Duration
	unsteady := 0
	for _, p := range window {
		durs = append(durs, p.duration)
		if !p.steady() {
			unsteady++
		}
	}
	s.set(res, key, formatIn(per, time.Millisecond))
	s.set(res, strings.Replace(key, "cpu_", "wall_", 1), formatIn(median(durs), time.Millisecond))
	res.note("%s%s: %d steady %s passes (#%d to #%d, %d of them read a node status or changed a condition) in %s, "+
		"controller CPU %s (%.0f%% of one core); left out before the window: %d catch-up passes (%d node status reads, %d condition changes)",
		s.prefix, key, len(window), kind, window[0].number, window[len(window)-1].number, unsteady, wall.Round(time.Millisecond),
		cpu1-cpu0, 100*float64(cpu1-cpu0)/float64(wall), len(catchUp), sumOf(catchUp, func(p passLine) int { return p.reads }),
		sumOf(catchUp, func(p passLine) int { return p.conditions }))
	progress("scale: %s%s = %s over %d steady %s passes after %d catch-up passes (median wall %s)", s.prefix, key,
		per.Round(100*time.Microsecond), len(window), kind, len(catchUp), median(durs).Round(100*time.Microsecond))
	return len(window), requests, nil
}

// passLine is a "pass finished" line of the controller's log.
type passLine struct {
	number            int
	kind, result      string
	reads, conditions int
	duration          time.Duration
}

// steady reports whether the pass did what a converged controller's does:
// it succeeded without reading a node status or changing a condition.
func (p passLine) steady() bool { return p.result == "ok" && p.reads == 0 && p.conditions == 0 }

func sumOf(ps []passLine, f func(passLine) int) int {
	n := 0
	for _, p := range ps {
		n += f(p)
	}
	return n
}

// logFollower reads the JSON lines a controller appends to its log.
type logFollower struct {
	path    string
	off     int64
	partial []byte
}

// passes returns the passes of kind that finished since the last call.
func (f *logFollower) passes(kind string) []passLine {
	var out []passLine
	for _, m := range f.lines() {
		if m["msg"] != "pass finished" || m["kind"] != kind {
			continue
		}
		num := func(k string) int { v, _ := m[k].(float64); return int(v) }
		p := passLine{number: num("pass"), kind: kind, reads: num("reads"), conditions: num("conditions")}
		p.result, _ = m["result"].(string)
		if d, ok := m["duration"].(float64); ok {
			p.duration = time.Duration(d)
		}
		out = append(out, p)
	}
	return out
}

// lines returns the complete lines appended since the last call, decoded.
func (f *logFollower) lines() []map[string]any {
	file, err := os.Open(f.path)
	if err != nil {
		return nil
	}
	defer file.Close()
	if _, err := file.Seek(f.off, 0); err != nil {
		return nil
	}
	data, err := io.ReadAll(file)
	if err != nil {
		return nil
	}
	f.off += int64(len(data))
	data = append(f.partial, data...)
	var out []map[string]any
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		var m map[string]any
		if json.Unmarshal(data[:i], &m) == nil {
			out = append(out, m)
		}
		data = data[i+1:]
	}
	f.partial = append([]byte(nil), data...)
	return out
}

// burst scales every service up by one at once (one container event per
// cluster, e.g. 100) and counts the pushes each node receives until the
// mesh is converged and quiet.
func (s *scaleEnv) burst(ctx context.Context, res *results, c *harness.Controller) error {
	if err := sleepCtx(ctx, quietPeriod); err != nil {
		return err
	}
	logPath := strings.TrimSuffix(c.ConfigPath, ".yaml") + ".log"
	off := fileSize(logPath)
	start := time.Now()
	sizes := map[string]int{}
	for _, svc := range s.services {
		if err := s.sim.Scale(scaleStack, svc, s.size+1); err != nil {
			return fmt.Errorf("scaling %s: %w", svc, err)
		}
		sizes[svc] = s.size + 1
	}
	if err := s.waitConverged(ctx, sizes); err != nil {
		return err
	}
	converged := time.Since(start)
	if err := sleepCtx(ctx, quietPeriod); err != nil {
		return err
	}
	pushes := countPushes(logPath, off)
	nodes := len(s.services) * (s.size + 1)
	total, most := 0, 0
	for _, p := range pushes {
		total += p
		most = max(most, p)
	}
	s.set(res, "burst_events", strconv.Itoa(len(s.services)))
	s.set(res, "burst_converge_ms", formatIn(converged, time.Millisecond))
	s.set(res, "burst_pushes_per_node", fmt.Sprintf("%.2f", float64(total)/float64(nodes)))
	s.set(res, "burst_pushes_per_node_max", strconv.Itoa(most))
	progress("scale: burst of %d events: %d pushes to %d nodes (max %d per node), converged in %s",
		len(s.services), total, nodes, most, converged.Round(time.Millisecond))
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logLines calls fn with every JSON log line of path after offset.
func logLines(path string, off int64, fn func(m map[string]any)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(off, 0); err != nil {
		return
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			fn(m)
		}
	}
}

// countPasses counts finished passes that keep accepts (by kind and
// whether they re-read every node) and their durations.
func countPasses(path string, off int64, keep func(kind string, full bool) bool) (int, []time.Duration) {
	var durs []time.Duration
	logLines(path, off, func(m map[string]any) {
		kind, _ := m["kind"].(string)
		full, _ := m["full"].(bool)
		if m["msg"] != "pass finished" || !keep(kind, full) {
			return
		}
		if d, ok := m["duration"].(float64); ok {
			durs = append(durs, time.Duration(d))
		} else {
			durs = append(durs, 0)
		}
	})
	return len(durs), durs
}

// isKind accepts passes of these kinds.
func isKind(kinds ...string) func(string, bool) bool {
	return func(kind string, _ bool) bool { return slices.Contains(kinds, kind) }
}

// countPushes counts the calls that changed a node, by node.
func countPushes(path string, off int64) map[string]int {
	out := map[string]int{}
	logLines(path, off, func(m map[string]any) {
		if m["msg"] == "pushed peers" || m["msg"] == "told node to leave" {
			if n, ok := m["node"].(string); ok {
				out[n]++
			}
		}
	})
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
