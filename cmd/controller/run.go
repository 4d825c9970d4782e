package main

import (
	"context"
	"fmt"
	"io"

	"github.com/drover-mesh/drover/pkg/config"
)

// loadConfig loads and validates the config, logging its warnings.
func loadConfig(o *options, stderr io.Writer) (*config.File, error) {
	f, err := config.LoadFile(o.configPath)
	if err != nil {
		return nil, &usageError{err}
	}
	log := newLogger(o.logFormat, o.verbosity, stderr)
	for _, w := range f.Warnings() {
		log.Info("config warning", "warning", w)
	}
	return f, nil
}

// runController loads the config and, unless --check, runs the controller:
// one pass with --once, otherwise until ctx is done (SIGINT/SIGTERM).
func runController(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	f, err := loadConfig(o, stderr)
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
	log := newLogger(o.logFormat, o.verbosity, stderr)
	h, err := newOpsHook(o, f, log)
	if err != nil {
		return err
	}
	defer h.start(ctx, log)()
	w, err := wire(ctx, o, f, log, h.metrics)
	if err != nil {
		return err
	}
	h.setWired(w)
	if o.once {
		return w.controller.RunOnce(ctx)
	}
	return w.run(ctx, log)
}
