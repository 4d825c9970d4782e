package ranchertest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
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
	s := ranchertest.NewServer(t, ranchertest.Options{})
	rec := subscribe(t, newClient(t, s, s.SchemasURL()))
	eventually(t, 30*time.Second, "first ping", func() bool { return len(rec.all()) > 0 })
	ev := rec.all()[0]
	if ev.Name != "ping" || ev.Time == 0 {
		t.Fatalf("first frame %+v", ev)
	}
}

func TestExactModeDeliversEveryTransitionInOrder(t *testing.T) {
	s := demo(t, ranchertest.Options{EventMode: ranchertest.EventsExact}, 1, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	eventually(t, 30*time.Second, "ping", func() bool { return len(rec.all()) > 0 })
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	eventually(t, 30*time.Second, "healthy event", func() bool {
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
