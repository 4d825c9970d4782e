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
	exitOK          = 0
	exitFail        = 1 // a violation, or the run could not be made
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		first := true
		for range sigs {
			if first {
				fmt.Fprintln(stdout, "\nsoak: interrupted; stopping everything it started (this takes a moment)")
				cancel()
				first = false
				continue
			}
			fmt.Fprintln(stdout, "soak: still cleaning up; please wait")
		}
	}()
	r := newRunner(o, stdout)
	err = r.run(ctx)
	failed := len(r.viol.all()) > 0 || (err != nil && ctx.Err() == nil)
	if failed {
		r.env.keepLogs()
	}
	r.env.close()
	fmt.Fprintln(stdout, "soak: stopped; everything it started is gone")
	switch {
	case err != nil && ctx.Err() == nil:
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return exitFail
	case len(r.viol.all()) > 0:
		return exitFail
	case ctx.Err() != nil:
		return exitInterrupted
	}
	return exitOK
}
