package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// Addresses and ranges of the two modes.
const (
	// realIPRange: the simulator's default, as Rancher's managed network.
	realIPRange = "10.42.0.0/16"
	// goIPRange: loopback, for in-process Go agents.
	goIPRange = "127.42.0.0/16"
	// announcePort is the controller's node-facing endpoint port when free.
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
	fixture  *ranchersim.Fixture
	announce string // the controller's announce endpoint address
	cleanups []func()
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// onCleanup registers a cleanup; cleanup runs them in reverse.
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
	if d.fixture, err = ranchersim.LoadFixture(filepath.Join(d.root, d.opts.fixture)); err != nil {
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
// created it (another run's hosts on a shared bridge stay).
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
		if created { // the simulator removed its own hosts already
			if down, err := net.DownUnlessShared(ctx); err == nil && !down {
				d.printf("bridge %s left up: another run's namespace hosts use it\n", harness.Bridge)
			}
		}
	})
	return nil
}

// preferAddr returns host:port when that port is free (TCP and UDP),
// else host with a free port: another run (a benchmark, an e2e test) may
// hold the usual one.
func preferAddr(host, port string) (string, error) {
	addr := net.JoinHostPort(host, port)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		_ = ln.Close()
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", addr); err == nil {
			_ = pc.Close()
			return addr, nil
		}
	}
	return harness.FreeAddr(host)
}

func (d *demo) startSim(ctx context.Context, logs string) error {
	host := "127.0.0.1"
	if d.real {
		host = harness.Gateway
	}
	var err error
	if d.announce, err = preferAddr(host, announcePort); err != nil {
		return err
	}
	o := harness.SimOptions{Fixture: d.fixture, Dir: logs, Runtime: "go", IPRange: goIPRange,
		MetadataAddr: "-", DNSAddr: "-", Env: []string{"DROVER_ANNOUNCE_URL=http://" + d.announce}}
	if d.real {
		// Metadata and DNS on free bridge ports: the nodes reach them at
		// 169.254.169.250:80 and :53, as on Rancher (hack/netns.sh).
		o = harness.SimOptions{Fixture: d.fixture, Dir: logs, Runtime: "exec", IPRange: realIPRange, Isolate: true,
			Env: []string{"DROVER_ANNOUNCE_URL=http://" + d.announce}}
	}
	sim, err := harness.StartSim(ctx, d.build, o)
	if err != nil {
		return err
	}
	d.sim = sim
	d.onCleanup(sim.Stop)
	d.printf("simulator: Rancher API %s (key %s), fixture %s\n", sim.ProjectURL(), sim.AccessKey, d.opts.fixture)
	if d.real {
		d.printf("           rancher-metadata http://%s/ and DNS %s:53 inside each node (served on %s and %s)\n",
			harness.NetworkServicesIP, harness.NetworkServicesIP, sim.MetadataAddr, sim.DNSAddr)
	}
	return nil
}

func (d *demo) startController(ctx context.Context, logs string) error {
	cfg, labelled := demoConfig(d.fixture, d.announce)
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
	for _, l := range labelled {
		d.printf("            cluster %s: no entry in the file, defined by the label %s=%s of service %s (token from spec.defaults)\n",
			config.LabelClusterName(l.Stack, l.Cluster), config.LabelCluster, l.Cluster, l.Stack+"/"+l.Service)
	}
	return nil
}

// labelledService is a fixture service that a label puts in a cluster.
type labelledService struct {
	Stack, Service, Cluster string
}

// demoConfig is the controller's config for the fixture: a service
// labelled io.drover.cluster gets no entry in the file (its cluster comes
// from the label, with the token of spec.defaults, as on Rancher); every
// other service is a cluster of the file.
func demoConfig(fx *ranchersim.Fixture, announce string) (harness.ConfigOptions, []labelledService) {
	cfg := harness.ConfigOptions{Name: "demo", AnnounceListen: announce, NodeName: "{{service}}@{{primaryIP}}", Defaults: true}
	var labelled []labelledService
	for _, st := range fx.Stacks {
		for _, s := range st.Services {
			if name := s.Labels[config.LabelCluster]; name != "" {
				labelled = append(labelled, labelledService{Stack: st.Name, Service: s.Name, Cluster: name})
				continue
			}
			cfg.Clusters = append(cfg.Clusters, harness.ClusterConfig{Name: s.Name, Stack: st.Name, Services: []string{s.Name}})
		}
	}
	return cfg, labelled
}
