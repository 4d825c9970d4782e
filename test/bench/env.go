package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// Names of the benchmark environment.
const (
	droverStack = "drover" // the service drover meshes (agent mode)
	baseStack   = "recipe" // the service that runs the DNS recipe
	serviceName = "hello"
	droverCook  = "bench-drover-cookie"
	baseCookie  = "bench-recipe-cookie"
	observerIP  = "10.42.254.254"
	announcePrt = 4100
	// benchIPRange is where the simulator puts this run's containers, away
	// from the e2e tests' 10.42.64.0/20.
	benchIPRange = "10.42.160.0/20"
)

// cleanups runs registered functions in reverse order, once.
type cleanups struct {
	mu  sync.Mutex
	fns []func()
}

func (c *cleanups) add(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

func (c *cleanups) run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// counters count the requests the nodes send to Rancher's side-services.
type counters struct {
	metadata atomic.Int64
	dns      atomic.Int64
	overlap  atomic.Int64 // global's "prevent overlapping partitions" lines in the nodes' output
}

// countingConn counts UDP datagrams read.
type countingConn struct {
	net.PacketConn
	n *atomic.Int64
}

func (c countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	if err == nil && ownAddr(a.String()) {
		c.n.Add(1)
	}
	return n, a, err
}

// ownAddr reports whether a request comes from this run's hosts, not from
// a concurrent run sharing the bridge.
func ownAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && netip.MustParsePrefix(benchIPRange).Contains(ip)
}

// countingListener counts accepted TCP connections (one DNS query each,
// in practice).
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil && ownAddr(c.RemoteAddr().String()) {
		l.n.Add(1)
	}
	return c, err
}

// env is the real-node environment: bridge, simulator (in-process, so that
// membership instants come from its own clock), metadata and DNS on the
// bridge with request counters, the observer and the controller binary.
type env struct {
	o       options
	build   *harness.Build
	net     *harness.Net
	sim     *ranchersim.Sim
	hsim    *harness.Sim // the simulator as the harness's controller starter sees it
	rt      *benchRuntime
	count   counters
	track   *tracker
	obs     *observer
	cl      cleanups
	ctl     *harness.Controller
	ctlN    int
	simDone chan struct{}
	stats   *changeStats // the run's collateral disconnects and overlap warnings; nil: not counted
}

// fixture is the benchmark environment: one service meshed by drover and
// one running the recipe, both at scale 0, with Rancher's default health
// check timing (interval configurable). drover's health check hits the agent's health endpoint;
// the recipe has no agent, so its check is a TCP connect to epmd.
// connectAll false starts drover's nodes with -kernel connect_all false
// (HELLO_CONNECT_ALL), which a bounded topology requires.
func fixture(interval time.Duration, connectAll bool) *ranchersim.Fixture {
	hc := func(port int64, line string) *ranchersim.HealthCheck {
		return &ranchersim.HealthCheck{Port: port, RequestLine: line, Interval: interval.Milliseconds(), ResponseTimeout: 2000,
			HealthyThreshold: 2, UnhealthyThreshold: 3, InitializingTimeout: 60000, ReinitializingTimeout: 60000,
			Strategy: "recreate"}
	}
	announce := fmt.Sprintf("http://%s:%d", harness.Gateway, announcePrt)
	droverEnv := map[string]string{"HELLO_MODE": "agent", "RELEASE_COOKIE": droverCook,
		"DROVER_NODE_TOKEN": harness.NodeToken, "DROVER_ANNOUNCE_URL": announce,
		"DROVER_ANNOUNCE_TOKEN": harness.AnnounceToken}
	if !connectAll {
		droverEnv["HELLO_CONNECT_ALL"] = "false"
	}
	return &ranchersim.Fixture{
		Project: ranchersim.FixtureProject{ID: "1a5", Name: "bench"},
		Hosts:   []ranchersim.FixtureHost{{Name: "bench-host-1"}},
		Stacks: []ranchersim.FixtureStack{
			{Name: droverStack, Services: []ranchersim.ServiceSpec{{Name: serviceName, Scale: 0,
				Environment: droverEnv, HealthCheck: hc(mesh.DefaultAdminPort, "GET /v1/health HTTP/1.0")}}},
			{Name: baseStack, Services: []ranchersim.ServiceSpec{{Name: serviceName, Scale: 0,
				Environment: map[string]string{"HELLO_MODE": "dns", "RELEASE_COOKIE": baseCookie},
				HealthCheck: hc(4369, "")}}},
		},
	}
}

