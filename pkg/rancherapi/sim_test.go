package rancherapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// Tests against the in-process simulator: the client as the controller
// uses it, against something that behaves like Cattle.

const simIPRange = "127.42.0.0/16"

// fastHealth turns healthy after two 50 ms probes and unhealthy after
// three failed ones.
func fastHealth() *ranchersim.HealthCheck {
	return &ranchersim.HealthCheck{Port: 4001, Interval: 50, ResponseTimeout: 50, HealthyThreshold: 2, UnhealthyThreshold: 3}
}

// newSim starts a simulator with stack "demo" (services "web" with a
// health check and "api" without) and an unrelated stack "noise" whose
// service is also called "web".
func newSim(t testing.TB, mode ranchersim.EventMode) *ranchersim.Sim {
	t.Helper()
	return newSimWith(t, ranchersim.Options{EventMode: mode})
}

// newSimWith is newSim with o's other settings (e.g. a payload Shape);
// the IP range and the timings are the package's.
func newSimWith(t testing.TB, o ranchersim.Options) *ranchersim.Sim {
	t.Helper()
	o.IPRange, o.Tick, o.StepDelay, o.StopTimeout = simIPRange, 100*time.Millisecond, 5*time.Millisecond, 100*time.Millisecond
	sim := ranchertest.NewServer(t, o)
	for _, st := range []string{"demo", "noise"} {
		if _, err := sim.CreateStack(st); err != nil {
			t.Fatal(err)
		}
	}
	for _, sv := range []struct {
		stack string
		spec  ranchersim.ServiceSpec
	}{
		{"demo", ranchersim.ServiceSpec{Name: "web", Scale: 3, HealthCheck: fastHealth(), StartOnCreate: true}},
		{"demo", ranchersim.ServiceSpec{Name: "api", Scale: 1, StartOnCreate: true}},
		{"noise", ranchersim.ServiceSpec{Name: "web", Scale: 2, StartOnCreate: true}},
	} {
		if _, err := sim.CreateService(sv.stack, sv.spec); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, sim)
	return sim
}

func settle(t testing.TB, sim *ranchersim.Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sim.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
}

