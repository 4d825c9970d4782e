//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/reconcile"
	"github.com/drover-mesh/drover/test/harness"
)

// The standby scenario runs the controller as Rancher runs it: two
// containers of a service of the simulator (hack/sim-node.sh runs the
// controller binary in each container's network namespace, so that
// rancher-metadata answers self by its IP), elected by createIndex,
// pushing to real hello nodes of another service.

const (
	standbyStack   = "sb"
	standbyRange   = "10.42.96.0/20"
	standbyOpsPort = "9090"
	// standbyHold bounds how long the killed leader is held out of the
	// election (the scale change must converge under the standby first).
	standbyHold = 10 * time.Minute
)

// standbyEnv is the scenario's own simulator, nodes and controllers.
type standbyEnv struct {
	build *harness.Build
	sim   *harness.Sim
	dir   string
}

func newStandbyEnv(t *testing.T) *standbyEnv {
	t.Helper()
	requireHarness(t)
	ctx := context.Background()
	dir := logDir(t)
	b, err := harness.BuildAll(ctx, harness.BuildOptions{BinDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	nw := harness.NewNet(b.Root)
	if !harness.BridgeExists() {
		t.Cleanup(func() {
			if _, err := nw.DownUnlessShared(context.Background(), standbyRange); err != nil {
				t.Errorf("tearing the bridge down: %v", err)
			}
		})
	}
	if err := nw.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// The controllers run in namespaces: the API and metadata listen on
	// the bridge, where they reach them.
	api, err := harness.FreeAddr(harness.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := harness.FreeAddr(harness.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	cfg := harness.ConfigOptions{Name: "standby", DriftInterval: driftInterval,
		Clusters: []harness.ClusterConfig{{Name: "nodes", Stack: standbyStack, Services: []string{"nodes"}}}}
	cfgPath := filepath.Join(dir, "standby.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.YAML()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := ranchersim.ServiceSpec{Name: "drover", Scale: 2,
		Environment: map[string]string{
			"SIM_NODE_EXEC": strings.Join([]string{b.Controller, "--config", cfgPath, "--listen", ":" + standbyOpsPort,
				"--leader-election", "rancher", "-v", "1"}, " "),
			"CATTLE_URL":          "http://" + api + "/v2-beta/projects/" + ranchersim.DefaultProjectID,
			"CATTLE_ACCESS_KEY":   ranchersim.DefaultAccessKey,
			"CATTLE_SECRET_KEY":   ranchersim.DefaultSecretKey,
			"DROVER_METADATA_URL": "http://" + meta + "/latest",
		},
		// Rancher's health check of the deployment: the ops server's /healthz.
		// The killed leader, which Rancher restarts, is held reinitializing
		// (its probes forced to fail) until the standby has pushed the scale
		// change; the long reinitializing timeout keeps Rancher from
		// replacing it meanwhile on a loaded machine.
		HealthCheck: &ranchersim.HealthCheck{Port: 9090, RequestLine: "GET /healthz HTTP/1.0", Interval: 1000,
			HealthyThreshold: 5, UnhealthyThreshold: 3, ReinitializingTimeout: standbyHold.Milliseconds()}}
	sim, err := harness.StartSim(ctx, b, harness.SimOptions{
		Fixture: &ranchersim.Fixture{
			Hosts:  []ranchersim.FixtureHost{{Name: "host-1"}, {Name: "host-2"}},
			Stacks: []ranchersim.FixtureStack{{Name: standbyStack, Services: []ranchersim.ServiceSpec{service("nodes", nil), ctl}}},
		},
		Dir: dir, IPRange: standbyRange, APIAddr: api, MetadataAddr: meta, DNSAddr: "-",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	return &standbyEnv{build: b, sim: sim, dir: dir}
}

// controllerStatus reads the status of the controller in the container at
// ip.
func controllerStatus(ctx context.Context, ip string) (reconcile.Status, error) {
	r, err := ops.FetchReport(ctx, &http.Client{Timeout: 5 * time.Second}, "http://"+ip+":"+standbyOpsPort)
	return r.Status, err
}

// roles reads every controller container's role, by container name.
func (s *standbyEnv) roles(ctx context.Context) (map[string]string, map[string]string, error) {
	views, err := s.sim.Containers(ctx, standbyStack, "drover")
	if err != nil {
		return nil, nil, err
	}
	roles, ips := map[string]string{}, map[string]string{}
	for _, v := range views {
		if v.State != "running" {
			continue
		}
		st, err := controllerStatus(ctx, v.IP)
		if err != nil || st.Passes == 0 {
			roles[v.Name] = "unreachable"
			continue
		}
		roles[v.Name], ips[v.Name] = st.Leadership.Role, v.IP
	}
	return roles, ips, nil
}

// killController sends SIGKILL to the controller process in the
// namespace of ip, as a crash or `docker kill` would.
func killController(ctx context.Context, ip string) (int, error) {
	out, err := harness.Run(ctx, "", nil, "ip", "netns", "pids", harness.NamespaceName(ip))
	if err != nil {
		return 0, fmt.Errorf("listing the processes of %s: %w", ip, err)
	}
	for _, f := range strings.Fields(out) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "controller" {
			return pid, syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return 0, fmt.Errorf("no controller process in the namespace of %s", ip)
}

// TestStandbyTakesOverWhenTheLeaderIsKilled: of two controllers, the
// running, healthy one with the lowest createIndex leads and the other
// stands by, pushing nothing; the leader is killed with SIGKILL during a
// scale change; the standby takes over and the mesh converges.
func TestStandbyTakesOverWhenTheLeaderIsKilled(t *testing.T) {
	s := newStandbyEnv(t)
	ctx := context.Background()
	nodes := &svc{e: &env{build: s.build, sim: s.sim}, ref: harness.ServiceRef{Stack: standbyStack, Service: "nodes"}}
	var leader, standby string
	var ips map[string]string
	err := harness.Eventually(ctx, convergeTimeout, 500*time.Millisecond, func(ctx context.Context) error {
		roles, addrs, err := s.roles(ctx)
		if err != nil {
			return err
		}
		leader, standby, ips = "", "", addrs
		for name, role := range roles {
			switch role {
			case reconcile.RoleLeader:
				leader = name
			case reconcile.RoleStandby:
				standby = name
			}
		}
		if leader == "" || standby == "" || len(roles) != 2 {
			return fmt.Errorf("roles %v, want a leader and a standby", roles)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	views, err := s.sim.Containers(ctx, standbyStack, "drover")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(views, func(a, b ranchersim.ContainerView) int { return int(a.CreateIndex - b.CreateIndex) })
	if views[0].Name != leader {
		t.Errorf("the leader is %s, want %s (the lowest createIndex)", leader, views[0].Name)
	}
	leaderID := views[0].ID
	t.Logf("controllers: %s leads (createIndex %d), %s stands by", leader, views[0].CreateIndex, standby)
	nodes.scale(t, 2)
	nodes.converge(t, 2)
	st, err := controllerStatus(ctx, ips[standby])
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.Cluster("nodes"); !ok || len(v.Nodes) != 2 {
		t.Errorf("the standby's status lacks the cluster: %+v", st.Clusters)
	}
	standbyPushes := pushesAt(t, ips[standby])

	// The scale change, and at once the leader's SIGKILL: the new
	// containers turn members while only the standby is left to push.
	nodes.scale(t, 4)
	killedAt := time.Now()
	pid, err := killController(ctx, ips[leader])
	if err != nil {
		t.Fatal(err)
	}
	// Rancher restarts the killed container at once; on a loaded machine it
	// could turn healthy, and lead again, before the new nodes are members
	// (a BEAM node may take 10 s to start). Its health checks fail until
	// the standby has converged the scale change, so that the change is
	// the standby's to push whatever the machine's load.
	if err := s.sim.FailHealth(ctx, leaderID, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the leader %s (pid %d, SIGKILL) during the scale 2 -> 4; its restart is held unhealthy", leader, pid)
	var tookOver time.Duration
	err = harness.Eventually(ctx, convergeTimeout, 20*time.Millisecond, func(ctx context.Context) error {
		st, err := controllerStatus(ctx, ips[standby])
		if err != nil {
			return err
		}
		if st.Leadership.Role != reconcile.RoleLeader {
			return fmt.Errorf("%s is %s: %s", standby, st.Leadership.Role, st.Leadership.Reason)
		}
		tookOver = time.Since(killedAt)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, took := nodes.converge(t, 4)
	t.Logf("takeover: %s leads %s after the SIGKILL of %s; the scale 2 -> 4 (%v) converged %s after the kill (%s for the last step)",
		standby, tookOver.Round(time.Millisecond), leader, after, time.Since(killedAt).Round(time.Millisecond), took.Round(time.Millisecond))
	if n := pushesAt(t, ips[standby]); n <= standbyPushes {
		t.Errorf("the controller that took over pushed nothing (%v calls)", n)
	}
	if standbyPushes != 0 {
		t.Errorf("the standby pushed %v times while it stood by", standbyPushes)
	}
	if err := s.sim.FailHealth(ctx, leaderID, false); err != nil {
		t.Fatal(err)
	}
	// Rancher restarts the killed container; with the lowest createIndex it
	// leads again once healthy, and the other stands by.
	err = harness.Eventually(ctx, convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		roles, _, err := s.roles(ctx)
		if err == nil && (roles[leader] != reconcile.RoleLeader || roles[standby] != reconcile.RoleStandby) {
			err = fmt.Errorf("roles %v", roles)
		}
		return err
	})
	if err != nil {
		t.Fatalf("the restarted leader: %v", err)
	}
	t.Logf("%s (restarted by Rancher) leads again %s after the kill; %s stands by", leader, time.Since(killedAt).Round(time.Millisecond), standby)
	nodes.converge(t, 4)
}

// pushesAt reads drover_pushes_total of the controller at ip.
func pushesAt(t *testing.T, ip string) float64 {
	t.Helper()
	c := &harness.Controller{OpsURL: "http://" + ip + ":" + standbyOpsPort}
	v, err := c.Metric(context.Background(), "drover_pushes_total", nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
