package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/drover-mesh/drover/pkg/ops"
)

// statusTimeout bounds "controller status": the ops server answers from
// memory, so a slow answer means it is not there.
const statusTimeout = 10 * time.Second

// runStatus prints the status table of a running controller (--addr).
// An unreachable controller is a runtime failure: exit status 1.
func runStatus(ctx context.Context, o *options, stdout, _ io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	r, err := ops.FetchReport(ctx, &http.Client{}, o.statusURL)
	if err != nil {
		return fmt.Errorf("cannot reach the controller at %s (is it running, and is --addr its --listen address?): %w",
			o.statusURL, err)
	}
	return ops.WriteTable(stdout, r, time.Now())
}

// runExplain prints why a node is or is not a member, from a running
// controller's status (--addr). An unknown node is exit status 1, with the
// closest names; so is an unreachable controller.
func runExplain(ctx context.Context, o *options, stdout, _ io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	r, err := ops.FetchReport(ctx, &http.Client{}, o.statusURL)
	if err != nil {
		return fmt.Errorf("cannot reach the controller at %s (is it running, and is --addr its --listen address?): %w",
			o.statusURL, err)
	}
	return ops.Explain(stdout, r, o.explainNode, time.Now())
}