func simClient(t testing.TB, sim *ranchersim.Sim, url string, mods ...func(*Options)) *Client {
	t.Helper()
	o := Options{
		URL: url, AccessKey: sim.AccessKey(), SecretKey: sim.SecretKey(),
		Clusters: []ClusterRef{{Name: "demo", Stack: "demo", Services: []string{"web", "api"}}},
		Timeout:  2 * time.Second, PingTimeout: 15 * time.Second,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	}
	if tt, ok := t.(*testing.T); ok {
		o.Logger = testr.New(tt)
	}
	for _, m := range mods {
		m(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// truth is the simulator's view of a service's non-removed containers, as
// members.
func truth(sim *ranchersim.Sim, stack, svc string) []mesh.Member {
	out := []mesh.Member{}
	for _, v := range sim.Containers(stack, svc) {
		if v.State == "removed" || v.State == "purged" {
			continue
		}
		out = append(out, mesh.Member{ContainerID: v.ID, Name: v.Name, Service: svc, ServiceID: v.ServiceID,
			IP: v.IP, State: v.State, HealthState: v.HealthState, CreateIndex: v.CreateIndex,
			StartCount: v.StartCount, HostID: v.HostID})
	}
	return out
}

// matchTruth checks a snapshot against the settled simulator.
func matchTruth(t *testing.T, sim *ranchersim.Sim, c *Client) mesh.Snapshot {
	t.Helper()
	settle(t, sim)
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	cl, ok := s.Cluster("demo")
	if !ok || len(cl.Services) != 2 {
		t.Fatalf("snapshot = %+v", s)
	}
	mustEqual(t, cl.Services[0].Containers, truth(sim, "demo", "web"))
	mustEqual(t, cl.Services[1].Containers, truth(sim, "demo", "api"))
	return s
}

func countRunning(ms []mesh.Member) int {
	n := 0
	for _, m := range ms {
		if m.State == "running" {
			n++
		}
	}
	return n
}

func TestSimLifecycle(t *testing.T) {
	sim := newSim(t, ranchersim.EventsExact)
	c := simClient(t, sim, sim.URL()) // no project in the URL: found
	s := matchTruth(t, sim, c)
	if n := len(s.Clusters[0].Services[0].Containers); n != 3 {
		t.Fatalf("web has %d containers, want 3", n)
	}
	step := func(name string, fn func() error) mesh.Snapshot {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return matchTruth(t, sim, c)
	}
	step("scale up", func() error { return sim.Scale("demo", "web", 5) })
	s = step("scale down", func() error { return sim.Scale("demo", "web", 2) })
	if n := len(s.Clusters[0].Services[0].Containers); n != 2 {
		t.Fatalf("after scale down: %d containers", n)
	}
	s = step("upgrade, start first", func() error { return sim.Upgrade("demo", "web", 1, true, 10*time.Millisecond) })
	web := s.Clusters[0].Services[0].Containers
	if len(web) != 4 || countRunning(web) != 2 {
		t.Fatalf("after upgrade: want 2 old stopped + 2 new running, got %+v", web)
	}
	s = step("finish upgrade", func() error { return sim.FinishUpgrade("demo", "web") })
	if web := s.Clusters[0].Services[0].Containers; len(web) != 2 || countRunning(web) != 2 {
		t.Fatalf("after finish: %+v", web)
	}
	s = step("rolling restart", func() error { return sim.Restart("demo", "web", 1, 10*time.Millisecond) })
	for _, m := range s.Clusters[0].Services[0].Containers {
		if m.StartCount < 2 {
			t.Errorf("restarted container %s has startCount %d", m.ContainerID, m.StartCount)
		}
	}
	victim := s.Clusters[0].Services[0].Containers[0].ContainerID
	if err := sim.FailHealth(victim, true); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 60*time.Second, "unhealthy container replaced", func() bool {
		for _, v := range sim.Containers("demo", "web") {
			if v.ID == victim {
				return v.State == "removed"
			}
		}
		return true
	})
	s = matchTruth(t, sim, c)
	for _, m := range s.Clusters[0].Services[0].Containers {
		if m.ContainerID == victim {
			t.Fatalf("removed container %s still reported", victim)
		}
	}
}

// TestSimSnapshotDuringChanges takes snapshots while the service scales
// and upgrades: each must be a full answer (web's running members never
// fall below what the operations allow) or an error.
func TestSimSnapshotDuringChanges(t *testing.T) {
	sim := newSim(t, ranchersim.EventsCattle)
	c := simClient(t, sim, sim.SchemasURL(), func(o *Options) { o.PageSize = 2 }) // pages shift under changes
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var taken atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			s, err := c.Snapshot(ctx, false)
			if err != nil {
				continue
			}
			taken.Add(1)
			cl, _ := s.Cluster("demo")
			if n := len(cl.Services[1].Containers); n != 1 {
				t.Errorf("api has %d containers mid-change, want 1", n)
			}
		}
	}()
	if err := sim.Scale("demo", "web", 6); err != nil {
		t.Fatal(err)
	}
	settle(t, sim)
	if err := sim.Upgrade("demo", "web", 2, true, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	settle(t, sim)
	testwait.Eventually(t, 30*time.Second, "snapshots taken", func() bool { return taken.Load() >= 5 })
	cancel()
	wg.Wait()
	matchTruth(t, sim, c)
}

// TestSimAPIFaultsNeverShrink: 500s, hangs and dropped streams in the
// middle of passes give errors, never fewer members than the truth.
func TestSimAPIFaultsNeverShrink(t *testing.T) {
	sim := newSim(t, ranchersim.EventsCattle)
	c := simClient(t, sim, sim.SchemasURL(), func(o *Options) { o.Timeout = 300 * time.Millisecond; o.PageSize = 2 })
	want := truth(sim, "demo", "web")
	var ok, failed atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s, err := c.Snapshot(ctx, false)
				if err != nil {
					if ctx.Err() == nil && !IsTransient(err) {
						t.Errorf("fault gave a non-transient error: %v", err)
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
				cl, _ := s.Cluster("demo")
				if got := cl.Services[0].Containers; len(got) != len(want) {
					t.Errorf("snapshot with %d web members during faults, truth %d", len(got), len(want))
				}
			}
		}()
	}
	f := sim.Faults()
	for round := 0; round < 6; round++ {
		before := failed.Load()
		switch round % 3 {
		case 0:
			f.APIStatus(500, 150*time.Millisecond)
		case 1:
			f.APIHang(500 * time.Millisecond) // longer than Timeout
		case 2:
			f.APIStatus(503, 100*time.Millisecond)
			f.DropWebsockets()
		}
		testwait.Eventually(t, 30*time.Second, "a failed pass", func() bool { return failed.Load() > before })
		okBefore := ok.Load()
		testwait.Eventually(t, 30*time.Second, "a good pass after the fault", func() bool { return ok.Load() > okBefore })
	}
	cancel()
	wg.Wait()
}

