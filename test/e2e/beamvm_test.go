//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/test/harness"
)

// Plain BEAM VMs on loopback running only the agent (no release, no
// namespace, so no root and no netns lock): for the agent's limit tests,
// which need many source addresses (127.0.0.x) and a way to read the VM's
// own counters. Each VM reads Erlang expressions from its stdin and prints
// "=> Result" for each (eval); it halts when stdin closes, so it cannot
// outlive the test.

// agentEbin builds the agent with plain erlc (agent/eunit.sh build DIR)
// into a directory removed when the test ends, and returns it.
func agentEbin(t testing.TB) string {
	t.Helper()
	for _, bin := range []string{"erl", "erlc", "epmd"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s in PATH", bin)
		}
	}
	root := repoRoot(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := harness.Run(ctx, root, nil, filepath.Join(root, "agent", "eunit.sh"), "build", dir); err != nil {
		t.Fatalf("building the agent: %v", err)
	}
	return dir
}

// startEpmd starts a private epmd on a free port of 127.0.0.1 (stopped with
// the test) and returns the port: VMs with ERL_EPMD_PORT set to it never
// touch the machine's shared epmd.
func startEpmd(t testing.TB) int {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command("epmd", "-address", "127.0.0.1", "-port", strconv.Itoa(port))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting epmd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	testwait.EventuallyNil(t, 10*time.Second, func() error {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return c.Close()
	})
	return port
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// beamVM is one plain VM with the agent started.
type beamVM struct {
	Name string // node name, e.g. a@127.0.0.1
	Port int    // the agent's port on 127.0.0.1
	URL  string // http(s)://127.0.0.1:Port

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	answers chan string
	done    chan struct{}
	mu      sync.Mutex
	log     bytes.Buffer
	evalMu  sync.Mutex
}

// beamOptions configure startBeam.
type beamOptions struct {
	// Name is the node's short name; the node is Name@127.0.0.1.
	Name string
	// EpmdPort is the private epmd's port (startEpmd).
	EpmdPort int
	// Agent is the agent's application environment as Erlang terms,
	// e.g. {"token": `<<"t">>`, "max_new_atoms": "100"}. port 0 and ip
	// 127.0.0.1 are set unless given.
	Agent map[string]string
	// NoFile is the VM's file-descriptor limit (ulimit -n); 0 keeps the
	// test process's.
	NoFile int
	// Scheme is "https" when the agent serves TLS.
	Scheme string
	// Ebin is the agent's ebin directory (agentEbin).
	Ebin string
}

// startBeam starts a VM, waits for its agent to listen and stops the VM
// when the test ends.
func startBeam(t testing.TB, o beamOptions) *beamVM {
	t.Helper()
	env := map[string]string{"port": "0", "ip": `"127.0.0.1"`}
	for k, v := range o.Agent {
		env[k] = v
	}
	var sets []string
	for k, v := range env {
		sets = append(sets, fmt.Sprintf("application:set_env(drover_agent, %s, %s)", k, v))
	}
	eval := "application:load(drover_agent), " + strings.Join(sets, ", ") + ", " +
		`{ok, _} = application:ensure_all_started(drover_agent), ` +
		`io:format("drover-e2e-port=~b~n", [drover_agent:port()]), ` + replLoop
	name := o.Name + "@127.0.0.1"
	args := []string{"-noshell", "-name", name, "-setcookie", helloCookie, "-pa", o.Ebin,
		"-kernel", "logger_level", "notice", "-eval", eval}
	shell := `exec erl "$@"`
	if o.NoFile > 0 {
		shell = fmt.Sprintf(`ulimit -n %d && exec erl "$@"`, o.NoFile)
	}
	vm := &beamVM{Name: name, answers: make(chan string, 16), done: make(chan struct{})}
	vm.cmd = exec.Command("sh", append([]string{"-c", shell, "sh"}, args...)...)
	vm.cmd.Env = append(os.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(o.EpmdPort))
	vm.cmd.Stderr = &lockedWriter{vm: vm}
	stdout, err := vm.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if vm.stdin, err = vm.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := vm.cmd.Start(); err != nil {
		t.Fatalf("starting erl: %v", err)
	}
	ports := make(chan int, 1)
	go vm.read(stdout, ports)
	go func() { _ = vm.cmd.Wait(); close(vm.done) }()
	t.Cleanup(func() { vm.stop(t) })
	select {
	case vm.Port = <-ports:
	case <-vm.done:
		t.Fatalf("%s exited before its agent listened:\n%s", name, vm.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no agent port within 60 s:\n%s", name, vm.Log())
	}
	scheme := o.Scheme
	if scheme == "" {
		scheme = "http"
	}
	vm.URL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, vm.Port)
	return vm
}

// replLoop reads one Erlang expression per line from stdin and prints
// "=> Result" (one line) for each; it halts the VM at the end of stdin.
const replLoop = `(fun Loop() -> case io:get_line("") of ` +
	`eof -> halt(0); ` +
	`Line -> R = try {ok, Toks, _} = erl_scan:string(Line), {ok, Exprs} = erl_parse:parse_exprs(Toks), ` +
	`{value, V, _} = erl_eval:exprs(Exprs, []), V catch C:E -> {eval_error, C, E} end, ` +
	`io:put_chars(["=> ", string:replace(io_lib:format("~0p", [R]), "\n", " ", all), "\n"]), Loop() end end)()`

func (vm *beamVM) read(r io.Reader, ports chan<- int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=> "):
			vm.answers <- strings.TrimPrefix(line, "=> ")
		case strings.HasPrefix(line, "drover-e2e-port="):
			if p, err := strconv.Atoi(strings.TrimPrefix(line, "drover-e2e-port=")); err == nil {
				ports <- p
			}
		default:
			vm.mu.Lock()
			vm.log.WriteString(line + "\n")
			vm.mu.Unlock()
		}
	}
}

