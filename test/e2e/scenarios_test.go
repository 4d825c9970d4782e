//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// TestScenarios runs drover end to end: the simulator with real hello
// releases in network namespaces, the controller binary, and after every
// step each member's own nodes() checked against the simulator's truth.
// Run as root: go test -tags e2e ./test/e2e/ -run Scenarios -v
// The API-down scenario runs last: it is the longest and nothing else runs
// beside it.
func TestScenarios(t *testing.T) {
	e := newEnv(t)
	t.Run("scale 0-3-8-3-0", func(t *testing.T) { testScale(t, e) })
	t.Run("rolling restart", func(t *testing.T) { testRollingRestart(t, e) })
	t.Run("upgrade start first", func(t *testing.T) { testUpgrade(t, e) })
	t.Run("kill -9 of a VM", func(t *testing.T) { testKillVM(t, e) })
	t.Run("host cut off silently", func(t *testing.T) { testCutOff(t, e) })
	t.Run("unhealthy node leaves first", func(t *testing.T) { testUnhealthyLeavesFirst(t, e) })
	t.Run("controller killed mid-scale", func(t *testing.T) { testControllerKilled(t, e) })
	t.Run("two controllers", func(t *testing.T) { testTwoControllers(t, e) })
	t.Run("rancher api down 60s", func(t *testing.T) { testAPIDown(t, e) })
}

func testScale(t *testing.T, e *env) {
	s := e.service(t, "scale")
	for _, n := range []int{3, 8, 3} {
		s.scale(t, n)
		ips, took := s.converge(t, n)
		t.Logf("scale %d: %v converged in %s", n, ips, took)
	}
	s.scale(t, 0)
	_, took := s.converge(t, 0)
	t.Logf("scale 0: converged in %s", took)
}

// waitTruth waits until the service's containers satisfy ok.
func (s *svc) waitTruth(t *testing.T, what string, ok func([]ranchersim.ContainerView) error) {
	t.Helper()
	err := harness.Eventually(context.Background(), convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		_, views, err := s.members(ctx)
		if err != nil {
			return err
		}
		return ok(views)
	})
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", s.ref.Service, what, err)
	}
}

// waitState waits until the service is in state.
func (s *svc) waitState(t *testing.T, state string) {
	t.Helper()
	err := harness.Eventually(context.Background(), convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		got, err := s.e.sim.ServiceState(ctx, s.ref)
		if err == nil && got != state {
			err = fmt.Errorf("service is %s, want %s", got, state)
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", s.ref.Service, err)
	}
}

func startCounts(views []ranchersim.ContainerView) map[string]int64 {
	m := map[string]int64{}
	for _, v := range views {
		m[v.ID] = v.StartCount
	}
	return m
}

func testRollingRestart(t *testing.T, e *env) {
	s := e.service(t, "restart")
	s.scale(t, 3)
	s.converge(t, 3)
	_, before, err := s.members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	was := startCounts(harness.Members(before))
	start := time.Now()
	if err := e.sim.Restart(context.Background(), s.ref, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	s.waitTruth(t, "every container restarted", func(views []ranchersim.ContainerView) error {
		now := startCounts(views)
		for id, n := range was {
			if now[id] <= n {
				return fmt.Errorf("%s not restarted yet: %s", id, describe(views))
			}
		}
		return nil
	})
	s.waitState(t, "active")
	ips, took := s.converge(t, 3)
	t.Logf("rolling restart of %v: converged %s after the restart began (%s for the last step)", ips, time.Since(start), took)
}

func testUpgrade(t *testing.T, e *env) {
	s := e.service(t, "upgrade")
	s.scale(t, 3)
	oldIPs, _ := s.converge(t, 3)
	start := time.Now()
	if err := e.sim.Upgrade(context.Background(), s.ref, 1, true, time.Second); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, "upgraded")
	ips, _ := s.converge(t, 3)
	for _, ip := range ips {
		if slices.Contains(oldIPs, ip) {
			t.Errorf("after the upgrade %s (an old container) is still a member: %v", ip, ips)
		}
	}
	t.Logf("upgrade (start first): new members %v converged %s after it began", ips, time.Since(start))
	if err := e.sim.FinishUpgrade(context.Background(), s.ref); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, "active")
	if after, _ := s.converge(t, 3); !slices.Equal(after, ips) {
		t.Errorf("finishupgrade changed the members from %v to %v", ips, after)
	}
}

