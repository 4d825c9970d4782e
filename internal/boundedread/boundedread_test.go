package boundedread

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRegularRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "token")
	big := filepath.Join(dir, "big")
	fifo := filepath.Join(dir, "fifo")
	if err := os.WriteFile(small, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 101), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Regular(small, 100); err != nil || string(b) != "s3cret\n" {
		t.Errorf("Regular(small) = %q, %v", b, err)
	}
	for path, want := range map[string]string{
		"/dev/zero":                 "not a regular file (a character device)",
		dir:                         "not a regular file (a directory)",
		fifo:                        "not a regular file (a named pipe)",
		big:                         "is 101 bytes, over the limit of 100",
		filepath.Join(dir, "nope"):  "no such file",
		filepath.Join(small, "sub"): "not a directory",
	} {
		if _, err := Regular(path, 100); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Regular(%s) error %v, want %q", path, err, want)
		}
	}
}

func TestFileReadsPipesButNotBeyondTheLimit(t *testing.T) {
	if _, err := File("/dev/zero", 1<<20); err == nil || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Errorf("File(/dev/zero) error %v, want over the limit", err)
	}
	if _, err := File(t.TempDir(), 10); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("File(dir) error %v, want is a directory", err)
	}
}
