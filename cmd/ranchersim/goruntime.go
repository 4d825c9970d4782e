package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/simruntime"
)

// goRuntime builds the runtime of --runtime go: an in-process Go agent
// (pkg/nodeapi) per container, listening on the container's IP (use a
// loopback range: --ip-range 127.42.0.0/16), all on one in-memory mesh.
// It needs no root and no Erlang. The agents' token is DROVER_NODE_TOKEN;
// DROVER_ANNOUNCE_URL and DROVER_ANNOUNCE_TOKEN turn announcements on; the
// node-name template is --node-name.
func goRuntime(o options, logger *slog.Logger) (*simruntime.Runtime, error) {
	token := os.Getenv("DROVER_NODE_TOKEN")
	if token == "" {
		return nil, errors.New("--runtime go needs the agents' token in DROVER_NODE_TOKEN")
	}
	return simruntime.New(simruntime.Options{
		Token:         token,
		NodeName:      o.nodeName,
		AnnounceURL:   os.Getenv("DROVER_ANNOUNCE_URL"),
		AnnounceToken: os.Getenv("DROVER_ANNOUNCE_TOKEN"),
		Logger:        logr.FromSlogHandler(logger.Handler()),
	})
}
