package ranchersim

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults injects failures into a running simulator. All methods are safe
// for concurrent use; durations start when the method is called.
type Faults struct {
	s *Sim

	mu            sync.Mutex
	statusCode    int
	statusUntil   time.Time
	hangUntil     time.Time
	eventDelay    time.Duration
	dropEvents    bool
	metadataUntil time.Time
	latency       *Latency // nil: Options.Latency
}

func newFaults(s *Sim) *Faults { return &Faults{s: s} }

// Faults returns the simulator's fault injector.
func (s *Sim) Faults() *Faults { return s.faults }

// APIStatus makes every API request (not the websocket) answer code, with
// Cattle's error body, for d.
func (f *Faults) APIStatus(code int, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCode, f.statusUntil = code, time.Now().Add(d)
}

// APIHang makes API requests hang for d (or until the client gives up or
// the simulator closes), then answer normally.
func (f *Faults) APIHang(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hangUntil = time.Now().Add(d)
}

// DropWebsockets closes every open subscription now, without a close
// frame. New subscriptions are accepted.
func (f *Faults) DropWebsockets() {
	f.s.mu.Lock()
	subs := f.s.bus.snapshot()
	f.s.mu.Unlock()
	for sub := range subs {
		sub.close()
	}
}

// DelayEvents holds every resource.change event for d before delivery
// (0 turns it off).
func (f *Faults) DelayEvents(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventDelay = d
}

// DropEvents discards resource.change events while on (pings still flow).
func (f *Faults) DropEvents(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropEvents = on
}

// APILatency replaces the latency model of API answers (Options.Latency)
// until Clear or the next call: a Cattle that turns slow, or fast again,
// while clients run.
func (f *Faults) APILatency(l Latency) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l.Fixed, l.PerObject = max(l.Fixed, 0), max(l.PerObject, 0)
	f.latency = &l
}

// apiLatency is the latency model in force.
func (f *Faults) apiLatency() Latency {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.latency != nil {
		return *f.latency
	}
	return f.s.opts.Latency
}

// MetadataDown makes rancher-metadata answer 503 for d.
func (f *Faults) MetadataDown(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metadataUntil = time.Now().Add(d)
}

// CutOffHost cuts a host off the network (or restores it): its containers
// fail every health check, and a runtime that is an Isolator isolates
// each of them. Rancher itself does not notice: states stay as they are
// until the health checks turn the containers unhealthy.
func (f *Faults) CutOffHost(hostID string, cut bool) {
	s := f.s
	s.mu.Lock()
	h := s.hosts[hostID]
	if h == nil || h.cut == cut {
		s.mu.Unlock()
		return
	}
	h.cut = cut
	var ids []string
	for _, c := range s.containers {
		if c.hostID == hostID && c.state != "removed" {
			ids = append(ids, c.id)
		}
	}
	s.mu.Unlock()
	iso, ok := s.runtime.(Isolator)
	if !ok {
		return
	}
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		if err := iso.Isolate(ctx, id, cut); err != nil {
			s.log.Warn("isolating container", "container", id, "err", err)
		}
		cancel()
	}
}

// Clear ends every fault: API (latency back to Options.Latency), events,
// metadata, and cut-off hosts.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.statusCode, f.statusUntil, f.hangUntil = 0, time.Time{}, time.Time{}
	f.eventDelay, f.dropEvents, f.metadataUntil = 0, false, time.Time{}
	f.latency = nil
	f.mu.Unlock()
	f.s.mu.Lock()
	var cut []string
	for id, h := range f.s.hosts {
		if h.cut {
			cut = append(cut, id)
		}
	}
	f.s.mu.Unlock()
	for _, id := range cut {
		f.CutOffHost(id, false)
	}
}

// interceptAPI applies APIHang and APIStatus; true when it answered.
func (f *Faults) interceptAPI(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	hang := time.Until(f.hangUntil)
	f.mu.Unlock()
	if hang > 0 {
		t := time.NewTimer(hang)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-f.s.ctx.Done():
		}
		t.Stop()
	}
	f.mu.Lock()
	code, active := f.statusCode, time.Now().Before(f.statusUntil)
	f.mu.Unlock()
	if !active {
		return false
	}
	writeError(w, code, strings.ReplaceAll(http.StatusText(code), " ", ""), "injected fault: status "+strconv.Itoa(code))
	return true
}

// eventFaults returns whether events are dropped and their delay.
func (f *Faults) eventFaults() (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropEvents, f.eventDelay
}

// metadataDown reports whether metadata is down now.
func (f *Faults) metadataDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Before(f.metadataUntil)
}
