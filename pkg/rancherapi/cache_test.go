package rancherapi

import (
	"fmt"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	ev := eventVersion
	rd := readVersion
	tests := []struct {
		name     string
		new, old version
		want     order
	}{
		{"a later event replaces an event", ev(5), ev(3), newer},
		{"the same event again", ev(5), ev(5), newer},
		{"an earlier event does not replace a later one", ev(3), ev(5), older},
		{"an event received before the list started is superseded by it", ev(3), rd(4, 9), older},
		{"an event received as the list started is superseded by it", ev(4), rd(4, 9), older},
		{"an event received while the list ran is ambiguous", ev(6), rd(4, 9), ambiguous},
		{"an event received as the list's answer came is ambiguous", ev(9), rd(4, 9), ambiguous},
		{"an event received after the list is applied", ev(10), rd(4, 9), newer},
		{"a list that started after an event replaces it", rd(5, 9), ev(5), newer},
		{"a list during which the event came is ambiguous", rd(4, 9), ev(7), ambiguous},
		{"a list older than the event is dropped", rd(4, 9), ev(10), older},
		{"a later read replaces an earlier one", rd(10, 12), rd(4, 9), newer},
		{"overlapping reads: the later-ending wins", rd(5, 12), rd(4, 9), newer},
		{"an earlier read is dropped", rd(1, 3), rd(4, 9), older},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compareVersions(tt.new, tt.old); got != tt.want {
				t.Errorf("compareVersions(%+v, %+v) = %d, want %d", tt.new, tt.old, got, tt.want)
			}
		})
	}
}

// step is one observation offered to a cache holding container 1i1.
type step struct {
	state string // "" means gone
	v     version
}

func TestOfferOrdersObservations(t *testing.T) {
	ev := eventVersion
	rd := readVersion
	tests := []struct {
		name        string
		steps       []step
		wantState   string // "" means gone
		wantRecheck bool
	}{
		{"an event then a newer list", []step{{"stopped", ev(3)}, {"running", rd(4, 9)}}, "running", false},
		{"a list then a later event", []step{{"running", rd(4, 9)}, {"stopped", ev(10)}}, "stopped", false},
		{"an event queued behind a list does not undo it", []step{{"running", rd(4, 9)}, {"stopped", ev(2)}}, "running", false},
		{"an event received during the list: kept, read again", []step{{"running", rd(4, 9)}, {"stopped", ev(6)}}, "stopped", true},
		{"a list that ran while an event came: event kept, read again", []step{{"stopped", ev(6)}, {"running", rd(4, 9)}}, "stopped", true},
		{"the read again settles it", []step{{"stopped", ev(6)}, {"running", rd(4, 9)}, {"running", rd(10, 11)}}, "running", false},
		{"a newer event settles it too", []step{{"stopped", ev(6)}, {"running", rd(4, 9)}, {"stopping", ev(12)}}, "stopping", false},
		{"a removal is not undone by an older list", []step{{"", ev(8)}, {"running", rd(2, 5)}}, "", false},
		{"a removal during a list is read again", []step{{"", ev(8)}, {"running", rd(5, 9)}}, "", true},
		{"a removed container read by id after the removal stays gone", []step{{"", ev(8)}, {"", rd(9, 10)}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache()
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, s := range tt.steps {
				offer(c, &c.containers, "1i1", container{ID: "1i1", State: s.state}, s.state == "", s.v)
			}
			got, ok := c.containers.get("1i1")
			if state := map[bool]string{true: got.State}[ok]; state != tt.wantState {
				t.Errorf("state = %q (present %v), want %q", state, ok, tt.wantState)
			}
			if _, re := c.recheck[objKey{kindContainer, "1i1"}]; re != tt.wantRecheck {
				t.Errorf("recheck = %v, want %v", re, tt.wantRecheck)
			}
		})
	}
}

// A full list replaces the table: what it lacks is gone, unless an event
// newer than the list says otherwise; a few objects missing without a
// removal event are read again rather than dropped (offset pages shift).
func TestInstallFullList(t *testing.T) {
	c := newCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	list := func(ids ...string) map[string]container {
		m := map[string]container{}
		for _, id := range ids {
			m[id] = container{ID: id, State: "running"}
		}
		return m
	}
	install(c, &c.containers, list("1i1", "1i2", "1i3", "1i4"), readVersion(0, 1))
	offer(c, &c.containers, "1i4", container{ID: "1i4", State: "removed"}, true, eventVersion(2))  // removed, with an event
	offer(c, &c.containers, "1i5", container{ID: "1i5", State: "running"}, false, eventVersion(9)) // created after the next list
	install(c, &c.containers, list("1i1", "1i2"), readVersion(3, 5))
	if len(c.recheck) != 1 {
		t.Fatalf("rechecks = %v, want 1i3 only (missing without an event)", c.recheck)
	}
	if _, ok := c.recheck[objKey{kindContainer, "1i3"}]; !ok {
		t.Errorf("1i3 not marked: %v", c.recheck)
	}
	for id, want := range map[string]bool{"1i1": true, "1i2": true, "1i3": true, "1i4": false, "1i5": true} {
		if _, ok := c.containers.get(id); ok != want {
			t.Errorf("%s present = %v, want %v", id, ok, want)
		}
	}
	// Many missing at once (a long disconnect): the list is believed.
	var many []string
	for i := range maxByID + 5 {
		many = append(many, fmt.Sprintf("1i%d", 100+i))
	}
	install(c, &c.containers, list(many...), readVersion(10, 11))
	install(c, &c.containers, list(), readVersion(12, 13))
	for _, id := range many {
		if _, ok := c.containers.get(id); ok {
			t.Fatalf("%s kept after %d went missing at once", id, len(many))
		}
	}
}

// Tombstones go after a list, once no read in flight and no queued event
// is older; the cache stops being trusted when too many pile up.
func TestTombstonesAreCollected(t *testing.T) {
	c := newCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Store(10)
	c.applied = 10
	offer(c, &c.containers, "1i1", container{ID: "1i1"}, true, eventVersion(4))
	offer(c, &c.containers, "1i2", container{ID: "1i2"}, true, eventVersion(8))
	c.reads[6]++ // a lookup that started at 6 is in flight
	c.collectTombstonesLocked()
	if _, ok := c.containers.rows["1i1"]; ok || c.containers.rows["1i2"] == nil || c.tombstones != 1 {
		t.Fatalf("rows %v, tombstones %d; want only 1i2's kept", c.containers.rows, c.tombstones)
	}
	c.endReadLocked(6)
	c.collectTombstonesLocked()
	if len(c.containers.rows) != 0 || c.tombstones != 0 {
		t.Fatalf("rows %v, tombstones %d", c.containers.rows, c.tombstones)
	}
	c.up, c.listed, c.listedAt = true, true, c.epoch
	for i := range maxTombstones + 1 {
		offer(c, &c.containers, fmt.Sprint(i), container{}, true, eventVersion(11))
	}
	if c.completeLocked() {
		t.Error("still complete with more than maxTombstones tombstones")
	}
}
