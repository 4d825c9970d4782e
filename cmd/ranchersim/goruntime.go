package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/simruntime"
)

// goRuntime builds the runtime of --runtime go: an in-process Go agent
// (pkg/nodeagent) per container, listening on the container's IP (use a
// loopback range: --ip-range 127.42.0.0/16), all on one in-memory mesh.
// It needs no root and no Erlang. The agents' token is DROVER_NODE_TOKEN;
// DROVER_ANNOUNCE_URL and DROVER_ANNOUNCE_TOKEN turn announcements on; the
// node-name template is --node-name.
func goRuntime(o options, logger *slog.Logger) (*simruntime.Runtime, error) {
	token := os.Getenv("DROVER_NODE_TOKEN")
	if token == "" {
		return nil, errors.New("--runtime go needs the agents' token in DROVER_NODE_TOKEN")
	}
	if err := checkBindable(o.ipRange); err != nil {
		return nil, err
	}
	return simruntime.New(simruntime.Options{
		Token:         token,
		NodeName:      o.nodeName,
		AnnounceURL:   os.Getenv("DROVER_ANNOUNCE_URL"),
		AnnounceToken: os.Getenv("DROVER_ANNOUNCE_TOKEN"),
		Logger:        logr.FromSlogHandler(logger.Handler()),
	})
}

// checkBindable checks that this machine can listen on the range's first
// container IP, as every agent of the Go runtime must on its own: a
// range the machine does not hold (Rancher's 10.42.0.0/16 outside a
// namespace set-up) would make every container fail to start.
func checkBindable(ipRange string) error {
	p, err := netip.ParsePrefix(ipRange)
	if err != nil {
		return fmt.Errorf("--ip-range: %w", err)
	}
	first := p.Masked().Addr().Next().Next() // .0 and .1 are never handed out
	ln, err := net.Listen("tcp", net.JoinHostPort(first.String(), "0"))
	if err != nil {
		return fmt.Errorf("--ip-range %s: cannot listen on %s (%w); the Go runtime serves each container's "+
			"agent on the container's IP, so the range must be this machine's, e.g. --ip-range 127.42.0.0/16 (loopback)",
			ipRange, first, err)
	}
	return ln.Close()
}
