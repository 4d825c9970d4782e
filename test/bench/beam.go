package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// Bounds of the real-node scenarios: generous, the machine has 2 cores.
const (
	steadyTimeout = 5 * time.Minute
	memberTimeout = 2 * time.Minute
	meshTimeout   = 60 * time.Second
	stopTimeout   = 60 * time.Second
	silentTimeout = 3 * time.Minute
	nowhereName   = "bench-nowhere" // a DNS name that resolves to nothing
)

// variant is one way of running joins.
type variant struct {
	name      string // progress label
	stack     string
	cookie    string
	joinKey   string // series of member (or published) -> meshed; "" to skip
	readyKey  string // series of VM ready -> meshed; "" to skip
	leaveKey  string // series of SIGTERM -> dropped by every member
	envHook   func(c *ranchersim.ContainerSpec)
	byRunning bool // the joiner counts from running, not from member
	joins     int  // cycles; 0 means -joins
}

// runBEAM runs every real-node scenario, drover first, then the recipe.
func runBEAM(ctx context.Context, o options, res *results) error {
	e, err := setUpEnv(ctx, o)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.runDrover(ctx, res); err != nil {
		return err
	}
	if !o.recipe {
		return nil
	}
	return e.runRecipe(ctx, res)
}

func (e *env) runDrover(ctx context.Context, res *results) error {
	n := e.o.nodes
	if err := e.startController(ctx, true); err != nil {
		return err
	}
	progress("drover: starting %d hello nodes (agent mode, announcements on)", n)
	if err := e.bringUp(ctx, droverStack, n); err != nil {
		return err
	}
	if err := e.measureLoad(ctx, res, "", droverStack); err != nil {
		return err
	}
	e.stats = &changeStats{}
	v := variant{name: "drover", stack: droverStack, cookie: droverCook, joinKey: "join", readyKey: "join_ready_health",
		leaveKey: "leave_clean"}
	if err := e.joins(ctx, res, v); err != nil {
		return err
	}
	if err := e.silentLoss(ctx, res, droverStack, "leave_silent"); err != nil {
		return err
	}
	e.stats.report(res, "")
	e.stats = nil
	if err := e.joinsAtLatency(ctx, res); err != nil {
		return err
	}
	if !e.o.skipNoAnnounce {
		v = variant{name: "drover, announcements off", stack: droverStack, cookie: droverCook, joinKey: "noannounce_join",
			leaveKey: "noannounce_leave_clean", envHook: func(c *ranchersim.ContainerSpec) {
				delete(c.Environment, "DROVER_ANNOUNCE_URL")
			}}
		if err := e.joins(ctx, res, v); err != nil {
			return err
		}
	}
	progress("drover: restarting the controller with the membership rule running (no health gate)")
	if err := e.startController(ctx, false); err != nil {
		return err
	}
	v = variant{name: "drover, rule running", stack: droverStack, cookie: droverCook, readyKey: "join_ready",
		leaveKey: "running_leave_clean", byRunning: true}
	if err := e.joins(ctx, res, v); err != nil {
		return err
	}
	progress("drover: scaling to 0")
	e.stopController()
	return e.bringUp(ctx, droverStack, 0)
}

// joinsAtLatency runs -latency-joins cycles with every API answer of the
// simulator delayed by -beam-latency (a loaded Cattle), then puts the
// latency back.
func (e *env) joinsAtLatency(ctx context.Context, res *results) error {
	if e.o.beamLatency <= 0 || e.o.latencyJoins <= 0 {
		return nil
	}
	key := latencyKey(e.o.beamLatency)
	e.sim.Faults().APILatency(ranchersim.Latency{Fixed: e.o.beamLatency})
	defer e.sim.Faults().APILatency(ranchersim.Latency{Fixed: e.o.apiLatency})
	v := variant{name: fmt.Sprintf("drover at %s per API request", e.o.beamLatency), stack: droverStack, cookie: droverCook,
		joinKey: "join_" + key, leaveKey: "leave_clean_" + key, joins: e.o.latencyJoins}
	return e.joins(ctx, res, v)
}

