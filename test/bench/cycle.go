package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
	"github.com/drover-mesh/drover/test/harness"
)

// The cycle part of the scale part: join-and-leave cycles on one cluster
// of -nodes Go agents, with health checks and announcements as in
// production, at zero API latency and at -cycle-latency (a Cattle that
// answers each request in tens of milliseconds). It counts the API
// requests each cycle costs.
const (
	cycleIPRange = "127.63.0.0/16"
	cycleStack   = "cycle"
	cycleService = "hello"
	cycleWait    = time.Minute
	cycleQuiet   = 2 * time.Second
)

// cycleEnv is one simulator, its Go agents and a controller.
type cycleEnv struct {
	o       options
	latency time.Duration
	key     string // of the figures: "lat0", "lat50ms"
	sim     *ranchersim.Sim
	rt      *simruntime.Runtime
	track   *tracker

	mu      sync.Mutex
	running map[string]bool      // containers seen running, by id
	stopAt  map[string]time.Time // a running container's first change away from running, by id
}

// observe is the simulator's WatchContainers callback: the tracker's, and
// the instant each container stops running.
func (e *cycleEnv) observe(cc ranchersim.ContainerChange) {
	e.mu.Lock() // before the tracker wakes its waiters
	id := cc.Container.ID
	if cc.Container.State == "running" {
		e.running[id] = true
	} else if _, seen := e.stopAt[id]; e.running[id] && !seen {
		e.stopAt[id] = cc.At
	}
	e.mu.Unlock()
	e.track.observe(cc)
}

// stoppedAt returns when a container stopped running.
func (e *cycleEnv) stoppedAt(id string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.stopAt[id]
	return t, ok
}

// latencyKey names a latency in figure names: "lat0", "lat50ms".
func latencyKey(d time.Duration) string {
	if d == 0 {
		return "lat0"
	}
	return "lat" + d.String()
}

// runCycles runs the cycles at zero latency, then at o.cycleLatency.
func runCycles(ctx context.Context, o options, build *harness.Build, res *results) error {
	lats := []time.Duration{0}
	if o.cycleLatency > 0 {
		lats = append(lats, o.cycleLatency)
	}
	for _, lat := range lats {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := &cycleEnv{o: o, latency: lat, key: latencyKey(lat), track: newTracker(),
			running: map[string]bool{}, stopAt: map[string]time.Time{}}
		if err := e.run(ctx, build, res); err != nil {
			return fmt.Errorf("cycles at %s API latency: %w", lat, err)
		}
	}
	return nil
}

func (e *cycleEnv) run(ctx context.Context, build *harness.Build, res *results) error {
	var cl cleanups
	defer cl.run()
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	announce := fmt.Sprintf("127.0.0.1:%d", ports[0])
	if err := e.start(ctx, &cl, announce); err != nil {
		return err
	}
	hsim := &harness.Sim{URL: e.sim.URL(), AccessKey: e.sim.AccessKey(), SecretKey: e.sim.SecretKey(), ProjectID: e.sim.ProjectID()}
	cfg := harness.ConfigOptions{Name: "cycle", AnnounceListen: announce, NodeName: simruntime.DefaultNodeName,
		Clusters: []harness.ClusterConfig{{Name: "hello", Stack: cycleStack, Services: []string{cycleService}}}}.YAML()
	ctl, err := harness.StartController(ctx, build, hsim, harness.ControllerOptions{
		Name: "cycle-controller-" + e.key, Dir: e.o.workDir, Config: cfg, OpsAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		Args: []string{"--log-format", "json"}})
	if err != nil {
		return err
	}
	defer ctl.Stop()
	if !e.waitMesh(ctx, e.o.nodes) {
		return fmt.Errorf("the %d agents did not mesh within %s", e.o.nodes, cycleWait)
	}
	if err := sleepCtx(ctx, cycleQuiet); err != nil {
		return err
	}
	var requests []int
	for i := range e.o.cycles {
		n, err := e.cycle(ctx, res, i)
		if err != nil {
			return err
		}
		requests = append(requests, n)
	}
	slices.Sort(requests)
	total := 0
	for _, n := range requests {
		total += n
	}
	res.set("go_cycle_requests_mean_"+e.key, fmt.Sprintf("%.1f", float64(total)/float64(len(requests))))
	res.set("go_cycle_requests_max_"+e.key, fmt.Sprint(requests[len(requests)-1]))
	res.summarize("go_join_"+e.key, "go_join_"+e.key, time.Millisecond)
	res.summarize("go_leave_clean_"+e.key, "go_leave_clean_"+e.key, time.Millisecond)
	return nil
}

