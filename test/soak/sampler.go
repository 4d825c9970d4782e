package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/test/harness"
)

// simReader is what the sampler needs of the simulator.
type simReader interface {
	StateView(ctx context.Context) (harness.StateView, error)
	WaitSettled(ctx context.Context, timeout time.Duration) error
}

// statusFunc reads one agent's status by IP.
type statusFunc func(ctx context.Context, ip string) (nodeapi.Status, error)

// samplerCounts are the sampler's totals.
type samplerCounts struct {
	rounds, reads, readErrors, truthErrors, checks, tracked int
}

// sampler reads rounds (truth, statuses, truth) every period, judges each
// with the keeper and publishes the latest round.
type sampler struct {
	sim        simReader
	topo       topology
	readStatus statusFunc
	period     time.Duration
	parallel   int
	excused    func(identity) bool
	onLosses   func([]loss)
	keeper     *keeper

	mu     sync.Mutex
	last   *round
	notify chan struct{} // closed when a round is published
	counts samplerCounts
}

func newSampler(sim simReader, topo topology, read statusFunc, period time.Duration,
	excused func(identity) bool, onLosses func([]loss)) *sampler {
	return &sampler{sim: sim, topo: topo, readStatus: read, period: period, parallel: 16,
		excused: excused, onLosses: onLosses, keeper: newKeeper(), notify: make(chan struct{})}
}

// settledProbe is how long a round waits for the simulator to be settled:
// a probe, not a wait.
const settledProbe = time.Millisecond

// run samples until ctx is done.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.period)
	defer t.Stop()
	for n := 1; ctx.Err() == nil; n++ {
		r, err := s.sample(ctx, n)
		if err != nil {
			s.mu.Lock()
			s.counts.truthErrors++
			s.mu.Unlock()
		} else {
			if losses := s.keeper.observe(r, s.excused); len(losses) > 0 {
				s.onLosses(losses)
			}
			s.publish(r)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// sample takes one round.
func (s *sampler) sample(ctx context.Context, n int) (*round, error) {
	r := &round{n: n, start: time.Now()}
	before, err := s.readTruth(ctx)
	if err != nil {
		return nil, err
	}
	r.before = before
	r.statuses = s.readStatuses(ctx, before)
	r.settled = s.sim.WaitSettled(ctx, settledProbe) == nil
	if r.after, err = s.readTruth(ctx); err != nil {
		return nil, err
	}
	r.end = time.Now()
	return r, nil
}

func (s *sampler) readTruth(ctx context.Context) (truth, error) {
	st, err := s.sim.StateView(ctx)
	if err != nil {
		return truth{}, fmt.Errorf("reading the simulator's state: %w", err)
	}
	return truthFromState(st, s.topo, time.Now()), nil
}

// readStatuses reads every member's status, parallel at most s.parallel
// at a time.
func (s *sampler) readStatuses(ctx context.Context, t truth) map[string]status {
	out := make(map[string]status, len(t.members))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.parallel)
	errs := 0
	for id, m := range t.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			st, err := s.readStatus(ctx, m.ip)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
			}
			out[id] = status{node: st.Node, connected: st.Connected, err: err}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	s.counts.reads += len(t.members)
	s.counts.readErrors += errs
	s.mu.Unlock()
	return out
}

func (s *sampler) publish(r *round) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = r
	s.counts.rounds++
	s.counts.checks = s.keeper.checks
	s.counts.tracked = len(s.keeper.required)
	close(s.notify)
	s.notify = make(chan struct{})
}

// latest returns the last round (nil before the first).
func (s *sampler) latest() *round {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// totals returns the counts so far.
func (s *sampler) totals() samplerCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// nextAfter waits for a round that started after t.
func (s *sampler) nextAfter(ctx context.Context, t time.Time) (*round, error) {
	for {
		s.mu.Lock()
		last, ch := s.last, s.notify
		s.mu.Unlock()
		if last != nil && last.start.After(t) {
			return last, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