// setUpEnv builds everything and starts the bridge, the simulator, its
// metadata and DNS, and the observer. On error it has cleaned up.
func setUpEnv(ctx context.Context, o options) (*env, error) {
	e := &env{o: o, simDone: make(chan struct{})}
	if err := e.setUp(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) setUp(ctx context.Context) error {
	o := e.o
	var err error
	if err := harness.Require(); err != nil {
		return err
	}
	progress("building the controller, the simulator and the hello release")
	e.build, err = harness.BuildAll(ctx, harness.BuildOptions{BinDir: filepath.Join(o.workDir, "bin")})
	if err != nil {
		return err
	}
	e.net = harness.NewNet(e.build.Root)
	if err := e.upBridge(ctx); err != nil {
		return err
	}
	if err := e.startSim(ctx); err != nil {
		return err
	}
	if err := e.serveSideServices(); err != nil {
		return err
	}
	e.obs, err = startObserver(ctx, e.net, o.workDir)
	if err != nil {
		return err
	}
	e.cl.add(e.obs.close)
	e.rt.onStart = e.watchNode
	return nil
}

// upBridge sets up the bridge, or shares it with a run that holds it (the
// e2e tests do the same): then only this run's hosts are deleted at the
// end, and the bridge and sysctls are left to their owner.
func (e *env) upBridge(ctx context.Context) error {
	if harness.BridgeExists() {
		progress("bridge %s exists (another run holds it): sharing it, using only %s", harness.Bridge, benchIPRange)
		e.cl.add(func() { e.deleteOwnHosts(context.Background()) })
		return nil
	}
	e.cl.add(func() {
		bg := context.Background()
		e.deleteOwnHosts(bg)
		if hosts, err := e.net.List(bg); err == nil && len(hosts) > 0 {
			progress("leaving bridge %s up: %d hosts of another run use it", harness.Bridge, len(hosts))
			return
		}
		progress("tearing down namespaces, bridge and sysctls")
		if err := e.net.Down(bg); err != nil {
			progress("netns down: %v", err)
		}
	})
	return e.net.Up(ctx)
}

// deleteOwnHosts deletes this run's namespace hosts (and their processes).
func (e *env) deleteOwnHosts(ctx context.Context) {
	progress("deleting this run's namespace hosts")
	for _, r := range []string{benchIPRange, observerIP + "/32"} {
		if err := e.net.DeleteRange(ctx, r); err != nil {
			progress("deleting hosts in %s: %v", r, err)
		}
	}
}

// startSim starts the in-process simulator with the exec runtime running
// hack/sim-node.sh, its API on loopback.
func (e *env) startSim(ctx context.Context) error {
	logf, err := os.Create(filepath.Join(e.o.workDir, "sim.log"))
	if err != nil {
		return fmt.Errorf("creating the simulator log: %w", err)
	}
	logger := slog.New(&overlapCounter{Handler: slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}),
		n: &e.count.overlap})
	e.rt = newBenchRuntime(&ranchersim.ExecRuntime{Command: []string{e.build.SimNode()},
		Dir: e.build.Root, Logger: logger})
	sim, err := ranchersim.New(ranchersim.Options{Fixture: fixture(e.o.healthInterval, !e.o.bounded()), Runtime: e.rt, Logger: logger,
		IPRange: benchIPRange, Latency: ranchersim.Latency{Fixed: e.o.apiLatency}})
	if err != nil {
		return fmt.Errorf("building the simulator: %w", err)
	}
	e.sim = sim
	sctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(e.simDone)
		if err := sim.Serve(sctx, "127.0.0.1:0", "", ""); err != nil {
			progress("simulator: %v", err)
		}
	}()
	e.cl.add(func() {
		progress("stopping the simulator and its containers")
		cancel()
		<-e.simDone
		_ = logf.Close()
	})
	select {
	case <-sim.Ready():
	case <-e.simDone:
		return errors.New("the simulator stopped at start")
	case <-ctx.Done():
		return ctx.Err()
	}
	e.hsim = &harness.Sim{URL: sim.URL(), AccessKey: sim.AccessKey(), SecretKey: sim.SecretKey(),
		ProjectID: sim.ProjectID()}
	e.track = newTracker()
	wctx, wcancel := context.WithCancel(context.Background())
	go sim.WatchContainers(wctx, e.track.observe)
	e.cl.add(wcancel)
	progress("simulator API at %s (in-process, Cattle-like events, 1 s ticks)", sim.URL())
	return nil
}

