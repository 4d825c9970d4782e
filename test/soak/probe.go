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

// probeSource is the BEAM probe (a hidden Erlang node).
//
//go:embed soak_probe.erl
var probeSource []byte

// probeTimeout bounds one probe of every VM.
const probeTimeout = 10 * time.Second

// probe runs soak_probe in its own namespace host and asks it for the
// process counts of VMs.
type probe struct {
	net  *harness.Net
	ns   string
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan struct{}

	mu    sync.Mutex // one probe at a time
	seq   int
	lines chan string
}

// startProbe compiles and starts the probe node at ip (a namespace host
// it creates), with the hello releases' cookie.
func startProbe(ctx context.Context, n *harness.Net, dir, ip string) (*probe, error) {
	src := filepath.Join(dir, "soak_probe.erl")
	if err := os.WriteFile(src, probeSource, 0o644); err != nil {
		return nil, fmt.Errorf("writing the probe: %w", err)
	}
	if _, err := harness.Run(ctx, dir, nil, "erlc", "-o", dir, src); err != nil {
		return nil, fmt.Errorf("compiling the probe: %w", err)
	}
	p := &probe{net: n, ns: harness.NamespaceName(ip), done: make(chan struct{}), lines: make(chan string, 64)}
	if _, err := n.Do(ctx, "add", p.ns, ip); err != nil {
		return nil, err
	}
	p.cmd = exec.Command("ip", "netns", "exec", p.ns, "erl", "-name", "soak_probe@"+ip, "-hidden",
		"-noshell", "-setcookie", harness.DefaultCookie, "-pa", dir, "-eval", "soak_probe:main()")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		p.deleteHost()
		return nil, fmt.Errorf("probe stdin: %w", err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		p.deleteHost()
		return nil, fmt.Errorf("probe stdout: %w", err)
	}
	if err := p.cmd.Start(); err != nil {
		p.deleteHost()
		return nil, fmt.Errorf("starting the probe: %w", err)
	}
	go p.read(out)
	select {
	case line := <-p.lines:
		if strings.HasPrefix(line, "probe ready") {
			return p, nil
		}
		p.close()
		return nil, fmt.Errorf("the probe said %q", line)
	case <-time.After(60 * time.Second):
	case <-p.done:
	}
	p.close()
	return nil, errors.New("the probe did not start within 60 s")
}

func (p *probe) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.lines <- sc.Text()
	}
	_ = p.cmd.Wait()
}

// counts returns the process count of every node it could read.
func (p *probe) counts(ctx context.Context, nodes []string) (map[string]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	if len(nodes) == 0 {
		return out, nil
	}
	p.seq++
	seq := strconv.Itoa(p.seq)
	if _, err := fmt.Fprintf(p.in, "probe %s %s\n", seq, strings.Join(nodes, " ")); err != nil {
		return nil, fmt.Errorf("asking the probe: %w", err)
	}
	t := time.NewTimer(probeTimeout)
	defer t.Stop()
	for {
		select {
		case line := <-p.lines:
			f := strings.Fields(line)
			switch {
			case len(f) < 2 || f[1] != seq: // an answer to an earlier probe that gave up
			case f[0] == "done":
				return out, nil
			case f[0] == "count" && len(f) == 4:
				if n, err := strconv.Atoi(f[3]); err == nil {
					out[f[2]] = n
				}
			}
		case <-p.done:
			return nil, errors.New("the probe exited")
		case <-t.C:
			return nil, errors.New("the probe did not answer within 10 s")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// close stops the probe and deletes its host.
func (p *probe) close() {
	if p.cmd != nil && p.cmd.Process != nil {
		_, _ = fmt.Fprintln(p.in, "quit")
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	p.deleteHost()
}

func (p *probe) deleteHost() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, _ = p.net.Do(ctx, "del", p.ns)
}
