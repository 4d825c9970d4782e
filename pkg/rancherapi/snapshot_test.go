package rancherapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	client "github.com/rancher/go-rancher/v2"
)

// shape is a combination of the member sources a server does not render.
type shape struct {
	noStackID      bool // containers without stackId
	noServiceRefs  bool // containers without serviceIds and serviceId
	nullLabels     bool // containers with "labels": null
	noInstanceIDs  bool // services without instanceIds
	filterIgnored  bool // the containers schema has no stackId filter (older servers): ignored
	wantNoSourceAt bool // no source links anything: the snapshot must fail
}

func (s shape) String() string {
	var parts []string
	for _, x := range []struct {
		on   bool
		name string
	}{{s.noStackID, "no stackId"}, {s.noServiceRefs, "no serviceIds"}, {s.nullLabels, "null labels"},
		{s.noInstanceIDs, "no instanceIds"}, {s.filterIgnored, "stack filter ignored"}} {
		if x.on {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "every source"
	}
	return strings.Join(parts, ", ")
}

// apply makes the fake render s.
func (s shape) apply(f *fakeRancher) {
	if s.noStackID {
		f.unset("containers", "stackId")
	}
	if s.noServiceRefs {
		f.unset("containers", "serviceIds")
		f.unset("containers", "serviceId")
	}
	if s.nullLabels {
		f.setAll("containers", "labels", nil)
	}
	if s.noInstanceIDs {
		f.unset("services", "instanceIds")
	}
	if s.filterIgnored {
		f.honourIn = map[string]map[string]bool{"containers": {"name": true, "removed_null": true}}
	}
}

// shapes returns every combination of missing sources, with and without
// an honoured stack filter.
func shapes() []shape {
	var out []shape
	for bits := range 32 {
		s := shape{noStackID: bits&1 != 0, noServiceRefs: bits&2 != 0, nullLabels: bits&4 != 0, noInstanceIDs: bits&8 != 0, filterIgnored: bits&16 != 0}
		s.wantNoSourceAt = s.noServiceRefs && s.nullLabels && s.noInstanceIDs
		out = append(out, s)
	}
	return out
}

// TestOlderCattleShapesAreNeverEmpty: whatever combination of sources a
// server leaves out, and whether it honours the stack filter on a column
// it leaves empty, a snapshot holds every member, twice in a row (the
// second one after the client learnt about the filter), or, when no
// source is left at all, fails as transient rather than come back empty.
func TestOlderCattleShapesAreNeverEmpty(t *testing.T) {
	for _, s := range shapes() {
		t.Run(s.String(), func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(5)
			s.apply(f)
			c := f.newClient(t)
			for pass := 1; pass <= 2; pass++ {
				snap, err := c.Snapshot(context.Background())
				if s.wantNoSourceAt {
					if err == nil || !IsTransient(err) || len(snap.Clusters) != 0 {
						t.Fatalf("pass %d: err = %v, members %v; want a transient error and no snapshot", pass, err, memberIDs(snap))
					}
					if !strings.Contains(err.Error(), "no instanceIds") {
						t.Errorf("error does not say what is missing: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("pass %d: %v", pass, err)
				}
				mustEqual(t, memberIDs(snap), wantIDs(5))
			}
		})
	}
}

// The exact case of issue 12: containers without stackId and serviceIds,
// a server that honours the stack filter, a service without instanceIds.
// Before, the snapshot had zero members and no error.
func TestStackFilterOnEmptyColumnIsCrossChecked(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	shape{noStackID: true, noServiceRefs: true, noInstanceIDs: true}.apply(f)
	c := f.newClient(t)
	f.resetLog()
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(snap), wantIDs(3))
	got := f.requests()
	if len(got) != 4 || !strings.Contains(got[2], "stackId=1st1") || strings.Contains(got[3], "stackId") {
		t.Errorf("requests = %v; want stacks, services, the filtered containers, then unfiltered containers", got)
	}
	f.resetLog()
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); len(got) != 3 || strings.Contains(got[2], "stackId") {
		t.Errorf("second snapshot requests = %v; want 3, the container list no longer filtered", got)
	}
}