// serveSideServices serves rancher-metadata and DNS on bridge ports of this
// run's own (the hosts reach them at 169.254.169.250:80 and :53 through
// hack/netns.sh's DNAT, so another run may share the bridge), counting the
// requests of this run's hosts.
func (e *env) serveSideServices() error {
	ln, err := net.Listen("tcp", harness.Gateway+":0")
	if err != nil {
		return fmt.Errorf("metadata listener: %w", err)
	}
	meta := e.sim.MetadataHandler()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			if ownAddr(r.RemoteAddr) {
				e.count.metadata.Add(1)
			}
			meta.ServeHTTP(w, r)
		})}
	go func() { _ = srv.Serve(ln) }()
	e.cl.add(func() { _ = srv.Close() })
	udp, tcp, err := ranchersim.ListenDNS(harness.Gateway + ":0")
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.sim.ServeDNS(countingConn{udp, &e.count.dns}, countingListener{tcp, &e.count.dns})
	}()
	e.cl.add(func() {
		_ = udp.Close()
		_ = tcp.Close()
		<-done
	})
	e.rt.setServices(ln.Addr().String(), udp.LocalAddr().String())
	progress("rancher-metadata on %s, DNS on %s: %s:80 and :53 inside the hosts", ln.Addr(), udp.LocalAddr(),
		harness.NetworkServicesIP)
	return nil
}

// watchNode tells the observer about a container that starts.
func (e *env) watchNode(stack, ip string) {
	cookie := droverCook
	if stack == baseStack {
		cookie = baseCookie
	}
	e.obs.watch(harness.NodeName(ip), cookie)
}

// startController starts the controller binary with a config for the
// drover service; healthRule false means the membership rule "running".
func (e *env) startController(ctx context.Context, healthRule bool) error {
	e.stopController()
	extra := ""
	if !healthRule {
		extra = "    membership:\n      states: [running]\n      healthStates: [healthy, updating-healthy, initializing, " +
			"reinitializing, unhealthy, updating-unhealthy, updating-reinitializing, none]\n"
	}
	topology := ""
	if e.o.bounded() {
		topology = fmt.Sprintf("    topology: %s\n    degree: %d\n", e.o.topology, e.o.degree)
	}
	cfg := harness.ConfigOptions{Name: "bench",
		Clusters: []harness.ClusterConfig{{Name: "hello", Stack: droverStack, Services: []string{serviceName},
			Extra: topology}},
		AnnounceListen: fmt.Sprintf("%s:%d", harness.Gateway, announcePrt), Extra: extra}.YAML()
	e.ctlN++
	c, err := harness.StartController(ctx, e.build, e.hsim, harness.ControllerOptions{
		Name: fmt.Sprintf("controller-%d", e.ctlN), Dir: e.o.workDir, Config: cfg,
		Args: []string{"--log-format", "json"}})
	if err != nil {
		return err
	}
	e.ctl = c
	return nil
}

func (e *env) stopController() {
	if e.ctl != nil {
		e.ctl.Stop()
		e.ctl = nil
	}
}

func (e *env) close() {
	e.stopController()
	e.cl.run()
}