func (e *env) runRecipe(ctx context.Context, res *results) error {
	n := e.o.nodes
	progress("recipe: starting %d hello nodes (HELLO_MODE=dns, poll every 5 s)", n)
	if err := e.bringUp(ctx, baseStack, n); err != nil {
		return err
	}
	if err := e.measureLoad(ctx, res, "baseline_", baseStack); err != nil {
		return err
	}
	v := variant{name: "recipe, joiner does not resolve the members", stack: baseStack, cookie: baseCookie,
		joinKey: "baseline_join", leaveKey: "baseline_leave_clean", envHook: func(c *ranchersim.ContainerSpec) {
			c.Environment["HELLO_DNS_NAME"] = nowhereName
		}}
	if err := e.joins(ctx, res, v); err != nil {
		return err
	}
	v = variant{name: "recipe, joiner resolves the members at boot", stack: baseStack, cookie: baseCookie,
		readyKey: "baseline_join_ready", leaveKey: "baseline_leave_clean"}
	if err := e.joins(ctx, res, v); err != nil {
		return err
	}
	if err := e.silentLoss(ctx, res, baseStack, "baseline_leave_silent"); err != nil {
		return err
	}
	progress("recipe: scaling to 0")
	return e.bringUp(ctx, baseStack, 0)
}

// bringUp scales a service to n and waits for a steady mesh.
func (e *env) bringUp(ctx context.Context, stack string, n int) error {
	if err := e.sim.Scale(stack, serviceName, n); err != nil {
		return fmt.Errorf("scaling %s to %d: %w", stack, n, err)
	}
	return e.waitSteady(ctx, stack, n)
}

// waitSteady waits until a service has exactly n members, nothing else
// alive, and every member lists every other one in nodes().
func (e *env) waitSteady(ctx context.Context, stack string, n int) error {
	deadline := time.Now().Add(steadyTimeout)
	for {
		ok := e.track.wait(ctx, stack, time.Until(deadline), func(recs map[string]ctrRecord) bool {
			alive := 0
			for _, r := range recs {
				if live(r) {
					alive++
				}
			}
			return alive == n && len(members(recs)) == n
		})
		if !ok {
			return fmt.Errorf("%s did not reach %d members within %s", stack, n, steadyTimeout)
		}
		ips := sortedIPs(members(e.track.snapshot(stack)))
		if e.obs.wait(ctx, 2*time.Second, func() bool { return e.meshed(stack, ips) }) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the %d members did not form a full mesh within %s (observer: %v)",
				stack, n, steadyTimeout, e.obs.failures())
		}
	}
}

// meshed reports whether every node of ips lists every peer its
// topology gives it (every other node in a full mesh).
func (e *env) meshed(stack string, ips []string) bool {
	want := e.overlay(stack, ips)
	for _, a := range ips {
		v, ok := e.obs.view(harness.NodeName(a))
		if !ok {
			return false
		}
		for _, b := range want[harness.NodeName(a)] {
			if !v.peers[string(b)] {
				return false
			}
		}
	}
	return true
}

func sortedIPs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, ip := range m {
		out = append(out, ip)
	}
	sort.Strings(out)
	return out
}

// measureLoad counts the requests to Rancher (API, metadata, DNS) over the
// load window in steady state.
func (e *env) measureLoad(ctx context.Context, res *results, prefix, stack string) error {
	progress("%s: counting Rancher requests for %s in steady state", stack, e.o.loadWindow)
	api0, meta0, dns0 := sum(e.sim.Requests()), e.count.metadata.Load(), e.count.dns.Load()
	before := e.sim.Requests()
	start := time.Now()
	select {
	case <-time.After(e.o.loadWindow):
	case <-ctx.Done():
		return ctx.Err()
	}
	hours := time.Since(start).Hours()
	api := float64(sum(e.sim.Requests())-api0) / hours
	meta := float64(e.count.metadata.Load()-meta0) / hours
	dns := float64(e.count.dns.Load()-dns0) / hours
	total := api + meta + dns
	n := float64(e.o.nodes)
	res.set(prefix+"requests_per_hour", fmt.Sprintf("%.0f", total))
	res.set(prefix+"api_requests_per_hour", fmt.Sprintf("%.0f", api))
	res.set(prefix+"metadata_requests_per_hour", fmt.Sprintf("%.0f", meta))
	res.set(prefix+"dns_requests_per_hour", fmt.Sprintf("%.0f", dns))
	res.set(prefix+"requests_per_node_per_hour", fmt.Sprintf("%.0f", total/n))
	res.note("%srequests in a %s steady window at %d nodes: api by route %v", prefix, e.o.loadWindow,
		e.o.nodes, diff(before, e.sim.Requests()))
	progress("%s: %.0f requests per hour (api %.0f, metadata %.0f, dns %.0f)", stack, total, api, meta, dns)
	return nil
}

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

func diff(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range b {
		if d := v - a[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// errSkip marks a sample that could not be taken; the run goes on.
var errSkip = errors.New("sample skipped")
