package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
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
	meta                        metadataFlags
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
	o.meta.register(fs)
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
	if err := o.meta.validate(); err != nil {
		return o, err
	}
	return o, nil
}

// simOptions turns flags into simulator options.
func simOptions(o options, logger *slog.Logger) (ranchersim.Options, error) {
	so := ranchersim.Options{
		AccessKey: o.accessKey, SecretKey: o.secretKey, IPRange: o.ipRange,
		Tick: o.tick, StepDelay: o.stepDelay, StopTimeout: o.stopTime, Logger: logger,
	}
	so.Metadata = o.meta.options()
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
		so.Runtime = &ranchersim.ExecRuntime{Command: strings.Fields(o.exec),
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
