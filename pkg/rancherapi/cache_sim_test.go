package rancherapi

import (
	"context"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// tables is what a cache holds: every live object, by id.
type tables struct {
	Stacks     map[string]stack
	Services   map[string]service
	Containers map[string]container
}

func (c *Client) tables() tables {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return tables{maps.Clone(c.cache.stacks.live()), maps.Clone(c.cache.services.live()), maps.Clone(c.cache.containers.live())}
}

// watchFor runs Watch until the test ends; onChange does nothing (the
// test takes the snapshots).
func watchFor(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Watch(ctx, func() {}) }()
	t.Cleanup(func() { cancel(); <-done })
	testwait.Eventually(t, 30*time.Second, "connected", c.StreamConnected)
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "complete", c.cache.complete)
}

// cacheMatchesFreshList waits until the cache, fed by events only, holds
// exactly what a fresh list of the environment holds, and answers a
// snapshot equal to a fresh one without a request.
func cacheMatchesFreshList(t *testing.T, sim *ranchersim.Sim, c *Client, what string) {
	t.Helper()
	settle(t, sim)
	fresh := simClient(t, sim, sim.SchemasURL())
	var last string
	testwait.Eventually(t, 30*time.Second, what+": cache equals a fresh list", func() bool {
		want, err := fresh.Snapshot(context.Background(), true)
		if err != nil {
			last = err.Error()
			return false
		}
		if got, want := c.tables(), fresh.tables(); !reflect.DeepEqual(got, want) {
			last = "tables differ"
			return false
		}
		before := totalRequests(sim.Requests())
		got, err := c.Snapshot(context.Background(), false)
		if err != nil || totalRequests(sim.Requests()) != before {
			last = "the cache answer made requests or failed"
			return false
		}
		for i := range want.Clusters {
			want.Clusters[i].Generation = got.Clusters[i].Generation
		}
		if !reflect.DeepEqual(got.Clusters, want.Clusters) {
			last = "snapshots differ"
			return false
		}
		return true
	})
	if t.Failed() {
		t.Logf("last difference: %s", last)
	}
}

// TestSimCacheEqualsAFreshList: after each step of a sequence of scale,
// upgrade, restart, kill and health failures, the cache fed by events
// alone (exact and Cattle-like, coalesced events) equals a fresh list.
func TestSimCacheEqualsAFreshList(t *testing.T) {
	for _, mode := range []ranchersim.EventMode{ranchersim.EventsExact, ranchersim.EventsCattle} {
		t.Run(mode.String(), func(t *testing.T) {
			sim := newSim(t, mode)
			c := simClient(t, sim, sim.SchemasURL())
			watchFor(t, c)
			steps := []struct {
				name string
				fn   func() error
			}{
				{"scale up", func() error { return sim.Scale("demo", "web", 5) }},
				{"scale down", func() error { return sim.Scale("demo", "web", 2) }},
				{"scale another stack", func() error { return sim.Scale("noise", "web", 3) }},
				{"upgrade, start first", func() error { return sim.Upgrade("demo", "web", 1, true, 10*time.Millisecond) }},
				{"finish upgrade", func() error { return sim.FinishUpgrade("demo", "web") }},
				{"rolling restart", func() error { return sim.Restart("demo", "web", 1, 10*time.Millisecond) }},
				{"kill a container", func() error { return sim.KillContainer(sim.Containers("demo", "api")[0].ID) }},
				{"fail a health check", func() error { return sim.FailHealth(sim.Containers("demo", "web")[0].ID, true) }},
			}
			for _, st := range steps {
				if err := st.fn(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				cacheMatchesFreshList(t, sim, c, st.name)
				if t.Failed() {
					t.Fatalf("after %s", st.name)
				}
			}
		})
	}
}

// TestSimLookupFeedsTheCache: a container read by ContainersByIP is in
// the next snapshot of a complete cache without a full list, before any
// event about it.
func TestSimLookupFeedsTheCache(t *testing.T) {
	sim := ranchertest.NewServer(t, ranchersim.Options{IPRange: simIPRange, EventMode: ranchersim.EventsCattle,
		Tick: time.Hour, StepDelay: 5 * time.Millisecond, StopTimeout: 100 * time.Millisecond}) // no event arrives
	if _, err := sim.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.CreateService("demo", ranchersim.ServiceSpec{Name: "web", Scale: 2, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	settle(t, sim)
	c := simClient(t, sim, sim.SchemasURL(), func(o *Options) { o.Clusters = []ClusterRef{{Name: "demo", Stack: "demo", Services: []string{"web"}}} })
	watchFor(t, c)
	if err := sim.Scale("demo", "web", 3); err != nil {
		t.Fatal(err)
	}
	settle(t, sim)
	joiner := truth(sim, "demo", "web")[2]
	before := totalRequests(sim.Requests())
	got, err := c.ContainersByIP(context.Background(), []string{joiner.IP})
	if err != nil || got[joiner.IP].ContainerID != joiner.ContainerID {
		t.Fatalf("lookup: %v, %v", got, err)
	}
	lookup := totalRequests(sim.Requests()) - before
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, s.Clusters[0].Services[0].Containers, truth(sim, "demo", "web"))
	if !s.HoldsLookups {
		t.Error("the snapshot does not say it holds the lookup's reads")
	}
	// The service's cached instanceIds predate the joiner: its list is
	// read again (one request), not the whole environment.
	if lookup != 1 || s.Requests > 1 {
		t.Errorf("lookup cost %d requests, the snapshot after it %d; want 1 and at most 1", lookup, s.Requests)
	}
}
