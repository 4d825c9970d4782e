package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// maxLogBytes bounds the in-memory copy of a process's output; the log
// file, when there is one, keeps everything.
const maxLogBytes = 4 << 20

// Process is a child process whose output is kept (the last maxLogBytes in
// memory, everything in its log file when it has one).
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *logBuffer
	file *os.File

	mu  sync.Mutex
	err error // Wait's result, once done is closed
}

// StartProcess starts cmd in its own process group, with stdout and stderr
// captured, and also written to logPath when it is not empty.
func StartProcess(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	p := &Process{name: name, cmd: cmd, done: make(chan struct{}), log: &logBuffer{}}
	var w io.Writer = p.log
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, fmt.Errorf("creating the log of %s: %w", name, err)
		}
		p.file = f
		w = io.MultiWriter(p.log, f)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		p.closeFile()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		p.closeFile()
		close(p.done)
	}()
	return p, nil
}

func (p *Process) closeFile() {
	if p.file != nil {
		_ = p.file.Close()
	}
}

// Name is the name given at start.
func (p *Process) Name() string { return p.name }

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and its Wait error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Log returns the captured output (its last maxLogBytes).
func (p *Process) Log() string { return p.log.String() }

// Signal sends sig to the process (not its group).
func (p *Process) Signal(sig syscall.Signal) error {
	if exited, _ := p.Exited(); exited {
		return nil
	}
	if err := syscall.Kill(p.PID(), sig); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("signalling %s: %w", p.name, err)
	}
	return nil
}

// Stop sends SIGTERM and waits up to grace for the process to exit; then
// it kills its whole process group. It returns how long the exit took and
// whether the process exited on its own.
func (p *Process) Stop(grace time.Duration) (time.Duration, bool) {
	start := time.Now()
	if exited, _ := p.Exited(); exited {
		return 0, true
	}
	_ = p.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return time.Since(start), true
	case <-t.C:
	}
	p.Kill()
	return time.Since(start), false
}

// Kill sends SIGKILL to the process group and waits for the process.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	_ = syscall.Kill(p.PID(), syscall.SIGKILL)
	<-p.done
}

// logBuffer keeps the last maxLogBytes written to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - maxLogBytes; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
