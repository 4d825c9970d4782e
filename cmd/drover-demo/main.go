package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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
	fixture string
	ops     string
	runtime string
	hold    bool
	step    time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("drover-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.fixture, "fixture", "config/sim/demo.yaml", "simulator fixture (relative to the repository root)")
	fs.StringVar(&o.ops, "ops", "127.0.0.1:9090", "the controller's ops address (mesh view, /status, /metrics)")
	fs.StringVar(&o.runtime, "runtime", "auto", "nodes: exec (real BEAM nodes, root), go (in-process Go agents) or auto (exec as root)")
	fs.BoolVar(&o.hold, "hold", true, "keep running after the walkthrough until Ctrl-C")
	fs.DurationVar(&o.step, "pause", 3*time.Second, "pause between the walkthrough's steps")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	switch o.runtime {
	case "auto", "exec", "go":
	default:
		return o, fmt.Errorf("--runtime: %q is not auto, exec or go", o.runtime)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "drover-demo: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{opts: o, out: stdout}
	err = d.run(ctx)
	d.cleanup()
	switch {
	case err == nil, ctx.Err() != nil:
		fmt.Fprintln(stdout, "drover-demo: stopped; everything it started is gone")
		return exitOK
	default:
		fmt.Fprintf(stderr, "drover-demo: %v\n", err)
		return exitRuntime
	}
}