func testKillVM(t *testing.T, e *env) {
	s := e.service(t, "kill")
	s.scale(t, 3)
	s.converge(t, 3)
	_, views, err := s.members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	victim := harness.Members(views)[0]
	start := time.Now()
	pids, err := harness.KillVM(context.Background(), victim.IP)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the VM of %s (%s): pids %v", victim.Name, victim.IP, pids)
	s.waitTruth(t, "the simulator to restart the container", func(views []ranchersim.ContainerView) error {
		for _, v := range views {
			if v.ID == victim.ID && v.StartCount > victim.StartCount {
				return nil
			}
		}
		return fmt.Errorf("%s not restarted: %s", victim.ID, describe(views))
	})
	ips, _ := s.converge(t, 3)
	if !slices.Contains(ips, victim.IP) {
		t.Errorf("the restarted container %s is not a member: %v", victim.IP, ips)
	}
	t.Logf("kill -9: the mesh healed %s after the kill", time.Since(start))
}

func testCutOff(t *testing.T, e *env) {
	s := e.service(t, "cut")
	s.scale(t, 4)
	s.converge(t, 4)
	ctx := context.Background()
	_, views, err := s.members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host := harness.Members(views)[0].HostID
	var victims []string
	for _, v := range harness.Members(views) {
		if v.HostID == host {
			victims = append(victims, v.IP)
		}
	}
	start := time.Now()
	if err := e.sim.Inject(ctx, harness.Fault{Kind: "cut-off-host", HostID: host, On: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.ClearFaults(context.Background()) })
	// The nodes run with net_ticktime 300 s: only the controller (Rancher's
	// health checks fail, the container is no member any more) can take
	// the silent host out of its peers' views within this bound.
	var rest []string
	err = harness.Eventually(ctx, 2*time.Minute, 200*time.Millisecond, func(ctx context.Context) error {
		ips, views, err := s.members(ctx)
		if err != nil {
			return err
		}
		rest = nil
		for _, v := range harness.Members(views) {
			if v.HostID == host {
				return fmt.Errorf("%s on the cut host is still a member", v.IP)
			}
		}
		rest = ips
		return harness.CheckMesh(ctx, harness.Expected(ips), harness.StatusView, 8)
	})
	if err != nil {
		t.Fatalf("the cut-off host %s (%v) was not removed: %v", host, victims, err)
	}
	took := time.Since(start)
	s.checkVMs(t, rest)
	t.Logf("host %s cut off (%v): out of every peer's view after %s (net_ticktime 300 s)", host, victims, took)
	if err := e.sim.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	ips, _ := s.converge(t, 4)
	t.Logf("host restored: %v converged", ips)
}

func testControllerKilled(t *testing.T, e *env) {
	s := e.service(t, "ctlrestart")
	s.scale(t, 3)
	ips, _ := s.converge(t, 3)
	watch := keepPeers(harness.Expected(ips))
	s.scale(t, 6)
	// Kill the controller once it has begun pushing the scale (a first
	// node sees a new peer) while the simulator still brings up the rest.
	err := harness.Eventually(context.Background(), convergeTimeout, 50*time.Millisecond, func(ctx context.Context) error {
		for _, ip := range ips {
			got, err := harness.StatusView(ctx, ip)
			if err == nil && len(got) > len(ips)-1 {
				return nil
			}
		}
		return fmt.Errorf("no node sees a new peer yet")
	})
	if err != nil {
		t.Fatal(err)
	}
	e.controller().Kill()
	_, views, _ := s.members(context.Background())
	t.Logf("controller killed (SIGKILL) during the scale 3 -> 6: %s", describe(views))
	// The controller stays down a moment while the scale goes on (a
	// window to observe, not a wait for a condition).
	time.Sleep(3 * time.Second)
	e.startController(t)
	after, took := s.converge(t, 6)
	samples, lost := watch.finish()
	t.Logf("controller restarted: %v converged after %s; %d samples of the first 3 nodes' views", after, took, samples)
	if len(lost) > 0 {
		t.Errorf("nodes lost peers they should keep:\n%s", lines(lost))
	}
	if samples == 0 {
		t.Error("no sample of the nodes' views was taken")
	}
}

