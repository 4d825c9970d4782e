// Command controller is drover's controller: one per Rancher environment.
// It watches the clustered services named in its config through the Rancher
// API and pushes to every BEAM node the peers it should hold.
//
// Run "controller --help" for flags and environment variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1 // the controller failed while running
	exitUsage   = 2 // bad flags, environment or config: nothing was started
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// usageError marks errors that are the user's input: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run is main without the process: it returns the exit status.
func run(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, lookupEnv, stdout, stderr)
}

// runContext is run until ctx ends (SIGINT or SIGTERM in production).
func runContext(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, lookupEnv, stderr)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "controller: %v\nRun 'controller --help' for usage.\n", err)
		return exitUsage
	}
	err = opts.command(ctx, opts, stdout, stderr)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "controller: %s\n", scrubText(err.Error(), opts.secretValues()...))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "controller: %s\n", scrubText(err.Error(), opts.secretValues()...))
		return exitRuntime
	}
}