// TestSimWatchRecoversAndResyncs: the stream is dropped while the API
// answers 500 (the 30 s outage of the issue, shortened); the watch
// reconnects by itself and triggers a pass, which lists again (the cache
// is incomplete after a reconnect); passes fail during the outage, and the
// first good one after it (the reconciler retries aborted passes) is the
// full truth. No snapshot ever has fewer members.
func TestSimWatchRecoversAndResyncs(t *testing.T) {
	sim := newSim(t, ranchersim.EventsCattle)
	c := simClient(t, sim, sim.SchemasURL())
	want := truth(sim, "demo", "web")
	var errs atomic.Int64
	pass := func() bool { // the reconciler's part: a pass reads state
		s, err := c.Snapshot(context.Background(), false)
		if err != nil {
			errs.Add(1)
			return false
		}
		cl, _ := s.Cluster("demo")
		if got := cl.Services[0].Containers; len(got) != len(want) {
			t.Errorf("snapshot with %d members, truth %d", len(got), len(want))
		}
		return true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func() { pass() }) }()
	testwait.Eventually(t, 30*time.Second, "connected and listed", func() bool { return c.StreamConnected() && c.cache.complete() })
	sim.Faults().APIStatus(500, 1500*time.Millisecond)
	sim.Faults().DropWebsockets()
	testwait.Eventually(t, 30*time.Second, "reconnected", func() bool { return c.Reconnects() >= 1 && c.StreamConnected() })
	testwait.Eventually(t, 30*time.Second, "passes failing during the outage", func() bool { return errs.Load() >= 1 })
	testwait.Eventually(t, 30*time.Second, "a good pass after the outage", pass)
	testwait.Eventually(t, 30*time.Second, "the cache complete again", c.cache.complete)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v", err)
	}
}

// TestSimWatchSeesChanges: a scale change reaches onChange through
// Cattle-like (coalesced) events, with no periodic resync to help.
func TestSimWatchSeesChanges(t *testing.T) {
	sim := newSim(t, ranchersim.EventsCattle)
	c := simClient(t, sim, sim.SchemasURL())
	var calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Watch(ctx, func() { calls.Add(1) }) }()
	testwait.Eventually(t, 30*time.Second, "connect resync", func() bool { return calls.Load() >= 1 && c.StreamConnected() })
	before := calls.Load()
	if err := sim.Scale("demo", "web", 4); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "an event-driven call", func() bool { return calls.Load() > before })
}

func TestSim401(t *testing.T) {
	sim := newSim(t, ranchersim.EventsExact)
	before := sim.Requests()
	_, err := New(context.Background(), Options{URL: sim.SchemasURL(), AccessKey: sim.AccessKey(), SecretKey: "not-the-secret",
		Clusters: []ClusterRef{{Name: "demo", Stack: "demo", Services: []string{"web"}}}})
	if !IsTerminal(err) {
		t.Fatalf("want a terminal error, got %v", err)
	}
	for _, v := range []string{"CATTLE_URL", "CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY", "RANCHER_ACCESS_KEY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error leaks the secret")
	}
	if got := totalRequests(sim.Requests()) - totalRequests(before); got != 1 {
		t.Errorf("a 401 cost %d requests, want 1", got)
	}
}

func TestSimContainersByIP(t *testing.T) {
	sim := newSim(t, ranchersim.EventsExact)
	c := simClient(t, sim, sim.SchemasURL())
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if err := sim.Scale("demo", "web", 4); err != nil { // a container the snapshot has not seen
		t.Fatal(err)
	}
	settle(t, sim)
	web := truth(sim, "demo", "web")
	newest := web[len(web)-1]
	noise := truth(sim, "noise", "web")[0]
	before := totalRequests(sim.Requests())
	got, err := c.ContainersByIP(context.Background(), []string{newest.IP, web[0].IP, noise.IP, "127.42.250.250"})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, map[string]mesh.Member{newest.IP: newest, web[0].IP: web[0]})
	if n := totalRequests(sim.Requests()) - before; n > 2 {
		t.Errorf("a lookup of four IPs cost %d requests, want at most 2 (one list per configured service)", n)
	}
}

func totalRequests(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkSnapshot2000 measures snapshots of 2,000 containers in 100
// services (one stack, 100 clusters of one service) against the
// in-process simulator (whose own rendering is counted too), and reports
// the requests each cost: a full list, a complete cache's answer after one
// change, and one with nothing changed (see benchSnapshots).
func BenchmarkSnapshot2000(b *testing.B) { benchSimSnapshots(b, 100) }

// BenchmarkSnapshot10000 is BenchmarkSnapshot2000 at 10,000 containers in
// 500 services.
func BenchmarkSnapshot10000(b *testing.B) { benchSimSnapshots(b, 500) }

func benchSimSnapshots(b *testing.B, services int) {
	sim := ranchertest.NewServer(b, ranchersim.Options{IPRange: simIPRange, StepDelay: time.Millisecond, StopTimeout: 10 * time.Millisecond})
	if _, err := sim.CreateStack("bench"); err != nil {
		b.Fatal(err)
	}
	var refs []ClusterRef
	for i := range services {
		name := fmt.Sprintf("svc%03d", i)
		if _, err := sim.CreateService("bench", ranchersim.ServiceSpec{Name: name, Scale: 20, StartOnCreate: true}); err != nil {
			b.Fatal(err)
		}
		refs = append(refs, ClusterRef{Name: name, Stack: "bench", Services: []string{name}})
	}
	settle(b, sim)
	c := simClient(b, sim, sim.SchemasURL(), func(o *Options) { o.Clusters = refs; o.Timeout = 30 * time.Second })
	benchSnapshots(b, c, services*20)
}