// Log returns what the VM printed besides eval answers (its log).
func (vm *beamVM) Log() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.log.String()
}

// eval evaluates an Erlang expression (no trailing dot) in the VM and
// returns the printed result.
func (vm *beamVM) eval(t testing.TB, expr string) string {
	t.Helper()
	vm.evalMu.Lock()
	defer vm.evalMu.Unlock()
	if _, err := io.WriteString(vm.stdin, expr+".\n"); err != nil {
		t.Fatalf("eval on %s: %v", vm.Name, err)
	}
	select {
	case a := <-vm.answers:
		if strings.HasPrefix(a, "{eval_error,") {
			t.Fatalf("eval of %q on %s: %s", expr, vm.Name, a)
		}
		return a
	case <-vm.done:
		t.Fatalf("%s exited during eval of %q:\n%s", vm.Name, expr, vm.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("eval of %q on %s: no answer within 60 s", expr, vm.Name)
	}
	return ""
}

// evalInt evaluates an expression whose value is an integer.
func (vm *beamVM) evalInt(t testing.TB, expr string) int {
	t.Helper()
	s := vm.eval(t, expr)
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("eval of %q on %s: %q is not an integer", expr, vm.Name, s)
	}
	return n
}

// alive reports whether the VM still runs.
func (vm *beamVM) alive() bool {
	select {
	case <-vm.done:
		return false
	default:
		return true
	}
}

// stop closes stdin (the VM halts), then kills the VM if it is still
// there after 10 s.
func (vm *beamVM) stop(t testing.TB) {
	_ = vm.stdin.Close()
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
		_ = vm.cmd.Process.Signal(syscall.SIGKILL)
		<-vm.done
		t.Logf("%s did not halt when its stdin closed; killed", vm.Name)
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", vm.Name, vm.Log())
	}
}

type lockedWriter struct{ vm *beamVM }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.vm.mu.Lock()
	defer w.vm.mu.Unlock()
	return w.vm.log.Write(p)
}
