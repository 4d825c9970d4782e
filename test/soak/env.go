package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// Addresses of the two runtimes. The ranges are the soak's own, apart from
// the e2e tests' (10.42.64.0/20), the benchmark's (10.42.160.0/20,
// 127.44.0.0/16), the demo's (127.42.0.0/16) and the Go tests'
// (127.42-127.47), so that it can run while they do.
const (
	goIPRange   = "127.58.0.0/16"
	execIPRange = "10.42.128.0/21"
	// probeIP is the BEAM probe's namespace host, outside the simulator's
	// range.
	probeIP = "10.42.136.254"
	stack   = "soak"
	// cleanupTimeout bounds each cleanup step.
	cleanupTimeout = 3 * time.Minute
)

// soakTopology is the soak's clusters: three, one of them spanning two
// services.
func soakTopology(exec bool) topology {
	t := topology{stack: stack, clusters: []clusterDef{
		{name: "alpha", services: []string{"alpha"}},
		{name: "beta", services: []string{"beta"}},
		{name: "gamma", services: []string{"gamma1", "gamma2"}},
	}}
	t.nodeName = func(service, ip string) string { return service + "@" + ip }
	if exec {
		t.nodeName = func(_, ip string) string { return harness.NodeName(ip) } // hello releases are all hello@IP
	}
	return t
}

// initialScales are the scales the run starts from.
func initialScales(exec bool) map[string]int {
	if exec {
		return map[string]int{"alpha": 2, "beta": 2, "gamma1": 1, "gamma2": 1}
	}
	return map[string]int{"alpha": 3, "beta": 3, "gamma1": 2, "gamma2": 2}
}

// env is what one soak run started, and how to stop it.
type env struct {
	o        options
	out      io.Writer
	exec     bool
	topo     topology
	dir      string
	build    *harness.Build
	net      *harness.Net
	sim      *harness.Sim
	probe    *probe
	config   string
	opsAddr  string
	cleanups []func()

	mu  sync.Mutex
	ctl *harness.Controller
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.out, format, args...) }

func (e *env) onCleanup(f func()) { e.cleanups = append(e.cleanups, f) }

// close runs the cleanups in reverse order.
func (e *env) close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

// setUp builds and starts everything; on error what was started is
// stopped by close, which the caller always runs.
func (e *env) setUp(ctx context.Context) error {
	if e.exec {
		if err := harness.Require(); err != nil {
			return fmt.Errorf("-runtime exec: %w", err)
		}
	}
	if err := e.logDir(); err != nil {
		return err
	}
	e.printf("building the controller and the simulator%s\n", map[bool]string{true: " and the hello release", false: ""}[e.exec])
	bin, err := os.MkdirTemp("", "drover-soak-bin-")
	if err != nil {
		return fmt.Errorf("creating the binaries' directory: %w", err)
	}
	e.onCleanup(func() { _ = os.RemoveAll(bin) })
	e.build, err = harness.BuildAll(ctx, harness.BuildOptions{BinDir: bin, SkipRelease: !e.exec})
	if err != nil {
		return err
	}
	announceHost := "127.0.0.1"
	if e.exec {
		announceHost = harness.Gateway
		if err := e.upNetwork(ctx); err != nil {
			return err
		}
		if e.probe, err = startProbe(ctx, e.net, e.dir, probeIP); err != nil {
			return err
		}
		e.onCleanup(e.probe.close)
	}
	announce, err := harness.FreeAddr(announceHost)
	if err != nil {
		return err
	}
	if err := e.startSim(ctx, announce); err != nil {
		return err
	}
	cfg := harness.ConfigOptions{Name: "soak", AnnounceListen: announce, NodeName: "{{service}}@{{primaryIP}}"}
	if e.exec {
		cfg.NodeName = "hello@{{primaryIP}}"
	}
	for _, c := range e.topo.clusters {
		cfg.Clusters = append(cfg.Clusters, harness.ClusterConfig{Name: c.name, Stack: stack, Services: c.services})
	}
	e.config = cfg.YAML()
	if e.opsAddr, err = harness.FreeAddr("127.0.0.1"); err != nil {
		return err
	}
	e.onCleanup(func() {
		if c := e.controller(); c != nil {
			c.Stop()
		}
	})
	return e.startController(ctx)
}

