package ranchertest

import (
	"testing"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// NewServer starts an in-process simulator for a test (ranchersim.StartLocal:
// the API, its websocket, rancher-metadata and DNS on 127.0.0.1) and stops
// it on t.Cleanup, containers first through the runtime.
func NewServer(t testing.TB, opts ranchersim.Options) *ranchersim.Sim {
	t.Helper()
	s, stop, err := ranchersim.StartLocal(opts)
	if err != nil {
		t.Fatalf("ranchertest: %v", err)
	}
	t.Cleanup(stop)
	return s
}
