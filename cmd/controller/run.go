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

// runController loads the config and, unless --check, runs the controller.
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
	return fmt.Errorf("the reconcile loop is not wired in yet")
}

// runStatus prints the status table of a running controller.
func runStatus(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	return fmt.Errorf("status is not implemented yet")
}
