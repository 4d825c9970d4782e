package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	fixture, api, metadata, dns string
	events, ipRange, runtime    string
	accessKey, secretKey        string
	exec, isolateExec           string
	tick, stepDelay, stopTime   time.Duration
	logLevel                    string
	nodeName                    string
	shape                       string
	latency, latencyPerObject   time.Duration
	tlsCert, tlsKey             string
	removeDelay, purgeInterval  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ranchersim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.fixture, "fixture", "", "environment fixture YAML (default: an empty project 1a5 with one host)")
	fs.StringVar(&o.api, "api", "127.0.0.1:8080", "API listen address (port 0: any free port)")
	fs.StringVar(&o.metadata, "metadata", "127.0.0.1:8081", "rancher-metadata listen address (empty: off)")
	fs.StringVar(&o.dns, "dns", "127.0.0.1:8053", "DNS listen address, UDP and TCP (empty: off)")
	fs.StringVar(&o.events, "events", "cattle", "event mode: cattle (coalesced per 1s tick) or exact")
	fs.StringVar(&o.ipRange, "ip-range", ranchersim.DefaultIPRange, "container IP range")
	fs.StringVar(&o.accessKey, "access-key", ranchersim.DefaultAccessKey, "API access key")
	fs.StringVar(&o.secretKey, "secret-key", ranchersim.DefaultSecretKey, "API secret key")
	fs.StringVar(&o.runtime, "runtime", "none", "container runtime: none, exec, or go (in-process Go agents; token from DROVER_NODE_TOKEN)")
	fs.StringVar(&o.nodeName, "node-name", simruntime.DefaultNodeName, "with --runtime go: the agents' node-name template")
	fs.StringVar(&o.exec, "exec", "", "command run per container by --runtime exec (split on spaces)")
	fs.StringVar(&o.isolateExec, "isolate-exec", "", "command run with \"<ip> on|off\" to cut a container off")
	fs.DurationVar(&o.tick, "tick", ranchersim.DefaultTick, "Cattle-mode event publish period")
	fs.DurationVar(&o.stepDelay, "step-delay", ranchersim.DefaultStepDelay, "time each lifecycle step takes")
	fs.DurationVar(&o.stopTime, "stop-timeout", ranchersim.DefaultStopTimeout, "SIGTERM to SIGKILL delay")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.shape, "shape", "", "older Cattle payload shapes, a comma list of "+strings.Join(shapeNames(), ", "))
	fs.DurationVar(&o.latency, "api-latency", 0, "fixed delay of every API answer (not metadata, DNS or websocket frames)")
	fs.DurationVar(&o.latencyPerObject, "api-latency-per-object", 0, "extra delay of an API answer per object it holds")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve the API and websocket over TLS; needs --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.DurationVar(&o.removeDelay, "remove-delay", 0, "removed objects are purged this long after removal; negative: a random delay up to it (default -10m, Cattle's)")
	fs.DurationVar(&o.purgeInterval, "purge-interval", 0, "period of the purge monitor (default 60s, Cattle's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.events != "cattle" && o.events != "exact" {
		return o, fmt.Errorf("--events: %q is not cattle or exact", o.events)
	}
	if o.runtime != "none" && o.runtime != "exec" && o.runtime != "go" {
		return o, fmt.Errorf("--runtime: %q is not none, exec or go", o.runtime)
	}
	if o.runtime == "exec" && strings.TrimSpace(o.exec) == "" {
		return o, errors.New("--runtime exec needs --exec")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	if o.latency < 0 || o.latencyPerObject < 0 || o.purgeInterval < 0 {
		return o, errors.New("--api-latency, --api-latency-per-object and --purge-interval must not be negative")
	}
	if _, err := parseShape(o.shape); err != nil {
		return o, err
	}
	return o, nil
}

