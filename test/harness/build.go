package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// modulePath is drover's Go module, to recognise the repository root.
const modulePath = "github.com/drover-mesh/drover"

// Timeouts of the builds: generous, the machine may be loaded and the Go
// build cache cold.
const (
	goBuildTimeout      = 10 * time.Minute
	releaseBuildTimeout = 10 * time.Minute
)

// RepoRoot returns the repository root: the directory of this source file
// two levels up when it is there, else the first parent of the working
// directory whose go.mod declares drover's module.
func RepoRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
		if isRepoRoot(root) {
			return root, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if isRepoRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository root: no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

func isRepoRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && strings.HasPrefix(string(data), "module "+modulePath+"\n")
}

// Build is what BuildAll produced.
type Build struct {
	// Root is the repository root.
	Root string
	// Controller and Sim are the built binaries.
	Controller, Sim string
	// Release is the hello release directory (bin/hello inside); empty
	// when BuildOptions.SkipRelease.
	Release string
}

// SimNode is the path of hack/sim-node.sh, the exec runtime's command.
func (b *Build) SimNode() string { return filepath.Join(b.Root, "hack", "sim-node.sh") }

// NetnsScript is the path of hack/netns.sh.
func (b *Build) NetnsScript() string { return filepath.Join(b.Root, "hack", "netns.sh") }

// BuildOptions configure BuildAll.
type BuildOptions struct {
	// Root is the repository root; default RepoRoot().
	Root string
	// BinDir receives the binaries (required: e.g. a test's temp dir).
	BinDir string
	// SkipRelease skips the hello release (no Erlang needed).
	SkipRelease bool
}

// BuildAll builds cmd/controller and cmd/ranchersim into BinDir and the
// hello release (mix release, offline, idempotent; a few seconds when
// nothing changed). Concurrent release builds from several processes are
// serialised with a lock file.
func BuildAll(ctx context.Context, o BuildOptions) (*Build, error) {
	if o.BinDir == "" {
		return nil, errors.New("building: BinDir is required")
	}
	root := o.Root
	if root == "" {
		var err error
		if root, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	b := &Build{Root: root, Controller: filepath.Join(o.BinDir, "controller"), Sim: filepath.Join(o.BinDir, "ranchersim")}
	gctx, cancel := context.WithTimeout(ctx, goBuildTimeout)
	defer cancel()
	if _, err := Run(gctx, root, nil, "go", "build", "-o", o.BinDir+string(filepath.Separator),
		"./cmd/controller", "./cmd/ranchersim"); err != nil {
		return nil, fmt.Errorf("building the binaries: %w", err)
	}
	if o.SkipRelease {
		return b, nil
	}
	rel, err := BuildRelease(ctx, root)
	if err != nil {
		return nil, err
	}
	b.Release = rel
	return b, nil
}

// BuildRelease builds the hello release (examples/hello) and returns its
// directory. A release newer than every source file is kept as it is:
// rebuilding rewrites files that running nodes of another run may be
// loading.
func BuildRelease(ctx context.Context, root string) (string, error) {
	dir := filepath.Join(root, "examples", "hello")
	rel := filepath.Join(dir, "_build", "prod", "rel", "hello")
	unlock, err := lockFile(filepath.Join(os.TempDir(), "drover-hello-release.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if releaseUpToDate(root, rel) {
		return rel, nil
	}
	rctx, cancel := context.WithTimeout(ctx, releaseBuildTimeout)
	defer cancel()
	if _, err := Run(rctx, dir, []string{"MIX_ENV=prod"}, "mix", "release", "--overwrite", "--quiet"); err != nil {
		return "", fmt.Errorf("building the hello release: %w", err)
	}
	return rel, nil
}

// releaseUpToDate reports whether the release's start script is newer
// than every source of the release (the example and the agent).
func releaseUpToDate(root, rel string) bool {
	built, err := os.Stat(filepath.Join(rel, "bin", "hello"))
	if err != nil {
		return false
	}
	var newer bool
	for _, src := range []string{"examples/hello/lib", "examples/hello/config", "examples/hello/rel",
		"examples/hello/mix.exs", "agent/src", "agent/mix.exs"} {
		_ = filepath.WalkDir(filepath.Join(root, src), func(_ string, d os.DirEntry, err error) error {
			if err != nil {
				return nil //nolint:nilerr // an unreadable entry counts as not newer
			}
			if info, ierr := d.Info(); ierr == nil && info.ModTime().After(built.ModTime()) {
				newer = true
			}
			return nil
		})
	}
	return !newer
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// Run runs a command in dir with env added to the environment and returns
// its combined output; the error includes the output.
func Run(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Require reports what the real-node harness needs and is missing: root,
// ip, erl, mix, go. nil means everything is there.
func Require() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
	for _, bin := range []string{"ip", "erl", "mix", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin+" in PATH")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}
