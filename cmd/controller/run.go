package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/drover-mesh/drover/pkg/config"
)

// loadConfig loads and validates the config and the files it names,
// logging its warnings. A signal while loading ends it at once.
func loadConfig(ctx context.Context, o *options, stderr io.Writer) (*config.File, error) {
	f, err := config.LoadFileContext(ctx, o.configPath)
	if errors.Is(err, context.Canceled) {
		return nil, err
	}
	if err != nil {
		return nil, &usageError{err}
	}
	if err := checkFiles(f); err != nil {
		return nil, &usageError{fmt.Errorf("config file %s: %w", o.configPath, err)}
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
	f, err := loadConfig(ctx, o, stderr)
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
