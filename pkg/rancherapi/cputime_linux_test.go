package rancherapi

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the test process has
// used, so that benchmarks can report CPU per operation on a loaded
// machine, where wall time says little.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
