package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-mesh/drover/pkg/config"
)

// loadConfig reads and checks the config file and the files it names,
// logging its warnings. A signal while loading ends it at once.
func loadConfig(ctx context.Context, o *options, stderr io.Writer) (*config.File, []byte, error) {
	f, b, err := readConfig(ctx, o.configPath, o.skipFiles)
	if errors.Is(err, context.Canceled) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, &usageError{err}
	}
	log := newLogger(o.logFormat, o.verbosity, stderr)
	for _, w := range f.Warnings() {
		log.Info("config warning", "warning", w)
	}
	return f, b, nil
}

// runController loads the config and, unless --check, runs the controller:
// one pass with --once, otherwise until ctx is done (SIGINT/SIGTERM),
// reloading the config on SIGHUP and when the file changes.
func runController(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	hup := make(chan os.Signal, 1)
	if !o.once && !o.check {
		signal.Notify(hup, syscall.SIGHUP) // before anything: SIGHUP's default ends the process
		defer signal.Stop(hup)
	}
	f, data, err := loadConfig(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.check {
		fmt.Fprintf(stdout, "%s: OK (%d clusters)\n", o.configPath, len(f.Spec.Clusters))
		return nil
	}
	if err := o.checkRancher(); err != nil {
		return err
	}
	cfg, err := resolveConfig(f, o.configPath, data, o.lookupEnv)
	if err != nil {
		return &usageError{err}
	}
	log := newLogger(o.logFormat, o.verbosity, stderr)
	h, err := newOpsHook(o, cfg, log)
	if err != nil {
		return err
	}
	defer h.start(ctx, log)()
	w, err := wire(ctx, o, cfg, log, h.metrics)
	if err != nil {
		return err
	}
	h.setWired(w)
	if o.once {
		return w.controller.RunOnce(ctx)
	}
	return w.run(ctx, o, h.metrics, hup, log)
}
