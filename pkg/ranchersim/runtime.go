package ranchersim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ContainerSpec is what a runtime needs to bring up one container.
type ContainerSpec struct {
	ID, Name, IP, Stack, Service, HostID string
	CreateIndex                          int64
	Environment, Labels                  map[string]string
	// MetadataURL is the simulator's rancher-metadata base URL
	// (e.g. http://127.0.0.1:8081), "" when metadata is not served.
	MetadataURL string
	// DNSServer is the simulator's DNS address (host:port), "" when none.
	DNSServer string
}

// Runtime starts and stops what a container stands for.
type Runtime interface {
	// Start brings up what the container stands for and returns once it is
	// started. exited must be called (once) if it dies by itself; the
	// simulator then treats it as a container death (Docker event).
	Start(ctx context.Context, c ContainerSpec, exited func(err error)) error
	// Stop sends SIGTERM (or equivalent) and, after timeout, SIGKILL;
	// returns when it is gone. Stopping an unknown id is not an error.
	Stop(ctx context.Context, id string, timeout time.Duration) error
}

// Isolator is optionally implemented by a runtime that can cut a
// container off the network (CutOffHost).
type Isolator interface {
	Isolate(ctx context.Context, id string, cut bool) error
}

// NoopRuntime runs nothing: containers exist only in the simulator.
type NoopRuntime struct{}

// Start does nothing.
func (NoopRuntime) Start(context.Context, ContainerSpec, func(error)) error { return nil }

// Stop does nothing.
func (NoopRuntime) Stop(context.Context, string, time.Duration) error { return nil }

func isNoop(r Runtime) bool {
	switch r.(type) {
	case NoopRuntime, *NoopRuntime:
		return true
	}
	return false
}

// specLocked builds the runtime's view of a container.
func (s *Sim) specLocked(c *container) ContainerSpec {
	svc := s.services[c.serviceID]
	st := s.stacks[c.stackID]
	spec := ContainerSpec{
		ID: c.id, Name: c.name, IP: c.ip, HostID: c.hostID, CreateIndex: c.createIndex,
		Labels: s.labelsLocked(c), Environment: map[string]string{},
	}
	if st != nil {
		spec.Stack = st.name
	}
	if svc != nil {
		spec.Service = svc.name
		for k, v := range svc.env {
			spec.Environment[k] = v
		}
	}
	if s.addrs.metadata != "" {
		spec.MetadataURL = "http://" + s.addrs.metadata
	}
	spec.DNSServer = s.addrs.dns
	return spec
}

// ExecRuntime runs Command (argv) per container as a child process in its
// own process group, with env CONTAINER_ID, CONTAINER_NAME, CONTAINER_IP,
// STACK_NAME, SERVICE_NAME, CREATE_INDEX, HOST_ID, RANCHER_METADATA_URL,
// RANCHER_DNS plus the service's environment. The process stays in the
// foreground for the container's lifetime; its exit is the container's
// death. Stop sends SIGTERM to the process and SIGKILL to the group after
// the timeout; whatever is left in the group when the process exits is
// killed too, as Docker does when PID 1 ends. IsolateCommand (optional
// argv) is run with the extra arguments "<ip> on|off".
//
// Output lines go to Logger (nil: discarded) with the container's id.
type ExecRuntime struct {
	Command        []string
	IsolateCommand []string
	Dir            string
	Logger         *slog.Logger

	mu    sync.Mutex
	procs map[string]*execProc
}

// execProc is one running child.
type execProc struct {
	cmd  *exec.Cmd
	ip   string
	done chan struct{} // closed when the child has exited
}

// Start runs Command for the container.
func (r *ExecRuntime) Start(ctx context.Context, c ContainerSpec, exited func(error)) error {
	if len(r.Command) == 0 {
		return errors.New("exec runtime: no command")
	}
	cmd := exec.Command(r.Command[0], r.Command[1:]...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), execEnv(c)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("exec runtime: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", r.Command[0], err)
	}
	p := &execProc{cmd: cmd, ip: c.IP, done: make(chan struct{})}
	r.mu.Lock()
	if r.procs == nil {
		r.procs = map[string]*execProc{}
	}
	r.procs[c.ID] = p
	r.mu.Unlock()
	go r.forward(c.ID, out)
	go func() {
		err := cmd.Wait()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the rest of the group
		close(p.done)
		r.mu.Lock()
		stopping := r.procs[c.ID] != p
		if !stopping {
			delete(r.procs, c.ID)
		}
		r.mu.Unlock()
		if !stopping {
			exited(err)
		}
	}()
	return nil
}

// execEnv returns the container's environment variables.
func execEnv(c ContainerSpec) []string {
	env := []string{
		"CONTAINER_ID=" + c.ID, "CONTAINER_NAME=" + c.Name, "CONTAINER_IP=" + c.IP,
		"STACK_NAME=" + c.Stack, "SERVICE_NAME=" + c.Service,
		"CREATE_INDEX=" + strconv.FormatInt(c.CreateIndex, 10), "HOST_ID=" + c.HostID,
		"RANCHER_METADATA_URL=" + c.MetadataURL, "RANCHER_DNS=" + c.DNSServer,
	}
	for k, v := range c.Environment {
		env = append(env, k+"="+v)
	}
	return env
}

func (r *ExecRuntime) forward(id string, out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if r.Logger != nil {
			r.Logger.Info("container output", "container", id, "line", sc.Text())
		}
	}
}

// Stop sends SIGTERM, waits up to timeout, then SIGKILLs the group.
func (r *ExecRuntime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	p := r.procs[id]
	delete(r.procs, id) // its exit is not a death
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	pid := p.cmd.Process.Pid
	if timeout > 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-p.done:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping container %s: %w", id, ctx.Err())
	}
}

// Isolate runs IsolateCommand with "<ip> on|off"; without IsolateCommand it
// does nothing.
func (r *ExecRuntime) Isolate(ctx context.Context, id string, cut bool) error {
	if len(r.IsolateCommand) == 0 {
		return nil
	}
	r.mu.Lock()
	p := r.procs[id]
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	arg := "off"
	if cut {
		arg = "on"
	}
	args := append(append([]string{}, r.IsolateCommand[1:]...), p.ip, arg)
	cmd := exec.CommandContext(ctx, r.IsolateCommand[0], args...)
	cmd.Dir = r.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("isolating %s: %w: %s", id, err, out)
	}
	return nil
}
