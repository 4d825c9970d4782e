package reconcile

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// states renders the containers of cluster hello as "ip state/health".
func states(s mesh.Snapshot) []string {
	var out []string
	for _, m := range s.Clusters[0].Members() {
		out = append(out, m.IP+" "+m.State+"/"+m.HealthState)
	}
	return out
}

// A decided read is laid over a snapshot that does not show it yet (an
// event-fed cache behind Rancher), and only until the snapshot shows it,
// shows something newer, or was listed after the read.
func TestFreshReadsOverlay(t *testing.T) {
	t0 := time.Unix(500, 0)
	initializing := ctr("hello", 2, "running", "initializing")
	healthy := up("hello", 2)
	healthy.ServiceID, initializing.ServiceID = "1s1", "1s1"
	snapWith := func(ms ...mesh.Member) mesh.Snapshot {
		s := snapOf(ms...)
		s.Clusters[0].Services[0].ID = "1s1"
		s.Clusters[0].Generation = 7
		return s
	}
	read := func(m mesh.Member, found bool) announce.Decision {
		return announce.Decision{IP: "10.42.0.2", Event: EventUp, Member: m, Found: found, ReadAt: t0}
	}
	type pass struct {
		snap       mesh.Snapshot
		relistedAt time.Time
		now        time.Time
		want       []string
		kept       bool // the read is still laid over after this pass
		stale      bool
	}
	for _, tc := range []struct {
		name   string
		read   announce.Decision
		passes []pass
	}{
		{"the cache catches up: the read is dropped", read(healthy, true), []pass{
			{snap: snapWith(up("hello", 1), initializing), now: t0, want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true},
			{snap: snapWith(up("hello", 1), initializing), now: t0.Add(time.Second), want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true},
			{snap: snapWith(up("hello", 1), healthy), now: t0.Add(time.Second), want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}},
		}},
		{"the snapshot has news: it wins", read(healthy, true), []pass{
			{snap: snapWith(up("hello", 1), initializing), now: t0, want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true},
			{snap: snapWith(up("hello", 1), ctr("hello", 2, "stopping", "healthy")), now: t0.Add(time.Second),
				want: []string{"10.42.0.1 running/healthy", "10.42.0.2 stopping/healthy"}},
		}},
		{"a container the cache does not know yet joins its service", read(healthy, true), []pass{
			{snap: snapWith(up("hello", 1)), now: t0, want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true},
		}},
		{"a container gone in Rancher leaves the snapshot", read(mesh.Member{}, false), []pass{
			{snap: snapWith(up("hello", 1), healthy), now: t0, want: []string{"10.42.0.1 running/healthy"}, kept: true},
		}},
		{"a re-list after the read: the list wins", read(healthy, true), []pass{
			{snap: snapWith(up("hello", 1), initializing), relistedAt: t0.Add(time.Millisecond), now: t0.Add(time.Millisecond),
				want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/initializing"}},
		}},
		{"a cache that stays behind: the read holds, and a re-list is asked for once", read(healthy, true), []pass{
			{snap: snapWith(up("hello", 1), initializing), now: t0.Add(4 * time.Second), want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true, stale: true},
			{snap: snapWith(up("hello", 1), initializing), now: t0.Add(5 * time.Second), want: []string{"10.42.0.1 running/healthy", "10.42.0.2 running/healthy"}, kept: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := freshReads{}
			f.add([]announce.Decision{tc.read})
			for i, p := range tc.passes {
				before := states(p.snap)
				got, touched, stale := f.overlay(p.snap, p.relistedAt, p.now)
				if d := cmp.Diff(p.want, states(got)); d != "" {
					t.Errorf("pass %d: containers (-want +got):\n%s", i, d)
				}
				if d := cmp.Diff(before, states(p.snap)); d != "" {
					t.Errorf("pass %d: the observer's snapshot was changed:\n%s", i, d)
				}
				if kept := len(f) == 1; kept != p.kept || touched["hello"] != p.kept || stale != p.stale {
					t.Errorf("pass %d: kept %v touched %v stale %v, want %v %v %v", i, kept, touched["hello"], stale, p.kept, p.kept, p.stale)
				}
				if p.kept && got.Clusters[0].Generation != 0 {
					t.Errorf("pass %d: a changed cluster keeps generation %d", i, got.Clusters[0].Generation)
				}
			}
		})
	}
}
