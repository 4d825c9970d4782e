//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/test/harness"
)

// This file holds the agent tests' helpers: hello nodes started directly
// in network-namespace hosts (no simulator), a metadata stand-in, rpc into
// a node's VM, and an eventually helper, built on test/harness.
// Every helper registers its own cleanup with t.Cleanup, which runs even
// when the test fails.

// helloCookie is the distribution cookie of every test node.
const helloCookie = "drover-e2e-cookie"

// repoRoot returns the repository root.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireRoot skips the test unless it runs as root with ip, erl and mix.
func requireRoot(t testing.TB) {
	t.Helper()
	if err := harness.Require(); err != nil {
		t.Skipf("needs %v", err)
	}
}

// buildHello builds the hello release (offline; kept when up to date) and
// returns its directory.
func buildHello(t testing.TB) string {
	t.Helper()
	rel, err := harness.BuildRelease(context.Background(), repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// netns runs hack/netns.sh with args.
func netns(t testing.TB, args ...string) string {
	t.Helper()
	out, err := harness.NewNet(repoRoot(t)).Do(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addHost creates the namespace host for ip (10.42.x.y), whose
// 169.254.169.250 leads to s, and deletes it (with every process in it)
// when the test ends. It returns its name.
func addHost(t testing.TB, ip string, s harness.Services) string {
	t.Helper()
	name := netns(t, "name", ip)
	netns(t, "del", name) // a leftover of an earlier, killed run
	t.Cleanup(func() { netns(t, "del", name) })
	if err := harness.NewNet(repoRoot(t)).Add(context.Background(), name, ip, s); err != nil {
		t.Fatal(err)
	}
	return name
}

// serveMetadata serves a stand-in for rancher-metadata's
// /latest/self/container/primary_ip on 10.42.0.1 (the bridge), on a port
// of its own: the answer is the caller's address, as Rancher's metadata
// answers by source IP. It returns its host:port, for the hosts'
// 169.254.169.250:80.
func serveMetadata(t testing.TB) string {
	t.Helper()
	netns(t, "up")
	ln, err := net.Listen("tcp", harness.Gateway+":0")
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
	return ln.Addr().String()
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
	// Metadata is where the host's 169.254.169.250:80 leads (required):
	// the release reads http://rancher-metadata/... as on Rancher.
	Metadata string
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
	ns := addHost(t, ip, harness.Services{Metadata: o.Metadata})
	n := &helloNode{IP: ip, NS: ns, Name: "hello@" + ip, URL: "http://" + ip + ":4001",
		release: release, done: make(chan struct{}), log: &bytes.Buffer{}}
	n.cmd = exec.Command("ip", "netns", "exec", ns, filepath.Join(release, "bin", "hello"), "start")
	n.cmd.Env = append(os.Environ(), "RELEASE_COOKIE="+helloCookie,
		"DROVER_NODE_TOKEN="+o.Token, "RANCHER_IP=")
	n.cmd.Env = append(n.cmd.Env, o.Env...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting hello in %s: %v", ns, err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() { n.stop(t, 15*time.Second) })
	testwait.EventuallyNil(t, 60*time.Second, func() error {
		select {
		case <-n.done:
			return testwait.Permanent(fmt.Errorf("hello in %s exited: %s", ns, n.log))
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
	return harness.VM{Release: n.release, IP: n.IP, Cookie: helloCookie}.RPC(context.Background(), expr)
}

// nodes returns erlang:nodes() inside the VM, sorted.
func (n *helloNode) nodes(t testing.TB) ([]string, error) {
	t.Helper()
	return harness.VM{Release: n.release, IP: n.IP, Cookie: helloCookie}.Nodes(context.Background())
}