// shapeFlags maps --shape names to the knobs they turn on.
var shapeFlags = map[string]func(*ranchersim.Shape){
	"noContainerServiceRefs": func(s *ranchersim.Shape) { s.NoContainerServiceRefs = true },
	"noServiceInstanceIDs":   func(s *ranchersim.Shape) { s.NoServiceInstanceIDs = true },
	"nullLabels":             func(s *ranchersim.Shape) { s.NullLabels = true },
	"nullHealthState":        func(s *ranchersim.Shape) { s.NullHealthState = true },
}

func shapeNames() []string {
	names := make([]string, 0, len(shapeFlags))
	for n := range shapeFlags {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// parseShape reads --shape (a comma list, case-insensitive).
func parseShape(list string) (ranchersim.Shape, error) {
	var sh ranchersim.Shape
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for n, set := range shapeFlags {
			if strings.EqualFold(n, name) {
				set(&sh)
				found = true
			}
		}
		if !found {
			return sh, fmt.Errorf("--shape: %q is not one of %s", name, strings.Join(shapeNames(), ", "))
		}
	}
	return sh, nil
}

// simOptions turns flags into simulator options.
func simOptions(o options, logger *slog.Logger) (ranchersim.Options, error) {
	so := ranchersim.Options{
		AccessKey: o.accessKey, SecretKey: o.secretKey, IPRange: o.ipRange,
		Tick: o.tick, StepDelay: o.stepDelay, StopTimeout: o.stopTime, Logger: logger,
		Latency:     ranchersim.Latency{Fixed: o.latency, PerObject: o.latencyPerObject},
		RemoveDelay: o.removeDelay, PurgeInterval: o.purgeInterval,
	}
	so.Shape, _ = parseShape(o.shape) // checked by parseFlags
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return so, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		so.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if o.events == "exact" {
		so.EventMode = ranchersim.EventsExact
	}
	if o.fixture != "" {
		f, err := ranchersim.LoadFixture(o.fixture)
		if err != nil {
			return so, err
		}
		so.Fixture = f
	}
	switch o.runtime {
	case "exec":
		argv := strings.Fields(o.exec)
		if _, err := exec.LookPath(argv[0]); err != nil {
			return so, fmt.Errorf("--exec: %w", err)
		}
		so.Runtime = &ranchersim.ExecRuntime{Command: argv,
			IsolateCommand: strings.Fields(o.isolateExec), Logger: logger}
	case "go":
		rt, err := goRuntime(o, logger)
		if err != nil {
			return so, err
		}
		so.Runtime = rt
	}
	return so, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ranchersim: %v\n", err)
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "ranchersim: --log-level: %v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	so, err := simOptions(o, logger)
	if err != nil {
		fmt.Fprintf(stderr, "ranchersim: %v\n", err)
		return exitUsage
	}
	sim, err := ranchersim.New(so)
	if err != nil {
		fmt.Fprintf(stderr, "ranchersim: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go announce(ctx, sim, stdout)
	if err := sim.Serve(ctx, o.api, o.metadata, o.dns); err != nil {
		fmt.Fprintf(stderr, "ranchersim: %v\n", err)
		return exitRuntime
	}
	fmt.Fprintln(stdout, "ranchersim: stopped")
	return exitOK
}

// announce prints where everything is once the simulator listens.
func announce(ctx context.Context, sim *ranchersim.Sim, stdout io.Writer) {
	select {
	case <-sim.Ready():
	case <-ctx.Done():
		return
	}
	fmt.Fprintf(stdout, "ranchersim: api %s\n", sim.URL())
	fmt.Fprintf(stdout, "ranchersim: schemas %s\n", sim.SchemasURL())
	fmt.Fprintf(stdout, "ranchersim: access-key %s\n", sim.AccessKey())
	fmt.Fprintf(stdout, "ranchersim: secret-key %s\n", sim.SecretKey())
	fmt.Fprintf(stdout, "ranchersim: metadata %s\n", orOff(sim.MetadataURL()))
	fmt.Fprintf(stdout, "ranchersim: dns %s\n", orOff(sim.DNSAddr()))
	fmt.Fprintln(stdout, "ranchersim: ready")
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}
