package ranchersim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Sim is a simulated Rancher 1.6 environment (one project). All methods are
// safe for concurrent use.
type Sim struct {
	opts      Options
	log       *slog.Logger
	runtime   Runtime
	faults    *Faults
	schemas   *schemaSet // v2-beta
	schemasV1 *schemaSet
	ctx       context.Context // lifetime of lifecycle work and subscriptions
	cancel    context.CancelFunc
	started   chan struct{} // closed when serving begins; lifecycle waits for it
	startMu   sync.Once
	ready     chan struct{} // closed when Serve listens
	readyOnce sync.Once
	wg        sync.WaitGroup // every goroutine the Sim starts

	mu          sync.Mutex
	projectID   string
	projectName string
	projectUUID string
	created     time.Time
	hosts       map[string]*host
	stacks      map[string]*stack
	services    map[string]*service
	containers  map[string]*container
	nextID      map[string]int64
	ips         *ipPool
	changed     chan struct{} // closed and replaced on every change
	metaVersion string
	busy        int // service ops queued or running, async container work
	bus         eventBus
	requests    map[string]int
	addrs       addresses
	closed      bool
}

// addresses are where the simulator serves, known once it serves.
type addresses struct {
	api      string // base URL, e.g. http://127.0.0.1:34567
	metadata string // host:port
	dns      string // host:port
}

// New builds a simulator from opts. Nothing is served and no lifecycle work
// runs until NewServer, Serve or Handler is called; the fixture's services
// are then brought up to scale.
func New(opts Options) (*Sim, error) {
	fx := &Fixture{}
	if opts.Fixture != nil {
		fx = ptr(*opts.Fixture) // defaults go into a copy
	}
	fx.applyDefaults()
	d, err := fx.durations()
	if err != nil {
		return nil, fmt.Errorf("invalid fixture: %w", err)
	}
	if opts.RemoveDelay == 0 {
		opts.RemoveDelay = d.removeDelay
	}
	if opts.PurgeInterval == 0 {
		opts.PurgeInterval = d.purgeInterval
	}
	opts.Shape = opts.Shape.or(fx.Shape)
	opts = opts.withDefaults()
	ips, err := newIPPool(opts.IPRange)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		opts: opts, log: opts.Logger, runtime: opts.Runtime,
		ctx: ctx, cancel: cancel, started: make(chan struct{}), ready: make(chan struct{}),
		projectID: fx.Project.ID, projectName: fx.Project.Name, projectUUID: newUUID(),
		created: time.Now(),
		hosts:   map[string]*host{}, stacks: map[string]*stack{},
		services: map[string]*service{}, containers: map[string]*container{},
		nextID: map[string]int64{}, ips: ips, changed: make(chan struct{}),
		metaVersion: "0", requests: map[string]int{},
	}
	s.faults = newFaults(s)
	s.schemas, s.schemasV1 = newSchemaSet(false), newSchemaSet(true)
	s.bus.init()
	if err := s.loadFixture(fx); err != nil {
		cancel()
		return nil, err
	}
	s.wg.Add(2)
	go s.publishLoop()
	go s.purgeLoop()
	return s, nil
}

// loadFixture creates hosts, stacks and services (activated).
func (s *Sim) loadFixture(fx *Fixture) error {
	if err := fx.validate(); err != nil {
		return fmt.Errorf("invalid fixture: %w", err)
	}
	s.mu.Lock()
	for _, h := range fx.Hosts {
		id := s.newIDLocked(typeHost)
		n := len(s.hosts) + 1
		s.hosts[id] = &host{id: id, name: h.Name, uuid: newUUID(), labels: h.Labels, state: "active",
			agentIP: fmt.Sprintf("192.168.42.%d", n), created: time.Now()}
	}
	s.mu.Unlock()
	for _, st := range fx.Stacks {
		if _, err := s.CreateStack(st.Name); err != nil {
			return err
		}
		for _, sv := range st.Services {
			sv.StartOnCreate = true
			if _, err := s.CreateService(st.Name, sv); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// start lets lifecycle work run; called once serving begins.
func (s *Sim) start() {
	s.startMu.Do(func() { close(s.started) })
}

// Close stops every container through the runtime (SIGTERM, then SIGKILL
// after the stop timeout), ends subscriptions and lifecycle work, and waits
// for the Sim's goroutines. Servers started by Serve or NewServer are shut
// down by their own owners.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var running []*container
	for _, c := range s.containers {
		if c.removed.IsZero() && c.state != "stopped" && c.state != "error" {
			running = append(running, c)
			c.gen++
			if c.stopHealth != nil {
				c.stopHealth()
			}
		}
	}
	subs := s.bus.snapshot()
	s.mu.Unlock()
	s.cancel()
	for sub := range subs {
		sub.close()
	}
	var wg sync.WaitGroup
	for _, c := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.StopTimeout+5*time.Second)
			defer cancel()
			if err := s.runtime.Stop(ctx, c.id, s.opts.StopTimeout); err != nil {
				s.log.Warn("stopping container at close", "container", c.id, "err", err)
			}
		}()
	}
	wg.Wait()
	s.wg.Wait()
}

