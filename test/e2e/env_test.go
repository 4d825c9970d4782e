//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// The shared environment of the scenario tests: one simulator (exec
// runtime: real hello releases in network namespaces) and one controller
// binary, with one cluster per scenario (a service of the stack "e2e",
// at scale 0 until its scenario runs), so that scenarios never see each
// other's nodes. Scenarios run one after the other.

const (
	e2eStack = "e2e"
	// e2eIPRange keeps the scenarios' hosts apart from the agent tests'
	// (10.42.20x.0/24) and from other users of the bridge.
	e2eIPRange = "10.42.64.0/20"
	// driftInterval is the controller's drift pass period in these tests.
	driftInterval = 5 * time.Second
	// convergeTimeout bounds a convergence on a loaded 2-core machine.
	convergeTimeout = 3 * time.Minute
	// rpcParallel is how many `bin/hello rpc` VMs boot at once.
	rpcParallel = 3
)

// scenarioServices are the services of the stack; each scenario owns one.
// The cut-off scenario's nodes run with net_ticktime 300 s, so that only
// the controller can remove a silent host within the test's bounds.
func scenarioServices() []ranchersim.ServiceSpec {
	services := []ranchersim.ServiceSpec{
		service("scale", nil), service("restart", nil), service("upgrade", nil), service("kill", nil),
		service("cut", map[string]string{"HELLO_NET_TICKTIME": "300"}),
		service("ctlrestart", nil), service("apidown", nil), service("twoctl", nil),
		serviceNoRecreate("unhealthy"), labelledService("labelled", labelledCluster), service("reload", nil),
	}
	return append(services, boundedServices()...)
}

// unconfigured are the services the config file does not list: labels
// define the first's cluster, the reload scenario adds the second.
var unconfigured = map[string]bool{"labelled": true, "reload": true}

// labelledCluster is the cluster name the labelled service declares; the
// controller names it "<stack>/<name>".
const labelledCluster = "lab"

// labelledService is a service that joins a cluster by its label.
func labelledService(name, cluster string) ranchersim.ServiceSpec {
	s := service(name, nil)
	s.Labels = map[string]string{"io.drover.cluster": cluster}
	return s
}

func service(name string, env map[string]string) ranchersim.ServiceSpec {
	return ranchersim.ServiceSpec{Name: name, Scale: 0, Environment: env,
		HealthCheck: &ranchersim.HealthCheck{Port: harness.AgentPort, RequestLine: "GET /v1/health HTTP/1.0",
			Interval: 1000, HealthyThreshold: 2, UnhealthyThreshold: 3}}
}

// serviceNoRecreate is a service whose unhealthy containers keep running
// (health check strategy none): they stop being members while alive.
func serviceNoRecreate(name string) ranchersim.ServiceSpec {
	s := service(name, nil)
	s.HealthCheck.Strategy = "none"
	return s
}

// env is the shared environment.
type env struct {
	build    *harness.Build
	net      *harness.Net
	sim      *harness.Sim
	dir      string
	config   harness.ConfigOptions
	announce string
	// stack is the services' stack; empty: e2eStack.
	stack string

	mu  sync.Mutex
	ctl *harness.Controller
}

