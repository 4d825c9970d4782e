package main

import (
	"io"
	"log/slog"

	"github.com/go-logr/logr"
)

// newLogger returns a logr.Logger backed by log/slog. Verbosity v shows
// logr V(0)..V(v) messages.
func newLogger(format string, v int, w io.Writer) logr.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(-v)}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return logr.FromSlogHandler(h)
}