func lines(s []string) string {
	out := ""
	for _, l := range s {
		out += "  " + l + "\n"
	}
	return out
}

// revisions returns each node's applied revision.
func revisions(t *testing.T, ips []string) map[string]uint64 {
	t.Helper()
	revs := map[string]uint64{}
	for _, ip := range ips {
		st, err := harness.AgentStatus(context.Background(), ip)
		if err != nil {
			t.Fatal(err)
		}
		revs[ip] = st.Revision
	}
	return revs
}

// pushes sums set-peers and leave calls of the controllers.
func pushes(t *testing.T, cs ...*harness.Controller) float64 {
	t.Helper()
	var sum float64
	for _, c := range cs {
		v, err := c.Metric(context.Background(), "drover_pushes_total", nil)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

func testTwoControllers(t *testing.T, e *env) {
	s := e.service(t, "twoctl")
	s.scale(t, 3)
	s.converge(t, 3)
	cfg := e.config
	cfg.AnnounceListen = "" // the nodes announce to the first controller only
	b, err := harness.StartController(context.Background(), e.build, e.sim, harness.ControllerOptions{
		Name: "controller-b", Dir: e.dir, Config: cfg.YAML(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop() })
	a := e.controller()
	// A change while both run: both may push it once; neither undoes the
	// other's work.
	start := pushes(t, a, b)
	s.scale(t, 4)
	ips, took := s.converge(t, 4)
	t.Logf("two controllers: scale 3 -> 4 converged in %s", took)
	// Then a quiet window of three drift intervals: no push at all, no
	// revision moves, the mesh stays. First let in-flight passes finish
	// (a window, not a wait for a condition).
	time.Sleep(driftInterval)
	revs, before := revisions(t, ips), pushes(t, a, b)
	t.Logf("two controllers: %v pushes for the scale 3 -> 4 (4 nodes)", before-start)
	watch := keepPeers(harness.Expected(ips))
	time.Sleep(3 * driftInterval) // the observation window

	samples, lost := watch.finish()
	after := pushes(t, a, b)
	if got := revisions(t, ips); !mapsEqual(got, revs) {
		t.Errorf("revisions moved in a quiet window with two controllers (flapping): %v -> %v", revs, got)
	}
	if after != before {
		t.Errorf("the controllers pushed %v times in a quiet window, want 0", after-before)
	}
	if len(lost) > 0 {
		t.Errorf("nodes lost peers with two controllers:\n%s", lines(lost))
	}
	t.Logf("two controllers: no push in a quiet window of %s (%d samples)", 3*driftInterval, samples)
	for name, c := range map[string]*harness.Controller{"a": a, "b": b} {
		conv, err := c.Metric(context.Background(), "drover_cluster_converged", map[string]string{"cluster": "twoctl"})
		if err != nil || conv != 1 {
			t.Errorf("controller %s: drover_cluster_converged{cluster=twoctl} = %v (%v), want 1: both observe and agree", name, conv, err)
		}
	}
	s.checkVMs(t, ips)
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testAPIDown(t *testing.T, e *env) {
	s := e.service(t, "apidown")
	s.scale(t, 3)
	ips, _ := s.converge(t, 3)
	ctx := context.Background()
	const outage = 60 * time.Second
	watch := keepPeers(harness.Expected(ips))
	start := time.Now()
	if err := e.sim.Inject(ctx, harness.Fault{Kind: "api-status", Code: 503, Duration: outage}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.ClearFaults(context.Background()) })
	ctl := e.controller()
	err := harness.Eventually(ctx, outage/2, 200*time.Millisecond, func(ctx context.Context) error {
		v, err := ctl.Metric(ctx, "drover_stale", nil)
		if err == nil && v != 1 {
			err = fmt.Errorf("drover_stale = %v", v)
		}
		return err
	})
	if err != nil {
		t.Fatalf("the controller did not report the outage: %v", err)
	}
	// Rancher changes meanwhile: a fourth container starts; the controller
	// cannot see it until the API is back.
	s.scale(t, 4)
	// Sit out the rest of the outage while the sampler watches the nodes
	// (a window to observe, not a wait for a condition).
	time.Sleep(time.Until(start.Add(outage)))
	samples, lost := watch.finish()
	if len(lost) > 0 {
		t.Errorf("peers were removed while the Rancher API was down:\n%s", lines(lost))
	}
	after, took := s.converge(t, 4)
	t.Logf("api down %s: no peer lost (%d samples); afterwards %v converged in %s", outage, samples, after, took)
}

// testUnhealthyLeavesFirst: a node whose health check fails while its VM
// keeps running stops being a member. Under OTP 25 defaults the others'
// global would tear the mesh apart if they dropped it while it still held
// them; the controller tells it to leave first, then the others get their
// sets. The others must keep each other all along.
func testUnhealthyLeavesFirst(t *testing.T, e *env) {
	s := e.service(t, "unhealthy")
	s.scale(t, 4)
	ips, _ := s.converge(t, 4)
	ctx := context.Background()
	_, views, err := s.members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := harness.Members(views)[0]
	rest := slices.DeleteFunc(slices.Clone(ips), func(ip string) bool { return ip == victim.IP })
	watch := keepPeers(harness.Expected(rest))
	if err := e.sim.FailHealth(ctx, victim.ID, true); err != nil {
		t.Fatal(err)
	}
	got, took := s.convergeWith(t, 3, 1)
	if !slices.Equal(got, rest) {
		t.Fatalf("members %v, want %v", got, rest)
	}
	st, err := harness.AgentStatus(ctx, victim.IP)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Leaving || len(st.Connected) != 0 {
		t.Errorf("the unhealthy node %s: leaving=%v connected=%v, want it told to leave and alone", victim.IP, st.Leaving, st.Connected)
	}
	if vmNodes, err := (harness.VM{Release: e.build.Release, IP: victim.IP}).Nodes(ctx); err != nil || len(vmNodes) != 0 {
		t.Errorf("nodes() inside the unhealthy node = %v (%v), want []", vmNodes, err)
	}
	checkLeaveFirst(t, e.controller().Log(), harness.NodeName(victim.IP))
	// Watch the others a while longer: global must not split them.
	time.Sleep(2 * driftInterval)
	samples, lost := watch.finish()
	if len(lost) > 0 {
		t.Errorf("the remaining nodes lost each other after the removal:\n%s", lines(lost))
	}
	t.Logf("unhealthy %s told to leave (leaving=%v), out of every view %s after its checks began failing; the 3 others kept their mesh (%d samples)",
		victim.IP, st.Leaving, took, samples)
	if err := e.sim.FailHealth(ctx, victim.ID, false); err != nil {
		t.Fatal(err)
	}
	back, _ := s.converge(t, 4)
	t.Logf("healthy again: %v converged", back)
}

// checkLeaveFirst checks in the controller's log that node was told to
// leave before any other node got a set without it.
func checkLeaveFirst(t *testing.T, log, node string) {
	t.Helper()
	leave, push := -1, -1
	for i, l := range strings.Split(log, "\n") {
		switch {
		case leave < 0 && strings.Contains(l, `msg="told node to leave"`) && strings.Contains(l, "node="+node+" "):
			leave = i
		case push < 0 && strings.Contains(l, `msg="pushed peers"`) && strings.Contains(l, "removed=") &&
			strings.Contains(l[strings.Index(l, "removed=")+len("removed="):], node):
			push = i
		}
	}
	switch {
	case leave < 0:
		t.Errorf("the controller's log has no leave for %s", node)
	case push >= 0 && push < leave:
		t.Errorf("a node got a set without %s (log line %d) before it was told to leave (line %d)", node, push, leave)
	}
}