// logDir creates the log directory: -logs (kept) or a temporary one,
// removed by the cleanup unless keepLogs is called.
func (e *env) logDir() error {
	if e.o.logs != "" {
		e.dir = e.o.logs
		if err := os.MkdirAll(e.dir, 0o755); err != nil {
			return fmt.Errorf("creating the log directory: %w", err)
		}
		return nil
	}
	dir, err := os.MkdirTemp("", "drover-soak-")
	if err != nil {
		return fmt.Errorf("creating the log directory: %w", err)
	}
	e.dir = dir
	e.onCleanup(func() {
		if e.dir != "" {
			_ = os.RemoveAll(e.dir)
		}
	})
	return nil
}

// keepLogs keeps a temporary log directory and says where it is.
func (e *env) keepLogs() {
	if e.o.logs == "" && e.dir != "" {
		e.printf("logs kept in %s\n", e.dir)
		e.dir = ""
	}
}

// upNetwork creates the bridge; at the end the soak's hosts are deleted
// and the bridge is torn down if the soak created it and nobody else's
// hosts use it.
func (e *env) upNetwork(ctx context.Context) error {
	e.net = harness.NewNet(e.build.Root)
	created := !harness.BridgeExists()
	if err := e.net.Up(ctx); err != nil {
		return err
	}
	e.onCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		for _, r := range []string{execIPRange, probeIP + "/32"} {
			if err := e.net.DeleteRange(ctx, r); err != nil {
				e.printf("cleanup: deleting the hosts of %s: %v\n", r, err)
			}
		}
		if !created {
			return
		}
		down, err := e.net.DownUnlessShared(ctx, execIPRange, probeIP+"/32")
		switch {
		case err != nil:
			e.printf("cleanup: tearing the bridge down: %v\n", err)
		case !down:
			e.printf("bridge %s left up: another run's namespace hosts use it\n", harness.Bridge)
		}
	})
	return nil
}

// fixture is the soak's environment: three hosts, one stack, four
// services with a health check on the agent, as Rancher users set it.
func (e *env) fixture() *ranchersim.Fixture {
	f := &ranchersim.Fixture{Hosts: []ranchersim.FixtureHost{{Name: "host-1"}, {Name: "host-2"}, {Name: "host-3"}}}
	st := ranchersim.FixtureStack{Name: stack}
	scales := initialScales(e.exec)
	for _, name := range e.topo.services() {
		st.Services = append(st.Services, ranchersim.ServiceSpec{Name: name, Scale: scales[name],
			HealthCheck: &ranchersim.HealthCheck{Port: harness.AgentPort, RequestLine: "GET /v1/health HTTP/1.0",
				Interval: 1000, HealthyThreshold: 2, UnhealthyThreshold: 3}})
	}
	f.Stacks = []ranchersim.FixtureStack{st}
	return f
}

func (e *env) startSim(ctx context.Context, announce string) error {
	o := harness.SimOptions{Fixture: e.fixture(), Dir: e.dir, Runtime: "go", IPRange: goIPRange,
		MetadataAddr: "-", DNSAddr: "-", Env: []string{"DROVER_ANNOUNCE_URL=http://" + announce},
		Args: []string{"--node-name", "{{service}}@{{primaryIP}}"}}
	if e.exec {
		meta, err := harness.FreeAddr(harness.Gateway)
		if err != nil {
			return err
		}
		o = harness.SimOptions{Fixture: e.fixture(), Dir: e.dir, Runtime: "exec", IPRange: execIPRange,
			MetadataAddr: meta, DNSAddr: "-", Env: []string{"DROVER_ANNOUNCE_URL=http://" + announce}}
	}
	sim, err := harness.StartSim(ctx, e.build, o)
	if err != nil {
		return err
	}
	e.sim = sim
	e.onCleanup(sim.Stop)
	e.printf("simulator: %s (runtime %s, containers in %s)\n", sim.ProjectURL(), o.Runtime, o.IPRange)
	return nil
}

// startController starts the controller (again), on the same ops address.
func (e *env) startController(ctx context.Context) error {
	v := e.o.controllerV
	c, err := harness.StartController(ctx, e.build, e.sim, harness.ControllerOptions{
		Name: "controller", Dir: e.dir, Config: e.config, OpsAddr: e.opsAddr, Verbosity: &v})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.ctl = c
	e.mu.Unlock()
	return nil
}

// controller returns the running controller, nil while it is down.
func (e *env) controller() *harness.Controller {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ctl
}

// takeController returns the running controller and marks it down.
func (e *env) takeController() (*harness.Controller, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.ctl
	e.ctl = nil
	if c == nil {
		return nil, errors.New("the controller is not running")
	}
	return c, nil
}