// start runs the simulator (Cattle event mode, Rancher's health check
// timing, API latency e.latency) with -nodes Go agents.
func (e *cycleEnv) start(ctx context.Context, cl *cleanups, announce string) error {
	var err error
	e.rt, err = simruntime.New(simruntime.Options{Token: harness.NodeToken,
		AnnounceURL: "http://" + announce, AnnounceToken: harness.AnnounceToken})
	if err != nil {
		return err
	}
	hc := &ranchersim.HealthCheck{Port: mesh.DefaultAdminPort, RequestLine: "GET /v1/health HTTP/1.0",
		Interval: e.o.healthInterval.Milliseconds(), ResponseTimeout: 2000, HealthyThreshold: 2, UnhealthyThreshold: 3,
		InitializingTimeout: 60000, ReinitializingTimeout: 60000, Strategy: "recreate"}
	fx := &ranchersim.Fixture{Project: ranchersim.FixtureProject{ID: "1a5", Name: "cycle"},
		Stacks: []ranchersim.FixtureStack{{Name: cycleStack,
			Services: []ranchersim.ServiceSpec{{Name: cycleService, Scale: e.o.nodes, HealthCheck: hc}}}}}
	logf, err := os.Create(filepath.Join(e.o.workDir, "cycle-sim-"+e.key+".log"))
	if err != nil {
		return fmt.Errorf("creating the simulator log: %w", err)
	}
	e.sim, err = ranchersim.New(ranchersim.Options{Fixture: fx, Runtime: e.rt, IPRange: cycleIPRange,
		Latency: ranchersim.Latency{Fixed: e.latency},
		Logger:  slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		_ = logf.Close()
		e.rt.Close()
		return fmt.Errorf("building the simulator: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { defer func() { done <- struct{}{} }(); _ = e.sim.Serve(sctx, "127.0.0.1:0", "", "") }()
	go func() { defer func() { done <- struct{}{} }(); e.sim.WatchContainers(sctx, e.observe) }()
	cl.add(func() {
		cancel()
		<-done
		<-done
		e.rt.Close()
		_ = logf.Close()
	})
	<-e.sim.Ready()
	progress("cycle: %d Go agents with health checks, API latency %s", e.o.nodes, e.latency)
	wctx, wcancel := context.WithTimeout(ctx, scaleSettle)
	defer wcancel()
	return e.sim.WaitSettled(wctx)
}

// memberNodes returns the node names of the current members by id.
func (e *cycleEnv) memberNodes() map[string]string {
	out := map[string]string{}
	for id := range members(e.track.snapshot(cycleStack)) {
		if n, ok := e.rt.Node(id); ok {
			out[id] = n
		}
	}
	return out
}

// waitMesh waits until n members are each connected to the n-1 others.
func (e *cycleEnv) waitMesh(ctx context.Context, n int) bool {
	deadline := time.Now().Add(cycleWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ms := e.memberNodes()
		ok := len(ms) == n
		for _, name := range ms {
			ok = ok && len(e.rt.Mesh().Connected(name)) == n-1
		}
		if ok {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// pollUntil polls cond every millisecond (the agents' mesh is in memory)
// and returns when it first held.
func pollUntil(ctx context.Context, timeout time.Duration, cond func() bool) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return time.Now(), true
		}
		time.Sleep(time.Millisecond)
	}
	return time.Time{}, false
}

// cycle scales the service up by one and measures member -> listed by
// every member, then back down and measures the stop (the container's
// first state after running) -> dropped by every other member; it returns
// the API requests the cycle cost, counted once the mesh is quiet.
func (e *cycleEnv) cycle(ctx context.Context, res *results, i int) (int, error) {
	before := e.track.snapshot(cycleStack)
	old := e.memberNodes()
	reqs := e.apiRequests()
	if err := e.sim.Scale(cycleStack, cycleService, e.o.nodes+1); err != nil {
		return 0, fmt.Errorf("scaling up: %w", err)
	}
	var joinID string
	var joinRec ctrRecord
	if !e.track.wait(ctx, cycleStack, cycleWait, func(recs map[string]ctrRecord) bool {
		for id, r := range recs {
			if _, seen := before[id]; !seen && !r.memberAt.IsZero() {
				joinID, joinRec = id, r
				return true
			}
		}
		return false
	}) {
		return 0, fmt.Errorf("cycle %d: no new member within %s", i+1, cycleWait)
	}
	joiner, _ := e.rt.Node(joinID)
	listed, ok := pollUntil(ctx, cycleWait, func() bool {
		for _, n := range old {
			if !slices.Contains(e.rt.Mesh().Connected(n), joiner) {
				return false
			}
		}
		return true
	})
	if !ok {
		return 0, fmt.Errorf("cycle %d: %s not listed by every member within %s", i+1, joiner, cycleWait)
	}
	join := listed.Sub(joinRec.memberAt)
	res.add("go_join_"+e.key, join)
	if !e.waitMesh(ctx, e.o.nodes+1) {
		return 0, fmt.Errorf("cycle %d: the %d members did not mesh", i+1, e.o.nodes+1)
	}
	leave, err := e.leave(ctx, i)
	if err != nil {
		return 0, err
	}
	res.add("go_leave_clean_"+e.key, leave)
	if !e.waitMesh(ctx, e.o.nodes) {
		return 0, fmt.Errorf("cycle %d: the %d members did not mesh after the leave", i+1, e.o.nodes)
	}
	if err := sleepCtx(ctx, cycleQuiet); err != nil {
		return 0, err
	}
	n := e.apiRequests() - reqs
	progress("cycle %s %d/%d: join %s, leave %s, %d API requests", e.key, i+1, e.o.cycles,
		join.Round(100*time.Microsecond), leave.Round(100*time.Microsecond), n)
	return n, nil
}

// leave scales the service back down and measures from the leaver's stop
// to every other member dropping it.
func (e *cycleEnv) leave(ctx context.Context, i int) (time.Duration, error) {
	members := e.memberNodes()
	if err := e.sim.Scale(cycleStack, cycleService, e.o.nodes); err != nil {
		return 0, fmt.Errorf("scaling down: %w", err)
	}
	var leaveID string
	var stoppedAt time.Time
	if !e.track.wait(ctx, cycleStack, cycleWait, func(map[string]ctrRecord) bool {
		for id := range members {
			if at, ok := e.stoppedAt(id); ok {
				leaveID, stoppedAt = id, at
				return true
			}
		}
		return false
	}) {
		return 0, fmt.Errorf("cycle %d: no member stopped within %s", i+1, cycleWait)
	}
	leaver := members[leaveID]
	dropped, ok := pollUntil(ctx, cycleWait, func() bool {
		for id, n := range members {
			if id != leaveID && slices.Contains(e.rt.Mesh().Connected(n), leaver) {
				return false
			}
		}
		return true
	})
	if !ok {
		return 0, fmt.Errorf("cycle %d: %s still listed %s after its stop", i+1, leaver, cycleWait)
	}
	return dropped.Sub(stoppedAt), nil
}

// apiRequests is the number of API requests the simulator has served.
func (e *cycleEnv) apiRequests() int {
	n := 0
	for _, v := range e.sim.Requests() {
		n += v
	}
	return n
}