// A service with scale > 0 whose instanceIds say it has no container is
// believed empty, after one cross-check without the filter.
func TestEmptyServiceConfirmedByInstanceIDs(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(0)
	f.set("services", "1s1", "scale", 2)
	f.set("services", "1s1", "instanceIds", []string{})
	c := f.newClient(t)
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids := memberIDs(snap); len(ids) != 0 {
		t.Fatalf("members %v", ids)
	}
	if snap.Requests != 4 {
		t.Errorf("requests = %d, want 4 (one cross-check without the stack filter)", snap.Requests)
	}
}

func TestSourcesThatDisagreeFailTheSnapshot(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f *fakeRancher)
		want   string
	}{
		{"a labelled container is missing from instanceIds", func(f *fakeRancher) {
			f.add("containers", fakeContainer("1i6", "1s1", "1st1", "demo/web", 6))
			f.set("containers", "1i6", "serviceIds", nil)
		}, "1i6"},
		{"serviceIds name the service, instanceIds do not", func(f *fakeRancher) {
			f.add("containers", fakeContainer("1i6", "1s1", "1st1", "demo/web", 6))
		}, "instanceIds and serviceIds disagree"},
		{"instanceIds name a container whose serviceIds name another service", func(f *fakeRancher) {
			f.set("containers", "1i2", "serviceIds", []string{"1s2"})
		}, "instanceIds and serviceIds disagree"},
		{"instanceIds name many containers no list shows", func(f *fakeRancher) {
			var ids []string
			for i := 1; i <= 4+maxByID; i++ {
				ids = append(ids, fmt.Sprintf("1i%d", i))
			}
			f.set("services", "1s1", "instanceIds", ids)
		}, "fewer containers than the services' instanceIds name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(3)
			tt.mutate(f)
			c := f.newClient(t)
			snap, err := c.Snapshot(context.Background())
			if err == nil || !IsTransient(err) || IsTerminal(err) {
				t.Fatalf("err = %v, members %v; want a transient error", err, memberIDs(snap))
			}
			if len(snap.Clusters) != 0 {
				t.Fatalf("a failed snapshot returned data: %+v", snap)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not say %q: %v", tt.want, err)
			}
		})
	}
}

// A container created between the services list and the containers list
// is named by the services read again: the snapshot holds it, no error.
func TestContainerCreatedBetweenListsIsRechecked(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	var serviceLists atomic.Int32
	f.setFail(func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/services") {
			serviceLists.Add(1)
		}
		// The first services answer predates the container: it appears,
		// and the service names it, just before the containers are listed.
		if strings.HasSuffix(r.URL.Path, "/containers") && serviceLists.Load() == 1 {
			f.add("containers", fakeContainer("1i4", "1s1", "1st1", "demo/web", 4))
			f.set("services", "1s1", "instanceIds", wantIDs(4))
		}
		return 0
	})
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(snap), wantIDs(4))
	if n := serviceLists.Load(); n != 2 {
		t.Errorf("services listed %d times, want 2 (the recheck)", n)
	}
}

// A stack and service renamed in the UI keep their containers' old labels
// (rancher/rancher#4328, #11398); the ids still link them, so the members
// stay, and no conflict is raised.
func TestRenamedServiceKeepsItsMembers(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	f.setAll("containers", "labels", map[string]any{labelStackService: "old-stack/old-name", labelStackName: "old-stack"})
	c := f.newClient(t)
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(snap), wantIDs(3))
}

// Sidekicks are in their service's instanceIds and serviceIds but are not
// members; they raise no conflict.
func TestSidekicksAreNotMembers(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(2)
	f.add("containers", fakeContainer("1i7", "1s1", "1st1", "demo/web/logger", 7))
	f.set("services", "1s1", "instanceIds", []string{"1i1", "1i2", "1i7"})
	c := f.newClient(t)
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(snap), wantIDs(2))
}

// Sanity check of the fixture helpers: the seed renders every source.
func TestSeedRendersEverySource(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(1)
	var ct client.Container
	if err := f.newClient(t).rc.ById(schemaContainer, "1i1", &ct); err != nil {
		t.Fatal(err)
	}
	if ct.StackId != "1st1" || len(ct.ServiceIds) != 1 || labelString(ct.Labels, labelStackService) != "demo/web" {
		t.Fatalf("seed container = %+v", ct)
	}
}
