package looplock

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAcquireExcludesAnotherProcess: while this process holds a range,
// another process asking for it waits; it gets it once released.
func TestAcquireExcludesAnotherProcess(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	release, err := Acquire("127.250", "127.251")
	if err != nil {
		t.Fatal(err)
	}
	// flock(1) with -n fails at once on a held lock: the other process.
	if err := exec.Command("flock", "-n", Path("127.251"), "true").Run(); err == nil {
		t.Fatal("another process took a held range")
	}
	release()
	if out, err := exec.Command("flock", "-w", "10", Path("127.251"), "true").CombinedOutput(); err != nil {
		t.Fatalf("the range stayed locked after release: %v %s", err, out)
	}
}

func TestPathIsUnderTheTemporaryDirectory(t *testing.T) {
	if p := Path("127.43"); !strings.HasPrefix(p, os.TempDir()) || !strings.HasSuffix(p, "drover-loopback-127.43.lock") {
		t.Fatalf("Path = %s", p)
	}
}
