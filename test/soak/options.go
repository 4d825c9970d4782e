package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Runtimes of the nodes.
const (
	runtimeGo   = "go"   // in-process Go agents in the simulator (no root)
	runtimeExec = "exec" // real BEAM nodes in network namespaces (root)
)

// Defaults that differ by runtime.
const (
	defaultDurationGo   = 20 * time.Minute
	defaultDurationExec = 10 * time.Minute
	defaultMaxScaleGo   = 10
	defaultMaxScaleExec = 4
)

// options are the parsed flags.
type options struct {
	runtime        string
	duration       time.Duration
	warmup         time.Duration
	seed           uint64
	seedSet        bool
	maxScale       int
	sample         time.Duration
	resourcesEvery time.Duration
	statusEvery    time.Duration
	converge       time.Duration
	settle         time.Duration
	logs           string
	controllerV    int
}

func parseFlags(args []string, stderr io.Writer, now time.Time) (options, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.runtime, "runtime", runtimeGo, "nodes: go (in-process Go agents, no root) or exec (real BEAM nodes in network namespaces; root, run under flock /tmp/drover-netns.lock)")
	fs.DurationVar(&o.duration, "duration", 0, "how long actions are started (default 20m with go, 10m with exec)")
	fs.DurationVar(&o.warmup, "warmup", 0, "start of the run left out of the resource comparison (default a tenth of -duration)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the random choices (default from the clock; printed, pass it to replay a run)")
	fs.IntVar(&o.maxScale, "max-scale", 0, "largest scale of a service (default 10 with go, 4 with exec)")
	fs.DurationVar(&o.sample, "sample", 250*time.Millisecond, "period of the peer sampling (every member's /v1/status)")
	fs.DurationVar(&o.resourcesEvery, "resources-every", 5*time.Second, "period of the resource sampling")
	fs.DurationVar(&o.statusEvery, "status-every", 30*time.Second, "period of the status line")
	fs.DurationVar(&o.converge, "converge", 60*time.Second, "bound on convergence after Rancher's truth last changed and any fault ended")
	fs.DurationVar(&o.settle, "settle", 5*time.Minute, "bound on the simulator reaching a resting state after an action")
	fs.StringVar(&o.logs, "logs", "", "directory for the logs, kept (default a temporary directory, removed unless the run fails)")
	fs.IntVar(&o.controllerV, "controller-v", 0, "the controller's -v (1 logs every pass)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.seedSet = o.seedSet || f.Name == "seed" })
	if !o.seedSet {
		o.seed = uint64(now.UnixNano())
	}
	return o.withDefaults()
}

// withDefaults fills the runtime-dependent defaults and checks the values.
func (o options) withDefaults() (options, error) {
	switch o.runtime {
	case runtimeGo:
		o.duration = orDuration(o.duration, defaultDurationGo)
		o.maxScale = orInt(o.maxScale, defaultMaxScaleGo)
	case runtimeExec:
		o.duration = orDuration(o.duration, defaultDurationExec)
		o.maxScale = orInt(o.maxScale, defaultMaxScaleExec)
	default:
		return o, fmt.Errorf("-runtime: %q is not go or exec", o.runtime)
	}
	o.warmup = orDuration(o.warmup, o.duration/10)
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("-%s: must be positive, got %s", name, d))
		}
	}
	positive("duration", o.duration)
	positive("sample", o.sample)
	positive("resources-every", o.resourcesEvery)
	positive("status-every", o.statusEvery)
	positive("converge", o.converge)
	positive("settle", o.settle)
	if o.warmup < 0 || o.warmup >= o.duration/4 {
		errs = append(errs, fmt.Errorf("-warmup: must be between 0 and a quarter of -duration (%s), got %s", o.duration/4, o.warmup))
	}
	if o.maxScale < 1 || o.maxScale > 50 {
		errs = append(errs, fmt.Errorf("-max-scale: must be between 1 and 50, got %d", o.maxScale))
	}
	return o, errors.Join(errs...)
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
