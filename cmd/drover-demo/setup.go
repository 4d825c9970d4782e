package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/test/harness"
)

// Addresses and ranges of the two modes.
const (
	// realIPRange: the simulator's default, as Rancher's managed network.
	realIPRange = "10.42.0.0/16"
	// goIPRange: loopback, for in-process Go agents.
	goIPRange = "127.42.0.0/16"
	// announcePort is the controller's node-facing endpoint port.
	announcePort = "4100"
	// convergeTimeout bounds one step of the walkthrough.
	convergeTimeout = 3 * time.Minute
)

// demo is one run: what it started, to stop it in reverse order.
type demo struct {
	opts     options
	out      io.Writer
	real     bool // real BEAM nodes in namespaces (else Go agents)
	root     string
	build    *harness.Build
	sim      *harness.Sim
	ctl      *harness.Controller
	fixture  *ranchertest.Fixture
	cookie   string
	cleanups []func()
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// defer_ registers a cleanup; cleanup runs them in reverse.
func (d *demo) onCleanup(f func()) { d.cleanups = append(d.cleanups, f) }

func (d *demo) cleanup() {
	if len(d.cleanups) > 0 {
		d.printf("\nstopping: the controller, the simulator and its nodes, the network\n")
	}
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
	d.cleanups = nil
}

// chooseRuntime decides between real nodes and Go agents, and says why.
func (d *demo) chooseRuntime() error {
	root := os.Geteuid() == 0
	switch d.opts.runtime {
	case "exec":
		if !root {
			return fmt.Errorf("--runtime exec needs root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
		}
		d.real = true
	case "go":
		d.real = false
	default:
		d.real = root
		if !root {
			d.printf("Not root: real BEAM nodes need root (network namespaces: CAP_SYS_ADMIN, CAP_NET_ADMIN),\n" +
				"plus Erlang/OTP and Elixir (installed by hack/install-deps.sh). Run `sudo make demo` for them.\n" +
				"Falling back to in-process Go agents on 127.42.x.y (same protocol, same controller).\n\n")
		}
	}
	return nil
}

// setUp installs missing dependencies, builds, and starts the network, the
// simulator and the controller.
func (d *demo) setUp(ctx context.Context) error {
	var err error
	if d.root, err = harness.RepoRoot(); err != nil {
		return err
	}
	if d.fixture, err = ranchertest.LoadFixture(filepath.Join(d.root, d.opts.fixture)); err != nil {
		return err
	}
	if err := d.installDeps(ctx); err != nil {
		return err
	}
	d.printf("building bin/controller, bin/ranchersim%s\n", map[bool]string{true: " and the hello release", false: ""}[d.real])
	d.build, err = harness.BuildAll(ctx, harness.BuildOptions{Root: d.root, BinDir: filepath.Join(d.root, "bin"), SkipRelease: !d.real})
	if err != nil {
		return err
	}
	logs, err := os.MkdirTemp("", "drover-demo-")
	if err != nil {
		return fmt.Errorf("creating the log directory: %w", err)
	}
	d.onCleanup(func() { _ = os.RemoveAll(logs) })
	if d.real {
		if err := d.upNetwork(ctx); err != nil {
			return err
		}
	}
	if err := d.startSim(ctx, logs); err != nil {
		return err
	}
	return d.startController(ctx, logs)
}

// installDeps runs hack/install-deps.sh when Erlang or Elixir is missing.
func (d *demo) installDeps(ctx context.Context) error {
	if !d.real {
		return nil
	}
	_, errErl := exec.LookPath("erl")
	_, errMix := exec.LookPath("mix")
	if errErl == nil && errMix == nil {
		return nil
	}
	d.printf("installing Erlang/OTP and Elixir (hack/install-deps.sh)\n")
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, "hack", "install-deps.sh"))
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("installing dependencies: %w", err)
	}
	return nil
}

// upNetwork creates the bridge; it is torn down at the end if the demo
// created it.
func (d *demo) upNetwork(ctx context.Context) error {
	net := harness.NewNet(d.root)
	created := !harness.BridgeExists()
	if err := net.Up(ctx); err != nil {
		return err
	}
	d.printf("network: bridge %s (%s/16), one namespace per node\n", harness.Bridge, harness.Gateway)
	d.onCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if created {
			_ = net.Down(ctx)
			return
		}
		_ = net.DeleteRange(ctx, realIPRange)
	})
	return nil
}

func (d *demo) startSim(ctx context.Context, logs string) error {
	o := harness.SimOptions{Fixture: d.fixture, Dir: logs, Runtime: "go", IPRange: goIPRange,
		MetadataAddr: "-", DNSAddr: "-", Env: []string{"DROVER_ANNOUNCE_URL=http://127.0.0.1:" + announcePort}}
	if d.real {
		o = harness.SimOptions{Fixture: d.fixture, Dir: logs, Runtime: "exec", IPRange: realIPRange, Isolate: true,
			Env: []string{"DROVER_ANNOUNCE_URL=http://" + harness.Gateway + ":" + announcePort}}
	}
	sim, err := harness.StartSim(ctx, d.build, o)
	if err != nil {
		return err
	}
	d.sim = sim
	d.onCleanup(sim.Stop)
	d.printf("simulator: Rancher API %s (key %s), fixture %s\n", sim.ProjectURL(), sim.AccessKey, d.opts.fixture)
	return nil
}

func (d *demo) startController(ctx context.Context, logs string) error {
	listen := "127.0.0.1:" + announcePort
	if d.real {
		listen = harness.Gateway + ":" + announcePort
	}
	cfg := harness.ConfigOptions{Name: "demo", AnnounceListen: listen, NodeName: "{{service}}@{{primaryIP}}"}
	for _, st := range d.fixture.Stacks {
		for _, s := range st.Services {
			cfg.Clusters = append(cfg.Clusters, harness.ClusterConfig{Name: s.Name, Stack: st.Name, Services: []string{s.Name}})
		}
	}
	verbosity := 0
	ctl, err := harness.StartController(ctx, d.build, d.sim, harness.ControllerOptions{
		Name: "controller", Dir: logs, Config: cfg.YAML(), OpsAddr: d.opts.ops, Verbosity: &verbosity,
	})
	if err != nil {
		return err
	}
	d.ctl = ctl
	d.onCleanup(func() { ctl.Stop() })
	d.printf("controller: started (config %s)\n", ctl.ConfigPath)
	return nil
}
