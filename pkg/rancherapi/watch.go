package rancherapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/gorilla/websocket"
)

// maxEventBytes caps one event frame: a resource.change carries the whole
// object, a few KB; anything far larger is not an event.
const maxEventBytes = 4 << 20

// event is the part of a Cattle event the watch reads.
type event struct {
	Name         string `json:"name"`
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	Data         struct {
		Resource struct {
			Name       string                 `json:"name"`
			StackID    string                 `json:"stackId"`
			ServiceID  string                 `json:"serviceId"`
			ServiceIDs []string               `json:"serviceIds"`
			Labels     map[string]interface{} `json:"labels"`
		} `json:"resource"`
	} `json:"data"`
}

// scope is what the watch knows of the configured clusters: the stack
// names, and, once a snapshot resolved them, the stack and service ids and
// the containers that were members.
type scope struct {
	stackNames []string
	stackIDs   []string
	serviceIDs []string
	members    map[string]string // container id -> IP; read only
}

// relevant reports whether an event may change a snapshot: a
// resource.change of a container, an instance, any service kind or a
// stack. Pings, logouts and the many other resource types (mounts,
// volumes, expose maps, health check maps...) are not. An event whose
// object clearly lies outside the configured stacks is not either: for a
// container, by its stackId or serviceIds when it renders them (Cattle's
// own bookkeeping), else by its stack label, which keeps the old name
// after a rename; a container that was a member is always relevant. When
// in doubt, it is.
func relevant(ev event, sc scope) bool {
	if ev.Name != "resource.change" {
		return false
	}
	res := ev.Data.Resource
	switch t := ev.ResourceType; {
	case t == "container", t == "instance":
		_, member := sc.members[ev.ResourceID]
		return member || containerInScope(res.StackID, res.ServiceID, res.ServiceIDs, labelString(res.Labels, labelStackName), sc)
	case t == "stack":
		return res.Name == "" || slices.Contains(sc.stackNames, res.Name)
	case t == "service", strings.HasSuffix(t, "Service"): // loadBalancerService, dnsService, ...
		return res.StackID == "" || len(sc.stackIDs) == 0 || slices.Contains(sc.stackIDs, res.StackID)
	default:
		return false
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

// scope returns the current scope of the watch.
func (c *Client) scope() scope {
	sc := scope{stackNames: c.stackNames()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil {
		sc.stackIDs = stackIDs(c.last.r.stacks)
		for _, svc := range c.last.r.services {
			sc.serviceIDs = append(sc.serviceIDs, svc.Id)
		}
		sc.members = c.last.ipOf // never changed once built
	}
	return sc
}

// Watch calls onChange whenever something relevant may have changed: after
// every (re)connect of the event stream (events are not replayed, so a
// full resync is due), on every relevant event, and every ResyncInterval
// even while the stream is healthy. It implements reconcile.Watcher and
// returns only when ctx is done, with ctx's error.
//
// onChange is called from one goroutine at a time and never blocks the
// stream: triggers that arrive while it runs are merged into one call.
// It should only schedule a pass.
func (c *Client) Watch(ctx context.Context, onChange func()) error {
	trigger := make(chan struct{}, 1)
	kick := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.dispatch(ctx, trigger, onChange) }()
	go func() { defer wg.Done(); c.resyncLoop(ctx, kick) }()
	c.streamLoop(ctx, kick)
	wg.Wait()
	return ctx.Err()
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

// resyncLoop triggers a pass every ResyncInterval.
func (c *Client) resyncLoop(ctx context.Context, kick func()) {
	t := time.NewTicker(c.opts.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			kick()
		}
	}
}

// streamLoop keeps the event stream connected until ctx is done,
// reconnecting with jittered, capped exponential backoff that starts over
// after a connection stayed up for HealthyPeriod.
func (c *Client) streamLoop(ctx context.Context, kick func()) {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(c.opts.ReconnectMin),
		backoff.WithMaxInterval(c.opts.ReconnectMax),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxElapsedTime(0),
	)
	log := c.opts.Logger
	for failures := 0; ; {
		started := time.Now()
		err := scrub(c.stream(ctx, kick), c.secrets()...)
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

// stream runs one connection: dial, trigger a full resync, then read
// events until an error or ctx ends. It always returns an error.
func (c *Client) stream(ctx context.Context, kick func()) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	conn.SetReadLimit(maxEventBytes)
	c.connected.Store(true)
	defer c.connected.Store(false)
	c.opts.Logger.V(1).Info("rancher event stream connected", "url", c.display(c.subscribe))
	kick() // nothing is replayed: whatever happened while disconnected needs a full pass
	for {
		if err := conn.SetReadDeadline(time.Now().Add(c.opts.PingTimeout)); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		_, data, err := conn.ReadMessage()
		if err != nil {
			return c.readError(err)
		}
		var ev event
		if err := json.Unmarshal(data, &ev); err != nil {
			continue // not an event we understand; the deadline was still renewed
		}
		if relevant(ev, c.scope()) {
			kick()
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
