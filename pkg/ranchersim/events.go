package ranchersim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// This file is the websocket event stream (rancher-api.md §4): subscribe
// with eventNames, a JSON ping event at once and every 5 s, one text frame
// per resource.change carrying the resource as GET renders it, a read loop
// on every connection, and Cattle-like coalescing or exact delivery.

// eventBus holds subscribers and, in Cattle mode, the changed objects of
// the current tick. Guarded by Sim.mu.
type eventBus struct {
	subs    map[*subscriber]struct{}
	pending map[objKey]struct{}
}

func (b *eventBus) init() {
	b.subs = map[*subscriber]struct{}{}
	b.pending = map[objKey]struct{}{}
}

// changed records a change; with s.mu held.
func (b *eventBus) changed(s *Sim, k objKey) {
	if len(b.subs) == 0 {
		return // no replay: nobody hears what happens while unsubscribed
	}
	if s.opts.EventMode != EventsExact {
		b.pending[k] = struct{}{}
		return
	}
	for sub := range b.subs {
		if sub.wantsChanges {
			if ev := s.changeEventLocked(sub.urls, k); ev != nil {
				sub.enqueue(s.faults, ev)
			}
		}
	}
}

func (b *eventBus) snapshot() map[*subscriber]struct{} {
	out := make(map[*subscriber]struct{}, len(b.subs))
	for k := range b.subs {
		out[k] = struct{}{}
	}
	return out
}

// changeEventLocked renders a resource.change event, or nil when Cattle
// would drop it (the object cannot be loaded, or it is being purged:
// removed is set but the state is not "removed").
func (s *Sim) changeEventLocked(u urls, k objKey) []byte {
	res := s.renderLocked(u, k.typ, k.id)
	if res == nil || (res["removed"] != nil && res["state"] != "removed") {
		return nil
	}
	ev, _ := json.Marshal(map[string]any{
		"id": newUUID(), "name": "resource.change", "resourceType": u.apiType(k.typ), "resourceId": u.id(k.typ, k.id),
		"time": time.Now().UnixMilli(), "data": map[string]any{"resource": res},
	})
	return ev
}

// pingEvent is Cattle's Ping event (framework/event/Ping.java).
// UNCONFIRMED: the exact set of fields in ping frames.
func pingEvent() []byte {
	ev, _ := json.Marshal(map[string]any{
		"id": newUUID(), "name": "ping", "resourceId": nil, "resourceType": nil,
		"time": time.Now().UnixMilli(), "data": map[string]any{"options": map[string]any{}, "resources": []any{}},
	})
	return ev
}

// publishLoop publishes the objects changed during each Tick, rendered at
// send time, in map order (no order across objects).
func (s *Sim) publishLoop() {
	defer s.wg.Done()
	if s.opts.EventMode == EventsExact {
		return
	}
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.FlushEvents()
	}
}

// FlushEvents publishes the changes collected for the current Cattle-mode
// tick now, as a tick would (a no-op in exact mode). Tests with a long
// Tick use it to see coalescing without depending on timing.
func (s *Sim) FlushEvents() {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := s.bus.pending
	s.bus.pending = map[objKey]struct{}{}
	for k := range pending {
		for sub := range s.bus.subs {
			if !sub.wantsChanges {
				continue
			}
			if ev := s.changeEventLocked(sub.urls, k); ev != nil {
				sub.enqueue(s.faults, ev)
			}
		}
	}
}

// subscriber is one websocket subscription.
type subscriber struct {
	urls         urls
	conn         *websocket.Conn
	wantsChanges bool

	mu     sync.Mutex
	queue  []queued
	wake   chan struct{}
	done   chan struct{}
	closer sync.Once
}

type queued struct {
	data []byte
	due  time.Time
}

// enqueue adds an event, applying DropEvents and DelayEvents; a reader
// that lets too much pile up is disconnected as Cattle does.
func (sub *subscriber) enqueue(f *Faults, ev []byte) {
	drop, delay := f.eventFaults()
	if drop {
		return
	}
	sub.mu.Lock()
	sub.queue = append(sub.queue, queued{data: ev, due: time.Now().Add(delay)})
	over := len(sub.queue) > maxQueuedEvents
	sub.mu.Unlock()
	if over {
		sub.close()
		return
	}
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) close() {
	sub.closer.Do(func() {
		close(sub.done)
		_ = sub.conn.Close() // abrupt: no close frame, as a dropped connection
	})
}

// next returns the first due event, or how long until one is due.
func (sub *subscriber) next() ([]byte, time.Duration) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.queue) == 0 {
		return nil, time.Hour
	}
	if wait := time.Until(sub.queue[0].due); wait > 0 {
		return nil, wait
	}
	ev := sub.queue[0].data
	sub.queue = sub.queue[1:]
	return ev, 0
}

// eventNamePattern is what Cattle accepts in eventNames (Subscribe.java).
var eventNamePattern = regexp.MustCompile(`^[*._0-9a-zA-Z;=]+$`)

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveSubscribe upgrades GET .../subscribe?eventNames=... to a websocket.
func (s *Sim) serveSubscribe(w http.ResponseWriter, r *http.Request, version string) {
	u := s.urlsFor(baseURL(r), version)
	w.Header().Set("X-API-Schemas", u.schemas())
	if !s.authorized(r) {
		writeUnauthorized(w)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, http.StatusBadRequest, "InvalidOption", "subscribe needs a websocket upgrade")
		return
	}
	names := r.URL.Query()["eventNames"]
	wants := false
	for _, n := range names {
		if !eventNamePattern.MatchString(n) {
			writeError(w, http.StatusUnprocessableEntity, "InvalidCharacters", "eventNames: "+n)
			return
		}
		base, _, _ := strings.Cut(n, ";")
		wants = wants || base == "resource.change" || base == "*"
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader wrote the error
	}
	sub := &subscriber{urls: u, conn: conn, wantsChanges: wants,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.close()
		return
	}
	s.bus.subs[sub] = struct{}{}
	s.mu.Unlock()
	s.log.Info("subscribed", "remote", r.RemoteAddr, "events", strings.Join(names, ","))
	s.wg.Add(2)
	go s.readLoop(sub)
	go s.writeLoop(sub)
}

// readLoop reads (and discards) client frames, so that control pings are
// answered and a closed connection is noticed.
func (s *Sim) readLoop(sub *subscriber) {
	defer s.wg.Done()
	defer s.unsubscribe(sub)
	for {
		if _, _, err := sub.conn.ReadMessage(); err != nil {
			return
		}
	}
}

func (s *Sim) unsubscribe(sub *subscriber) {
	sub.close()
	s.mu.Lock()
	delete(s.bus.subs, sub)
	s.mu.Unlock()
}

// writeLoop sends the ping at once and every 5 s, and queued events when due.
func (s *Sim) writeLoop(sub *subscriber) {
	defer s.wg.Done()
	defer s.unsubscribe(sub)
	write := func(b []byte) bool {
		_ = sub.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		return sub.conn.WriteMessage(websocket.TextMessage, b) == nil
	}
	if !write(pingEvent()) {
		return
	}
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		ev, wait := sub.next()
		if ev != nil {
			if !write(ev) {
				return
			}
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-sub.done:
			timer.Stop()
			return
		case <-ping.C:
			if !write(pingEvent()) {
				timer.Stop()
				return
			}
		case <-sub.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
