package rancherapi

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/gorilla/websocket"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// maxEventBytes caps one event frame: a resource.change carries the whole
// object, a few KB; anything far larger is not an event.
const maxEventBytes = 4 << 20

// maxQueuedBytes caps the frames waiting between the stream's reader and
// the cache, whatever their number: 8 KiB for each of DefaultEventQueue.
const maxQueuedBytes = 32 << 20

// wireEvent is a Cattle event as the stream sends it.
type wireEvent struct {
	Name         string `json:"name"`
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	Data         struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"data"`
}

// change is one resource.change on its way to the cache: the object
// decoded straight into its slim type.
type change struct {
	seq  uint64
	kind kind
	id   string
	size int // bytes of the frame
	st   stack
	svc  service
	ct   container
	// empty: the event named the object but carried none of it; the
	// object is read again by id.
	empty bool
}

// decodeChange decodes a frame; false for anything that is not a
// resource.change of a container, a service or a stack (pings, logouts,
// the many other resource types, other service kinds: load balancers, DNS
// and external services are never clustered).
func decodeChange(frame []byte) (change, bool) {
	var ev wireEvent
	if err := json.Unmarshal(frame, &ev); err != nil || ev.Name != "resource.change" {
		return change{}, false
	}
	ch := change{id: ev.ResourceID, size: len(frame)}
	res := ev.Data.Resource
	ch.empty = len(res) == 0 || string(res) == "null"
	var err error
	switch ev.ResourceType {
	case "container", "instance":
		ch.kind = kindContainer
		if !ch.empty {
			err = json.Unmarshal(res, &ch.ct)
			ch.id = cmp.Or(ch.ct.ID, ch.id)
		}
	case "service":
		ch.kind = kindService
		if !ch.empty {
			err = json.Unmarshal(res, &ch.svc)
			ch.id = cmp.Or(ch.svc.ID, ch.id)
		}
	case "stack":
		ch.kind = kindStack
		if !ch.empty {
			err = json.Unmarshal(res, &ch.st)
			ch.id = cmp.Or(ch.st.ID, ch.id)
		}
	default:
		return change{}, false
	}
	if err != nil {
		ch.empty = true // not an object we understand: read it by id
	}
	return ch, ch.id != ""
}

// scope is what the watch knows of the configured clusters: the stack
// names, and, from the last snapshot, the stack and service ids and the
// containers that were members.
type scope struct {
	stackNames []string
	stackIDs   []string
	serviceIDs []string
	members    map[string]bool // container ids; read only
}

// scopeOf builds the scope of a judged snapshot.
func scopeOf(refs []ClusterRef, r resolved, clusters []mesh.Cluster) scope {
	n := 0
	for _, cl := range clusters {
		for _, svc := range cl.Services {
			n += len(svc.Containers)
		}
	}
	sc := scope{stackNames: stackNames(refs), stackIDs: stackIDs(r.stacks), members: make(map[string]bool, n)}
	for _, svc := range r.services {
		sc.serviceIDs = append(sc.serviceIDs, svc.ID)
	}
	for _, cl := range clusters {
		for _, svc := range cl.Services {
			for _, m := range svc.Containers {
				sc.members[m.ContainerID] = true
			}
		}
	}
	return sc
}

// relevant reports whether a change may change a snapshot. A change whose
// object clearly lies outside the configured stacks is not: for a
// container, by its stackId or serviceIds when it renders them (Cattle's
// own bookkeeping), else by its stack label, which keeps the old name
// after a rename; a container that was a member always is. When in doubt,
// it is.
func relevant(ch change, sc scope) bool {
	switch ch.kind {
	case kindContainer:
		ct := ch.ct
		return sc.members[ch.id] || ch.empty ||
			containerInScope(ct.StackID, ct.ServiceID, ct.ServiceIDs, string(ct.Labels.StackName), sc)
	case kindStack:
		return ch.empty || ch.st.Name == "" || slices.Contains(sc.stackNames, ch.st.Name)
	default:
		return ch.empty || ch.svc.StackID == "" || len(sc.stackIDs) == 0 || slices.Contains(sc.stackIDs, ch.svc.StackID)
	}
}

// containerInScope decides relevant for a container that was no member.
func containerInScope(stackID, serviceID string, serviceIDs []string, stackLabel string, sc scope) bool {
	if stackID != "" && len(sc.stackIDs) > 0 {
		return slices.Contains(sc.stackIDs, stackID)
	}
	if ids := append(slices.Clip(serviceIDs), serviceID); (len(serviceIDs) > 0 || serviceID != "") && len(sc.serviceIDs) > 0 {
		return slices.ContainsFunc(ids, func(id string) bool { return id != "" && slices.Contains(sc.serviceIDs, id) })
	}
	return stackLabel == "" || slices.Contains(sc.stackNames, stackLabel)
}

// apply offers one change to the cache and reports whether it calls for a
// pass: it changed the cache, made an object ambiguous, or found the cache
// incomplete, and it is relevant.
func (c *Client) apply(ch change) bool {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.applied = ch.seq
	v, before := eventVersion(ch.seq), len(c.cache.recheck)
	changed := false
	switch {
	case ch.empty:
		c.cache.markRecheckLocked(objKey{ch.kind, ch.id}, ch.seq)
	case ch.kind == kindContainer:
		changed = offer(c.cache, &c.cache.containers, ch.id, ch.ct, ch.ct.removed(), v)
	case ch.kind == kindService:
		changed = offer(c.cache, &c.cache.services, ch.id, ch.svc, ch.svc.removed(), v)
	default:
		changed = offer(c.cache, &c.cache.stacks, ch.id, ch.st, ch.st.removed(), v)
	}
	if !changed && len(c.cache.recheck) == before && c.cache.completeLocked() {
		return false
	}
	c.mu.Lock()
	sc := c.scope
	c.mu.Unlock()
	return relevant(ch, sc) || c.watchedLabel(ch)
}

// watchedLabel reports whether a change is about a service that carries
// Options.WatchLabel.
func (c *Client) watchedLabel(ch change) bool {
	if c.opts.WatchLabel == "" || ch.kind != kindService {
		return false
	}
	_, ok := ch.svc.LaunchConfig.Labels[c.opts.WatchLabel]
	return ok
}

// Watch keeps the cache fed by the event stream and calls onChange
// whenever something relevant may have changed: after every (re)connect
// (events are not replayed, so the cache is listed again before it is
// used), on every relevant change, and when events fell behind. It
// implements reconcile.Watcher and returns only when ctx is done, with
// ctx's error. It must not run twice at once.
//
// onChange is called from one goroutine at a time and never blocks the
// stream: triggers that arrive while it runs are merged into one call.
// It should only schedule a pass.
func (c *Client) Watch(ctx context.Context, onChange func()) error {
	if !c.watching.CompareAndSwap(false, true) {
		return errors.New("rancherapi: Watch is already running on this client")
	}
	defer c.watching.Store(false)
	trigger := make(chan struct{}, 1)
	kick := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	q := newEventQueue(c.opts.EventQueue)
	var wg sync.WaitGroup
	wg.Go(func() { c.dispatch(ctx, trigger, onChange) })
	wg.Go(func() { c.applyLoop(ctx, q, kick) })
	c.streamLoop(ctx, q, kick)
	wg.Wait()
	return ctx.Err()
}

// eventQueue is the bounded queue between the stream's reader and the
// cache: at most its capacity of changes and maxQueuedBytes of frames.
type eventQueue struct {
	ch    chan change
	bytes atomic.Int64
}

func newEventQueue(n int) *eventQueue { return &eventQueue{ch: make(chan change, n)} }

// push numbers a change and queues it; false when the queue is full.
func (c *Client) push(q *eventQueue, ch change) bool {
	if q.bytes.Load()+int64(ch.size) > maxQueuedBytes {
		return false
	}
	ch.seq = c.cache.seq.Add(1)
	select {
	case q.ch <- ch:
		q.bytes.Add(int64(ch.size))
		return true
	default:
		return false
	}
}

// applyLoop applies queued changes in order until ctx is done.
func (c *Client) applyLoop(ctx context.Context, q *eventQueue, kick func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case ch := <-q.ch:
			q.bytes.Add(-int64(ch.size))
			if c.apply(ch) {
				kick()
			}
		}
	}
}

// dispatch calls onChange once per trigger until ctx is done.
func (c *Client) dispatch(ctx context.Context, trigger <-chan struct{}, onChange func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
			onChange()
		}
	}
}

// streamLoop keeps the event stream connected until ctx is done,
// reconnecting with jittered, capped exponential backoff that starts over
// after a connection stayed up for HealthyPeriod.
func (c *Client) streamLoop(ctx context.Context, q *eventQueue, kick func()) {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(c.opts.ReconnectMin),
		backoff.WithMaxInterval(c.opts.ReconnectMax),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxElapsedTime(0),
	)
	log := c.opts.Logger
	for failures := 0; ; {
		started := time.Now()
		err := scrub(c.stream(ctx, q, kick), c.secrets()...)
		if ctx.Err() != nil {
			return
		}
		c.reconnects.Add(1)
		if time.Since(started) >= c.opts.HealthyPeriod {
			b.Reset()
			failures = 0
		}
		failures++
		delay := b.NextBackOff()
		if IsTerminal(err) {
			// A rejected key will not heal by itself soon: retry at the
			// slowest pace, never in a storm.
			delay = c.opts.ReconnectMax
		}
		if failures == 1 {
			log.Error(err, "rancher event stream lost, reconnecting", "url", c.display(c.subscribe), "retryIn", delay.String())
		} else {
			log.V(1).Info("rancher event stream still down", "error", err.Error(), "failures", failures, "retryIn", delay.String())
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stream runs one connection: dial, mark the cache for a full list, then
// read events into the queue until an error or ctx ends. It always
// returns an error.
func (c *Client) stream(ctx context.Context, q *eventQueue, kick func()) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	conn.SetReadLimit(maxEventBytes)
	c.cache.connected()
	c.connected.Store(true)
	defer func() {
		c.connected.Store(false)
		c.cache.disconnected() // no longer fed: passes list until the next connect
	}()
	log := c.opts.Logger
	log.V(1).Info("rancher event stream connected", "url", c.display(c.subscribe))
	kick() // nothing is replayed: the cache is listed again before it is used
	behind := false
	for {
		if err := conn.SetReadDeadline(time.Now().Add(c.opts.PingTimeout)); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		_, data, err := conn.ReadMessage()
		if err != nil {
			return c.readError(err)
		}
		ch, ok := decodeChange(data)
		if !ok {
			continue // a ping or another event; the deadline was still renewed
		}
		switch pushed := c.push(q, ch); {
		case !pushed && !behind:
			behind = true
			c.cache.lost()
			log.Info("rancher events fell behind; the cache is listed again before it is used", "queued", len(q.ch))
			kick()
		case pushed:
			behind = false
		}
	}
}

// readError explains why reading stopped.
func (c *Client) readError(err error) error {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return transient(fmt.Errorf("event stream from %s: no frame (not even a ping) for %s: %w", c.display(c.subscribe), c.opts.PingTimeout, err))
	}
	return transient(fmt.Errorf("event stream from %s: %w", c.display(c.subscribe), err))
}

// dial opens the websocket. It uses its own dialer rather than go-rancher's
// Websocket, whose package-level dialer has no handshake timeout and no
// context: a hung Rancher would block the watch for ever.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: c.opts.Timeout, Proxy: http.ProxyFromEnvironment, TLSClientConfig: c.opts.TLS}
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.access+":"+c.secret)))
	conn, resp, err := d.DialContext(ctx, c.subscribe, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c.opts.OnRequest("GET", collectionPath(c.subscribe), status)
	if err != nil {
		url := c.display(c.subscribe)
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, classifyStatus("subscribing to events", url, resp.StatusCode, resp.Status)
		}
		return nil, classify("subscribing to events", url, err)
	}
	return conn, nil
}
