package looplock

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// Path is the lock file of a range, e.g. Path("127.43") is
// $TMPDIR/drover-loopback-127.43.lock.
func Path(rangePrefix string) string {
	return filepath.Join(os.TempDir(), "drover-loopback-"+rangePrefix+".lock")
}

// Acquire blocks until this process holds the locks of every range given
// (taken in sorted order, so that two processes asking for overlapping
// sets cannot deadlock); release gives them back. The kernel releases
// them too when the process ends, however it ends.
func Acquire(ranges ...string) (func(), error) {
	sorted := slices.Sorted(slices.Values(ranges))
	var held []*os.File
	release := func() {
		for _, f := range slices.Backward(held) {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			_ = f.Close()
		}
	}
	for _, r := range slices.Compact(sorted) {
		f, err := os.OpenFile(Path(r), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			release()
			return nil, fmt.Errorf("opening the lock of loopback range %s: %w", r, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			_ = f.Close()
			release()
			return nil, fmt.Errorf("locking loopback range %s (%s): %w", r, f.Name(), err)
		}
		held = append(held, f)
	}
	return release, nil
}

// Run runs the tests of m holding the locks of ranges: a package's
// TestMain is `os.Exit(looplock.Run(m, "127.43"))`.
func Run(m *testing.M, ranges ...string) int {
	release, err := Acquire(ranges...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "looplock:", err)
		return 1
	}
	defer release()
	return m.Run()
}
