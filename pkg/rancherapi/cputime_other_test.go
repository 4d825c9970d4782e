//go:build !linux

package rancherapi

import "time"

// processCPU is not measured here (see cputime_linux_test.go).
func processCPU() time.Duration { return 0 }
