package ranchersim_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// event is a decoded frame of the subscription.
type event struct {
	Name         string         `json:"name"`
	ResourceType string         `json:"resourceType"`
	ResourceID   string         `json:"resourceId"`
	Time         float64        `json:"time"`
	Data         map[string]any `json:"data"`
}

// container re-marshals data.resource into the go-rancher struct, as the
// rancher CLI does.
func (e event) container(t *testing.T) client.Container {
	t.Helper()
	b, _ := json.Marshal(e.Data["resource"])
	var c client.Container
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e event) service(t *testing.T) client.Service {
	t.Helper()
	b, _ := json.Marshal(e.Data["resource"])
	var s client.Service
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder collects events from a subscription made with the unmodified
// client, the way the rancher CLI makes it.
type recorder struct {
	mu     sync.Mutex
	events []event
	closed bool
}

func subscribe(t *testing.T, c *client.RancherClient) *recorder {
	t.Helper()
	schema, ok := c.GetSchemas().CheckSchema("subscribe")
	if !ok {
		t.Fatal("no subscribe schema")
	}
	u := strings.Replace(schema.Links["collection"], "http", "ws", 1) + "?eventNames=resource.change"
	conn, resp, err := c.Websocket(u, nil)
	if err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				r.mu.Lock()
				r.closed = true
				r.mu.Unlock()
				return
			}
			var ev event
			if err := json.Unmarshal(data, &ev); err != nil {
				panic(fmt.Sprintf("undecodable frame %q: %v", data, err))
			}
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return r
}

// watch builds a client and subscribes, returning once the first ping
// arrived (so that every later change is heard).
func watch(t *testing.T, s *ranchersim.Sim) (*client.RancherClient, *recorder) {
	t.Helper()
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "the first ping", func() bool { return len(rec.all()) > 0 })
	return c, rec
}

func (r *recorder) all() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func (r *recorder) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// reset forgets what was received so far.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// containerTrail returns, per container id, the distinct consecutive
// "state/health" values seen in events.
func containerTrail(t *testing.T, evs []event) map[string][]string {
	out := map[string][]string{}
	for _, ev := range evs {
		if ev.Name != "resource.change" || ev.ResourceType != "container" {
			continue
		}
		c := ev.container(t)
		v := c.State + "/" + c.HealthState
		if tr := out[c.Id]; len(tr) == 0 || tr[len(tr)-1] != v {
			out[c.Id] = append(tr, v)
		}
	}
	return out
}

func TestPingAtOnce(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	rec := subscribe(t, newClient(t, s, s.SchemasURL()))
	testwait.Eventually(t, 30*time.Second, "first ping", func() bool { return len(rec.all()) > 0 })
	ev := rec.all()[0]
	if ev.Name != "ping" || ev.Time == 0 {
		t.Fatalf("first frame %+v", ev)
	}
}

func TestExactModeDeliversEveryTransitionInOrder(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 1, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(rec.all()) > 0 })
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	testwait.Eventually(t, 30*time.Second, "healthy event", func() bool {
		tr := containerTrail(t, rec.all())
		for _, v := range tr {
			if v[len(v)-1] == "running/healthy" {
				return true
			}
		}
		return false
	})
	trails := containerTrail(t, rec.all())
	if len(trails) != 1 {
		t.Fatalf("trails %v", trails)
	}
	want := "requested/ creating/ starting/ running/initializing running/updating-healthy running/healthy"
	for id, tr := range trails {
		if got := strings.Join(tr, " "); got != want {
			t.Fatalf("container %s went %s, want %s", id, got, want)
		}
	}
}

func TestCattleModeCoalescesAndSamplesAtSendTime(t *testing.T) {
	// A tick that never fires on its own: FlushEvents plays the tick, so
	// the test does not depend on timing.
	s := demo(t, ranchersim.Options{Tick: time.Hour}, 0, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(rec.all()) > 0 })
	rec.reset()

	if err := s.Scale("demo", "hello", 3); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if n := len(rec.all()); n != 0 {
		t.Fatalf("%d events before the tick", n)
	}
	s.FlushEvents()
	testwait.Eventually(t, 30*time.Second, "one tick of events", func() bool {
		return len(containerTrail(t, rec.all())) == 3
	})
	perObject := map[string]int{}
	for _, ev := range rec.all() {
		if ev.Name == "resource.change" {
			perObject[ev.ResourceType+"/"+ev.ResourceID]++
		}
	}
	for obj, n := range perObject {
		if n != 1 {
			t.Errorf("%s: %d events in one tick, want 1", obj, n)
		}
	}
	// Every container passed through six states; the tick shows only the
	// state at send time.
	for id, tr := range containerTrail(t, rec.all()) {
		if len(tr) != 1 || tr[0] != "running/healthy" {
			t.Errorf("container %s: %v, want only running/healthy", id, tr)
		}
	}
	if perObject["service/"+s.Containers("demo", "hello")[0].ServiceID] != 1 {
		t.Errorf("no service event: %v", perObject)
	}

	// Scale down: the removed container is seen once, already removed.
	rec.reset()
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	s.FlushEvents()
	top := s.Containers("demo", "hello")[2]
	testwait.Eventually(t, 30*time.Second, "removal event", func() bool {
		return len(containerTrail(t, rec.all())[top.ID]) == 1
	})
	if tr := containerTrail(t, rec.all())[top.ID]; tr[0] != "removed/healthy" {
		t.Errorf("removed container seen as %v", tr)
	}
}

func TestCattleModeNoReplayAfterReconnect(t *testing.T) {
	s := demo(t, ranchersim.Options{Tick: time.Hour}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	first := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(first.all()) > 0 })
	s.Faults().DropWebsockets()
	testwait.Eventually(t, 30*time.Second, "dropped socket", first.isClosed)
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	s.FlushEvents() // what happened while nobody listened is gone
	second := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(second.all()) > 0 })
	s.FlushEvents()
	if tr := containerTrail(t, second.all()); len(tr) != 0 {
		t.Fatalf("replayed %v", tr)
	}
}

func TestCattleModeTicksByItself(t *testing.T) {
	s := demo(t, ranchersim.Options{Tick: 50 * time.Millisecond}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	if err := s.Scale("demo", "hello", 3); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "running events of the new containers", func() bool {
		n := 0
		for _, tr := range containerTrail(t, rec.all()) {
			if tr[len(tr)-1] == "running/" {
				n++
			}
		}
		return n == 2
	})
}

func TestEventFaults(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(rec.all()) > 0 })
	s.Faults().DropEvents(true)
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	s.Faults().DropEvents(false)
	if tr := containerTrail(t, rec.all()); len(tr) != 0 {
		t.Fatalf("dropped events arrived: %v", tr)
	}
	s.Faults().DelayEvents(200 * time.Millisecond)
	if err := s.Scale("demo", "hello", 3); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	testwait.Eventually(t, 30*time.Second, "delayed events", func() bool { return len(containerTrail(t, rec.all())) == 1 })
}
