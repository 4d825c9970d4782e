package announce

import (
	"errors"
	"fmt"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Announcement events, as agents send them.
const (
	EventUp       = mesh.EventUp
	EventStopping = mesh.EventStopping
)

// Defaults of Plan. Each carries the reason for its value.
const (
	// DefaultUpFirst: the agent announces right after answering the
	// probe, and its announcement takes a millisecond or two to arrive;
	// by then a Cattle that records the deciding probe at once has done
	// so. Every millisecond here is a millisecond of every join.
	DefaultUpFirst = 2 * time.Millisecond
	// DefaultUpThen is the look for a Cattle that took a little longer
	// (a busy server, the health checker's report still on its way).
	DefaultUpThen = 15 * time.Millisecond
	// DefaultSecond is the last look for either event: Cattle under
	// load, or a read that failed.
	DefaultSecond = 60 * time.Millisecond
	// DefaultRate and DefaultBurst bound reads: a cycle needs two reads
	// within 60 ms, a storm must not cost Rancher more than a small steady
	// flow of requests.
	DefaultRate  = 20.0
	DefaultBurst = 5
	// DefaultMaxPending bounds the IPs followed at once: a whole 2,000-node
	// environment restarting, twice over.
	DefaultMaxPending = 4096
	// DefaultMaxBatch bounds the IPs of one read, so that one request (a
	// filter with that many values) stays small.
	DefaultMaxBatch = 100
)

// Plan says when an announced container is read and how reads are
// bounded. The zero value of a field means its default.
type Plan struct {
	// Up and Stopping are the offsets after the latest announcement at
	// which reads are due, in increasing order.
	Up, Stopping []time.Duration
	// Rate (reads per second) and Burst are the token bucket of reads.
	Rate  float64
	Burst int
	// MaxPending bounds the IPs followed at once; MaxBatch the IPs of one
	// read.
	MaxPending, MaxBatch int
}

// DefaultPlan returns the plan the package doc describes.
func DefaultPlan() Plan {
	return Plan{
		Up:         []time.Duration{DefaultUpFirst, DefaultUpThen, DefaultSecond},
		Stopping:   []time.Duration{0, DefaultSecond},
		Rate:       DefaultRate,
		Burst:      DefaultBurst,
		MaxPending: DefaultMaxPending,
		MaxBatch:   DefaultMaxBatch,
	}
}

// withDefaults fills in the zero fields and checks the offsets.
func (p Plan) withDefaults() (Plan, error) {
	d := DefaultPlan()
	if p.Up == nil {
		p.Up = d.Up
	}
	if p.Stopping == nil {
		p.Stopping = d.Stopping
	}
	if p.Rate <= 0 {
		p.Rate = d.Rate
	}
	if p.Burst <= 0 {
		p.Burst = d.Burst
	}
	if p.MaxPending <= 0 {
		p.MaxPending = d.MaxPending
	}
	if p.MaxBatch <= 0 {
		p.MaxBatch = d.MaxBatch
	}
	var errs []error
	for _, e := range []struct {
		name string
		offs []time.Duration
	}{{EventUp, p.Up}, {EventStopping, p.Stopping}} {
		name, offs := e.name, e.offs
		if len(offs) == 0 {
			errs = append(errs, fmt.Errorf("plan: %s needs at least one read offset", name))
		}
		for i, o := range offs {
			if o < 0 || (i > 0 && o < offs[i-1]) {
				errs = append(errs, fmt.Errorf("plan: %s offsets must be non-negative and increasing, got %v", name, offs))
				break
			}
		}
	}
	return p, errors.Join(errs...)
}

// offsets returns the read offsets of an event.
func (p Plan) offsets(event string) []time.Duration {
	if event == EventStopping {
		return p.Stopping
	}
	return p.Up
}