// newIDLocked returns the next obfuscated id of a type.
func (s *Sim) newIDLocked(typ string) string {
	n, ok := s.nextID[typ]
	if !ok {
		n = firstDBID[typ]
	}
	s.nextID[typ] = n + 1
	return fmt.Sprintf("%s%d", idPrefix[typ], n)
}

// notifyLocked wakes everyone waiting for a change (WaitSettled, metadata
// long polls) and gives metadata a new version.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
	s.metaVersion = newUUID()
}

// publishLocked records a change of one object: waiters are woken and the
// event bus gets it (at once in exact mode, at the next tick otherwise).
func (s *Sim) publishLocked(typ, id string) {
	s.notifyLocked()
	s.bus.changed(s, objKey{typ, id})
}

// waitChange returns the channel closed at the next change.
func (s *Sim) waitChange() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// sleep waits d or until the Sim closes; false when closed.
func (s *Sim) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// goBusy runs fn in a goroutine that counts as pending lifecycle work.
func (s *Sim) goBusyLocked(fn func(ctx context.Context)) {
	s.busy++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-s.started:
			fn(s.ctx)
		case <-s.ctx.Done():
		}
		s.mu.Lock()
		s.busy--
		s.notifyLocked()
		s.mu.Unlock()
	}()
}

// enqueueLocked adds work to a service's queue; its worker runs the queue
// in order, one op at a time, as Cattle serialises a service's processes.
func (s *Sim) enqueueLocked(svc *service, name string, fn func(ctx context.Context)) {
	s.busy++
	svc.queue = append(svc.queue, op{name: name, fn: fn})
	if svc.running {
		return
	}
	svc.running = true
	s.wg.Add(1)
	go s.serviceWorker(svc)
}

func (s *Sim) serviceWorker(svc *service) {
	defer s.wg.Done()
	select {
	case <-s.started:
	case <-s.ctx.Done():
	}
	for {
		s.mu.Lock()
		if len(svc.queue) == 0 {
			svc.running = false
			s.mu.Unlock()
			return
		}
		o := svc.queue[0]
		svc.queue = svc.queue[1:]
		s.mu.Unlock()
		if s.ctx.Err() == nil {
			s.log.Debug("service op", "service", svc.id, "op", o.name)
			o.fn(s.ctx)
		}
		s.mu.Lock()
		s.busy--
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// settledLocked reports whether no lifecycle work is pending or running:
// no queued op, no object in a transitioning state, no health state moving.
func (s *Sim) settledLocked() bool {
	if s.busy > 0 {
		return false
	}
	for _, svc := range s.services {
		if transitioningStates[svc.state] {
			return false
		}
	}
	for _, st := range s.stacks {
		if transitioningStates[st.state] {
			return false
		}
	}
	for _, c := range s.containers {
		if transitioningStates[c.state] {
			return false
		}
		if c.state == "running" && transitionalHealth[c.healthState] {
			return false
		}
	}
	return true
}

// WaitSettled blocks until no lifecycle work is pending or running (every
// container has reached a resting state and health state), or ctx is done.
// A container that keeps failing its start or health check keeps the Sim
// busy, so pass a ctx with a deadline.
func (s *Sim) WaitSettled(ctx context.Context) error {
	s.start()
	for {
		s.mu.Lock()
		ok := s.settledLocked()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the simulator to settle: %w", ctx.Err())
		}
	}
}
