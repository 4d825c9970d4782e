package main

import (
	"context"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// benchRuntime wraps the exec runtime: it records when each container was
// started and when it was sent SIGTERM (Stop), lets the benchmark change a
// container's environment before it starts (announcements off, a joiner
// that does not resolve the members), and tells the observer about it.
type benchRuntime struct {
	inner *ranchersim.ExecRuntime

	mu       sync.Mutex
	metadata string // host:port of this run's rancher-metadata
	dns      string // host:port of this run's DNS
	stopAt   map[string]time.Time
	envHook  func(c *ranchersim.ContainerSpec)
	onStart  func(stack, ip string)
	startErr map[string]error
}

func newBenchRuntime(inner *ranchersim.ExecRuntime) *benchRuntime {
	return &benchRuntime{inner: inner, stopAt: map[string]time.Time{}, startErr: map[string]error{}}
}

// setEnvHook sets the function that edits each new container's spec.
func (r *benchRuntime) setEnvHook(fn func(c *ranchersim.ContainerSpec)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.envHook = fn
}

// setServices tells where the containers' metadata and DNS are (the
// simulator serves them on the benchmark's own sockets, so it does not
// know): hack/sim-node.sh puts them behind 169.254.169.250.
func (r *benchRuntime) setServices(metadata, dns string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metadata, r.dns = metadata, dns
}

// Start implements ranchersim.Runtime.
func (r *benchRuntime) Start(ctx context.Context, c ranchersim.ContainerSpec, exited func(error)) error {
	r.mu.Lock()
	hook, onStart := r.envHook, r.onStart
	c.MetadataURL, c.DNSServer = "http://"+r.metadata, r.dns
	r.mu.Unlock()
	env := make(map[string]string, len(c.Environment))
	for k, v := range c.Environment {
		env[k] = v
	}
	c.Environment = env
	if hook != nil {
		hook(&c)
	}
	err := r.inner.Start(ctx, c, exited)
	if err == nil && onStart != nil {
		onStart(c.Stack, c.IP)
	}
	return err
}

// Stop implements ranchersim.Runtime: it records the instant SIGTERM is
// sent.
func (r *benchRuntime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	if _, ok := r.stopAt[id]; !ok {
		r.stopAt[id] = time.Now()
	}
	r.mu.Unlock()
	return r.inner.Stop(ctx, id, timeout)
}

// stoppedAt returns when the container was first sent SIGTERM.
func (r *benchRuntime) stoppedAt(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.stopAt[id]
	return t, ok
}

// ctrRecord is what the tracker knows of one container.
type ctrRecord struct {
	view      ranchersim.ContainerView
	stack     string
	runningAt time.Time // first time it was seen running
	memberAt  time.Time // first time running with a member health state
}

// tracker follows the simulator's container changes with their instants.
type tracker struct {
	mu      sync.Mutex
	ctrs    map[string]*ctrRecord
	changed chan struct{}
}

func newTracker() *tracker {
	return &tracker{ctrs: map[string]*ctrRecord{}, changed: make(chan struct{})}
}

// memberHealth is the default membership rule's health states (and the
// DNS recipe's: Rancher DNS answers these).
func memberHealth(h string) bool {
	return h == "" || h == "healthy" || h == "updating-healthy"
}

// observe is the simulator's WatchContainers callback.
func (t *tracker) observe(cc ranchersim.ContainerChange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.ctrs[cc.Container.ID]
	if r == nil {
		r = &ctrRecord{stack: cc.Stack}
		t.ctrs[cc.Container.ID] = r
	}
	r.view = cc.Container
	if cc.Container.State == "running" {
		if r.runningAt.IsZero() {
			r.runningAt = cc.At
		}
		if r.memberAt.IsZero() && memberHealth(cc.Container.HealthState) {
			r.memberAt = cc.At
		}
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// snapshot returns copies of the records of a stack's containers.
func (t *tracker) snapshot(stack string) map[string]ctrRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]ctrRecord{}
	for id, r := range t.ctrs {
		if r.stack == stack {
			out[id] = *r
		}
	}
	return out
}

// wait blocks until cond holds over the stack's records, or the timeout.
func (t *tracker) wait(ctx context.Context, stack string, timeout time.Duration, cond func(map[string]ctrRecord) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		ch := t.changed
		t.mu.Unlock()
		if cond(t.snapshot(stack)) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// members returns the IPs of a stack's current members by id.
func members(recs map[string]ctrRecord) map[string]string {
	out := map[string]string{}
	for id, r := range recs {
		if r.view.State == "running" && memberHealth(r.view.HealthState) {
			out[id] = r.view.IP
		}
	}
	return out
}

// live reports whether a container still exists in a non-final state.
func live(r ctrRecord) bool {
	switch r.view.State {
	case "removed", "purged", "stopped", "error":
		return false
	}
	return true
}