// logDir returns E2E_LOG_DIR (kept after the run) or a temp dir.
func logDir(t *testing.T) string {
	if d := os.Getenv("E2E_LOG_DIR"); d != "" {
		d = filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// requireHarness skips unless the machine has what real nodes need.
func requireHarness(t *testing.T) {
	t.Helper()
	if err := harness.Require(); err != nil {
		t.Skipf("end-to-end scenarios need %v", err)
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireHarness(t)
	ctx := context.Background()
	dir := logDir(t)
	b, err := harness.BuildAll(ctx, harness.BuildOptions{BinDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{build: b, net: harness.NewNet(b.Root), dir: dir}
	if !harness.BridgeExists() {
		t.Cleanup(func() {
			// The agent tests' hosts are 10.42.20x.y; anything else is
			// someone else's, and then the bridge stays.
			down, err := e.net.DownUnlessShared(context.Background(), e2eIPRange, "10.42.200.0/21")
			if err != nil {
				t.Errorf("tearing the bridge down: %v", err)
			} else if !down {
				t.Log("the bridge is shared with other namespace hosts: left up")
			}
		})
	}
	if err := e.net.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if e.announce, err = harness.FreeAddr(harness.Gateway); err != nil {
		t.Fatal(err)
	}
	e.sim, err = harness.StartSim(ctx, b, harness.SimOptions{
		Fixture: &ranchersim.Fixture{
			Hosts:  []ranchersim.FixtureHost{{Name: "host-1"}, {Name: "host-2"}, {Name: "host-3"}, {Name: "host-4"}},
			Stacks: []ranchersim.FixtureStack{{Name: e2eStack, Services: scenarioServices()}},
		},
		// Metadata and DNS on free bridge ports, at 169.254.169.250 in the hosts.
		Dir: dir, IPRange: e2eIPRange, Isolate: true,
		Env: []string{"DROVER_ANNOUNCE_URL=http://" + e.announce},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.sim.Stop)
	e.config = harness.ConfigOptions{Name: "e2e", DriftInterval: driftInterval, AnnounceListen: e.announce, Defaults: true}
	for _, s := range scenarioServices() {
		if !unconfigured[s.Name] {
			e.config.Clusters = append(e.config.Clusters, harness.ClusterConfig{Name: s.Name, Stack: e2eStack, Services: []string{s.Name},
				Extra: boundedExtra(s.Name)})
		}
	}
	e.startController(t)
	t.Cleanup(func() {
		if c := e.controller(); c != nil {
			c.Stop()
		}
		if t.Failed() {
			t.Logf("logs are in %s; controller log tail:\n%s", dir, tail(e.controller().Log(), 6000))
		}
	})
	return e
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// startController starts the main controller (replacing a stopped one).
func (e *env) startController(t *testing.T) *harness.Controller {
	t.Helper()
	c, err := harness.StartController(context.Background(), e.build, e.sim, harness.ControllerOptions{
		Dir: e.dir, Config: e.config.YAML(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.ctl = c
	e.mu.Unlock()
	return c
}

func (e *env) controller() *harness.Controller {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ctl
}

// svc is one scenario's service.
type svc struct {
	e   *env
	ref harness.ServiceRef
	// view reads a node's view while converging; nil: harness.StatusView.
	view harness.ViewFunc
}

func (e *env) stackName() string {
	if e.stack == "" {
		return e2eStack
	}
	return e.stack
}

// service returns the scenario's service; when the scenario ends it is
// scaled back to 0 and its containers are gone.
func (e *env) service(t *testing.T, name string) *svc {
	s := &svc{e: e, ref: harness.ServiceRef{Stack: e.stackName(), Service: name}}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := e.sim.Scale(ctx, s.ref, 0); err != nil {
			t.Errorf("scaling %s to 0: %v", name, err)
			return
		}
		err := harness.Eventually(ctx, convergeTimeout, time.Second, func(ctx context.Context) error {
			views, err := e.sim.Containers(ctx, e.stackName(), name)
			if err != nil {
				return err
			}
			for _, v := range views {
				if v.State != "removed" && v.State != "stopped" {
					return fmt.Errorf("%s is %s", v.Name, v.State)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("emptying %s: %v", name, err)
		}
	})
	return s
}

// scale sets the service's scale.
func (s *svc) scale(t *testing.T, n int) {
	t.Helper()
	if err := s.e.sim.Scale(context.Background(), s.ref, n); err != nil {
		t.Fatal(err)
	}
}

// members returns the IPs of the service's members (running and healthy)
// and every container, by the simulator's truth.
func (s *svc) members(ctx context.Context) ([]string, []ranchersim.ContainerView, error) {
	views, err := s.e.sim.Containers(ctx, s.ref.Stack, s.ref.Service)
	if err != nil {
		return nil, nil, err
	}
	var ips []string
	for _, m := range harness.Members(views) {
		ips = append(ips, m.IP)
	}
	slices.Sort(ips)
	return ips, views, nil
}

// converge waits until the simulator has settled with want members, every
// member's agent reports the others (and only them), and then checks
// nodes() inside every member's VM. It returns the member IPs and how
// long it took.
func (s *svc) converge(t *testing.T, want int) ([]string, time.Duration) {
	t.Helper()
	return s.convergeWith(t, want, 0)
}

// convergeWith is converge when extra live containers are no members
// (e.g. unhealthy ones that keep running).
func (s *svc) convergeWith(t *testing.T, want, extra int) ([]string, time.Duration) {
	t.Helper()
	ips, took := s.awaitMesh(t, want, extra, harness.Expected)
	s.checkVMs(t, ips)
	return ips, took
}

// awaitMesh waits until the simulator has settled with want members (and
// extra live containers that are no members) and every member's agent
// reports what expected says it must see. It returns the member IPs and
// how long it took.
func (s *svc) awaitMesh(t *testing.T, want, extra int, expected func(ips []string) map[string][]string) ([]string, time.Duration) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	var ips []string
	view := s.view
	if view == nil {
		view = harness.StatusView
	}
	err := harness.Eventually(ctx, convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		var err error
		var views []ranchersim.ContainerView
		if ips, views, err = s.members(ctx); err != nil {
			return err
		}
		if len(ips) != want || len(ips)+extra != countLive(views) {
			return fmt.Errorf("%d members of %d live containers, want %d: %s", len(ips), countLive(views), want, describe(views))
		}
		return harness.CheckMesh(ctx, expected(ips), view, 8)
	})
	if err != nil {
		t.Fatalf("%s: %v", s.ref.Service, err)
	}
	return ips, time.Since(start)
}

// checkVMs checks nodes() inside every member's VM (through rpc) against
// the truth: the members ips, or, if the members changed meanwhile (a
// replacement turned healthy), the members at the time of the check.
func (s *svc) checkVMs(t *testing.T, ips []string) {
	t.Helper()
	ctx := context.Background()
	err := harness.Eventually(ctx, convergeTimeout, time.Second, func(ctx context.Context) error {
		err := harness.CheckMesh(ctx, harness.Expected(ips), harness.RPCView(s.e.build.Release), rpcParallel)
		now, _, merr := s.members(ctx)
		switch {
		case merr != nil:
			return merr
		case !slices.Equal(now, ips):
			t.Logf("%s: members changed from %v to %v during the check; checking again", s.ref.Service, ips, now)
			ips = now
			return fmt.Errorf("members changed")
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: nodes() inside the VMs: %v", s.ref.Service, err)
	}
}

func countLive(views []ranchersim.ContainerView) int {
	n := 0
	for _, v := range views {
		if v.State != "removed" && v.State != "stopped" && v.State != "error" {
			n++
		}
	}
	return n
}

func describe(views []ranchersim.ContainerView) string {
	var parts []string
	for _, v := range views {
		if v.State != "removed" {
			parts = append(parts, fmt.Sprintf("%s %s/%s/%s", v.Name, v.IP, v.State, v.HealthState))
		}
	}
	return strings.Join(parts, ", ")
}

// sampler polls the views of some nodes until stopped and records every
// moment a node missed a peer it must keep.
type sampler struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples int
	lost    []string
}

// keepPeers starts sampling: every node of keep must see at least the
// names keep gives it, all the time.
func keepPeers(keep map[string][]string) *sampler {
	return startSampler(func(s *sampler) {
		for ip, must := range keep {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			got, err := harness.StatusView(ctx, ip)
			cancel()
			s.record(ip, must, got, err)
		}
	})
}

// startSampler calls sample every 200 ms until the sampler is finished.
func startSampler(sample func(*sampler)) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			sample(s)
		}
	}()
	return s
}

func (s *sampler) record(ip string, must, got []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	if err != nil {
		s.lost = append(s.lost, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), ip, err))
		return
	}
	for _, m := range must {
		if !slices.Contains(got, m) {
			s.lost = append(s.lost, fmt.Sprintf("%s %s lost %s (sees %v)", time.Now().Format("15:04:05.000"), ip, m, got))
		}
	}
}

// finish stops sampling and returns the number of samples and the losses.
func (s *sampler) finish() (int, []string) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.lost
}
