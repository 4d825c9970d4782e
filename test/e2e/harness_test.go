//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file holds helpers shared by the end-to-end tests: the repository
// root, building the hello release, network-namespace hosts (hack/netns.sh),
// hello nodes in them, rpc into a node's VM, and an eventually helper.
// Every helper registers its own cleanup with t.Cleanup, which runs even
// when the test fails.

// helloCookie is the distribution cookie of every test node.
const helloCookie = "drover-e2e-cookie"

// repoRoot returns the repository root (two levels above this file).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// requireRoot skips the test unless it runs as root with ip and mix.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, bin := range []string{"ip", "mix", "erl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s: %v", bin, err)
		}
	}
}

// run runs a command and returns its combined output.
func run(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// buildHello builds the hello release (offline, idempotent: a few seconds
// when nothing changed) and returns its directory.
func buildHello(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "examples", "hello")
	if _, err := run(ctx, dir, []string{"MIX_ENV=prod"}, "mix", "release", "--overwrite", "--quiet"); err != nil {
		t.Fatalf("building the hello release: %v", err)
	}
	return filepath.Join(dir, "_build", "prod", "rel", "hello")
}

// netns runs hack/netns.sh with args.
func netns(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := run(ctx, "", nil, filepath.Join(repoRoot(t), "hack", "netns.sh"), args...)
	if err != nil {
		t.Fatalf("netns.sh: %v", err)
	}
	return strings.TrimSpace(out)
}

// addHost creates the namespace host for ip (10.42.x.y) and deletes it
// (with every process in it) when the test ends. It returns its name.
func addHost(t testing.TB, ip string) string {
	t.Helper()
	name := netns(t, "name", ip)
	netns(t, "del", name) // a leftover of an earlier, killed run
	netns(t, "add", name, ip)
	t.Cleanup(func() { netns(t, "del", name) })
	return name
}

// serveMetadata serves a stand-in for rancher-metadata's
// /latest/self/container/primary_ip on 10.42.0.1 (the bridge): the answer
// is the caller's address, as Rancher's metadata answers by source IP. It
// returns the metadata base URL, by the name the namespaces resolve.
func serveMetadata(t testing.TB) string {
	t.Helper()
	netns(t, "up")
	ln, err := net.Listen("tcp", "10.42.0.1:0")
	if err != nil {
		t.Fatalf("metadata listener: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/latest/self/container/primary_ip", func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprint(w, host)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return fmt.Sprintf("http://rancher-metadata:%d", ln.Addr().(*net.TCPAddr).Port)
}

// helloNode is a hello release running in its own namespace host.
type helloNode struct {
	IP      string
	NS      string
	Name    string // hello@IP
	URL     string // agent base URL
	release string
	cmd     *exec.Cmd
	done    chan struct{}
	log     *bytes.Buffer
}

// helloOptions configure startHello.
type helloOptions struct {
	// MetadataURL is the rancher-metadata base URL (required).
	MetadataURL string
	// Token is the agent's bearer token.
	Token string
	// Env adds variables (HELLO_CONNECT_ALL=false, HELLO_MODE=dns, ...).
	Env []string
}

// startHello starts a hello node in a new namespace host with ip, waits
// until its agent answers /v1/health and stops it when the test ends
// (SIGTERM, then SIGKILL after 15 s, then the namespace is deleted).
func startHello(t testing.TB, release, ip string, o helloOptions) *helloNode {
	t.Helper()
	ns := addHost(t, ip)
	n := &helloNode{IP: ip, NS: ns, Name: "hello@" + ip, URL: "http://" + ip + ":4001",
		release: release, done: make(chan struct{}), log: &bytes.Buffer{}}
	n.cmd = exec.Command("ip", "netns", "exec", ns, filepath.Join(release, "bin", "hello"), "start")
	n.cmd.Env = append(os.Environ(), "RANCHER_METADATA_URL="+o.MetadataURL, "RELEASE_COOKIE="+helloCookie,
		"DROVER_NODE_TOKEN="+o.Token, "RANCHER_IP=")
	n.cmd.Env = append(n.cmd.Env, o.Env...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting hello in %s: %v", ns, err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() { n.stop(t, 15*time.Second) })
	eventually(t, 60*time.Second, func() error {
		select {
		case <-n.done:
			return errStop{fmt.Errorf("hello in %s exited: %s", ns, n.log)}
		default:
		}
		resp, err := http.Get(n.URL + "/v1/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %d", resp.StatusCode)
		}
		return nil
	})
	return n
}

// stop sends SIGTERM and waits up to grace for the VM to exit, then kills
// it. It returns how long the VM took to exit and whether it did on its own.
func (n *helloNode) stop(t testing.TB, grace time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	select {
	case <-n.done:
		return 0, true
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return time.Since(start), true
	case <-time.After(grace):
		_ = n.cmd.Process.Kill()
		<-n.done
		t.Logf("%s did not stop within %s; killed. log:\n%s", n.Name, grace, n.log)
		return time.Since(start), false
	}
}

// rpc evaluates an Elixir expression inside the node's VM with the
// release's rpc command, from inside its namespace, and returns stdout.
func (n *helloNode) rpc(t testing.TB, expr string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return run(ctx, "", []string{"RELEASE_COOKIE=" + helloCookie, "RANCHER_IP=" + n.IP},
		"ip", "netns", "exec", n.NS, filepath.Join(n.release, "bin", "hello"), "rpc", expr)
}

// nodes returns erlang:nodes() inside the VM, sorted.
func (n *helloNode) nodes(t testing.TB) ([]string, error) {
	t.Helper()
	out, err := n.rpc(t, "Hello.print_nodes()")
	if err != nil {
		return nil, err
	}
	got := strings.Fields(out)
	slices.Sort(got)
	return got, nil
}

// errStop makes eventually give up at once.
type errStop struct{ error }

// eventually retries check every 100 ms until it returns nil, returns an
// errStop, or timeout passes; then it fails the test with the last error.
// Use generous timeouts: the machine may be loaded.
func eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		var stop errStop
		if errors.As(err, &stop) || time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
