package main

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drover-mesh/drover/test/harness"
)

// observerSource is the Erlang observer: a hidden node that starts a
// watcher inside every VM; the watcher reports nodeup/nodedown (from
// net_kernel:monitor_nodes) with the VM's own clock.
//
//go:embed bench_observer.erl
var observerSource []byte

// nodeView is what the observer knows of one VM.
type nodeView struct {
	readyAt time.Time            // the hello application was running
	peers   map[string]bool      // nodes() now
	upAt    map[string]time.Time // last nodeup of each peer
	downAt  map[string]time.Time // last nodedown of each peer
}

// observer runs the observer node and keeps every VM's view.
type observer struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan struct{} // closed when the observer has exited

	mu      sync.Mutex
	nodes   map[string]*nodeView
	downs   []downEvent // every nodedown seen, in arrival order
	changed chan struct{}
	fails   []string
}

// downEvent is one nodedown: node lost peer at the VM's instant at.
type downEvent struct {
	node, peer string
	at         time.Time
}

// startObserver compiles and starts the observer in its own namespace
// host (so that its epmd dies with the namespace).
func startObserver(ctx context.Context, n *harness.Net, dir string) (*observer, error) {
	src := filepath.Join(dir, "bench_observer.erl")
	if err := os.WriteFile(src, observerSource, 0o644); err != nil {
		return nil, fmt.Errorf("writing the observer: %w", err)
	}
	if _, err := harness.Run(ctx, dir, nil, "erlc", "-o", dir, src); err != nil {
		return nil, fmt.Errorf("compiling the observer: %w", err)
	}
	ns := harness.NamespaceName(observerIP)
	if _, err := n.Do(ctx, "add", ns, observerIP); err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "erl", "-name", "bench_obs@"+observerIP, "-hidden",
		"-noshell", "-setcookie", "bench-observer", "-pa", dir, "-eval", "bench_observer:main()")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("observer stdin: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("observer stdout: %w", err)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the observer: %w", err)
	}
	o := &observer{cmd: cmd, in: in, done: make(chan struct{}), nodes: map[string]*nodeView{}, changed: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		o.read(out, ready)
		_ = cmd.Wait()
		close(o.done)
	}()
	select {
	case <-ready:
		return o, nil
	case <-time.After(30 * time.Second):
	case <-o.done:
	}
	o.close()
	return nil, errors.New("the observer did not start")
}

// read parses the observer's lines.
func (o *observer) read(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	once := sync.Once{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "observer" && f[1] == "ready" {
			once.Do(func() { close(ready) })
			continue
		}
		o.apply(f)
	}
}

func usTime(s string) time.Time {
	us, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMicro(us)
}

// apply records one event line.
func (o *observer) apply(f []string) {
	if len(f) < 2 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if f[0] == "fail" || f[0] == "error" {
		o.fails = append(o.fails, strings.Join(f, " "))
		return
	}
	v := o.nodes[f[1]]
	if v == nil {
		v = &nodeView{peers: map[string]bool{}, upAt: map[string]time.Time{}, downAt: map[string]time.Time{}}
		o.nodes[f[1]] = v
	}
	switch {
	case f[0] == "init" && len(f) >= 3:
		if len(f) >= 4 {
			for _, p := range strings.Split(f[3], ",") {
				v.peers[p] = true
			}
		}
	case f[0] == "ready" && len(f) == 3:
		v.readyAt = usTime(f[2])
	case f[0] == "up" && len(f) == 4:
		v.peers[f[2]] = true
		v.upAt[f[2]] = usTime(f[3])
	case f[0] == "down" && len(f) == 4:
		delete(v.peers, f[2])
		v.downAt[f[2]] = usTime(f[3])
		o.downs = append(o.downs, downEvent{node: f[1], peer: f[2], at: usTime(f[3])})
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// watch asks the observer to watch a node.
func (o *observer) watch(node, cookie string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.in, "watch %s %s\n", node, cookie)
}

// forget drops what is known of a node (before its IP is reused).
func (o *observer) forget(node string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.nodes, node)
}

// view returns a copy of one node's view.
func (o *observer) view(node string) (nodeView, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.nodes[node]
	if !ok {
		return nodeView{}, false
	}
	c := nodeView{readyAt: v.readyAt, peers: map[string]bool{}, upAt: map[string]time.Time{}, downAt: map[string]time.Time{}}
	for k := range v.peers {
		c.peers[k] = true
	}
	for k, t := range v.upAt {
		c.upAt[k] = t
	}
	for k, t := range v.downAt {
		c.downAt[k] = t
	}
	return c, true
}

// wait blocks until cond holds, the timeout passes or ctx is done.
func (o *observer) wait(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		ch := o.changed
		o.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		case <-ctx.Done():
			return false
		}
	}
}

// downCount is the number of nodedown events seen so far: a mark for
// downsSince.
func (o *observer) downCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.downs)
}

// downsSince returns the nodedown events seen after mark.
func (o *observer) downsSince(mark int) []downEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]downEvent(nil), o.downs[min(mark, len(o.downs)):]...)
}

// failures returns the observer's failure lines so far.
func (o *observer) failures() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.fails...)
}

func (o *observer) close() {
	o.mu.Lock()
	_ = o.in.Close() // the observer halts at the end of its input
	o.mu.Unlock()
	select {
	case <-o.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL)
		<-o.done
	}
}
