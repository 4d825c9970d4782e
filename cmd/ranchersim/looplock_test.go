package main

import (
	"os"
	"testing"

	"github.com/drover-mesh/drover/internal/looplock"
)

// TestMain holds this package's loopback ranges (docs/simulator.md) while
// its tests run, so that another test process using them waits.
func TestMain(m *testing.M) { os.Exit(looplock.Run(m, "127.45", "127.47")) }
