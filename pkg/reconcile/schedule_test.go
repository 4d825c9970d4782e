package reconcile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/mesh"
)

var schedT0 = time.Unix(2_000_000, 0)

func sec(f float64) time.Duration { return time.Duration(math.Round(f * float64(time.Second))) }

// describeJob renders a job for the table: "pass event", "pass resync
// relist full", "read 10.42.0.2"; a pass shows the IPs it re-reads and the
// fresh reads it carries.
func describeJob(j work) string {
	if j.Kind == KindRead {
		return "read " + strings.Join(j.IPs, ",")
	}
	out := []string{"pass", string(j.Kind)}
	if j.Relist {
		out = append(out, "relist")
	}
	if j.Full {
		out = append(out, "full")
	}
	if len(j.Announced) > 0 {
		out = append(out, "announced="+strings.Join(j.Announced, ","))
	}
	for _, f := range j.Fresh {
		out = append(out, "fresh="+f.IP)
	}
	return strings.Join(out, " ")
}

func testScheduler(t *testing.T, withReads bool) *scheduler {
	t.Helper()
	var reads *announce.Tracker
	if withReads {
		var err error
		reads, err = announce.New(announce.Plan{}, func(event string, m mesh.Member, found bool) bool {
			member := found && m.State == "running" && m.HealthState == "healthy"
			return member == (event == EventUp)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return newScheduler(scheduleConfig{minEventGap: 100 * time.Millisecond, resync: time.Minute, drift: 10 * time.Second,
		confirm: time.Second, backoffBase: 250 * time.Millisecond, backoffMax: 30 * time.Second, maxAnnounced: 100},
		reads, schedT0)
}

// scheduleStep is one row: at a time, something happens (do), then the
// jobs that are due run (want); next, when set, is when the scheduler next
// has work.
type scheduleStep struct {
	at   float64 // seconds after t0
	do   string
	want []string
	next float64
}

// runSchedule plays the rows against a scheduler. do is one of: "" (time
// passes), "event", "up IP", "stopping IP", "pass ok", "pass aborted",
// "pass held", "pass backoff-until SECONDS", "pass stale", "read STATE"
// (the read in flight answers: every IP in that health state, or "gone").
func runSchedule(t *testing.T, s *scheduler, steps []scheduleStep) {
	t.Helper()
	var lastRead work
	var readAt time.Time
	for _, st := range steps {
		now := schedT0.Add(sec(st.at))
		f := strings.Fields(st.do)
		switch {
		case len(f) == 0:
		case f[0] == "event":
			s.Request(now, trigger{Kind: triggerEvent})
		case f[0] == EventUp || f[0] == EventStopping:
			s.Request(now, trigger{Kind: triggerAnnouncement, Event: f[0], IP: f[1]})
		case f[0] == "pass":
			var o outcome
			switch f[1] {
			case "aborted":
				o.Aborted = true
			case "held":
				o.HeldDrop = true
			case "backoff-until":
				var at float64
				if _, err := fmt.Sscan(f[2], &at); err != nil {
					t.Fatalf("backoff-until %q: %v", f[2], err)
				}
				o.WakeAt = schedT0.Add(sec(at))
			case "stale":
				o.StaleReads = true
			}
			s.PassDone(now, o)
		case f[0] == "read":
			r := announce.Read{IPs: lastRead.IPs, Started: readAt, Found: map[string]mesh.Member{}}
			if f[1] != "gone" {
				for _, ip := range lastRead.IPs {
					r.Found[ip] = mesh.Member{IP: ip, State: "running", HealthState: f[1]}
				}
			}
			s.ReadDone(now, r)
		default:
			t.Fatalf("t=%v: unknown step %q", st.at, st.do)
		}
		var got []string
		for _, j := range s.Due(now) {
			got = append(got, describeJob(j))
			if j.Kind == KindRead {
				lastRead, readAt = j, now
			}
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("t=%v after %q: jobs %q, want %q", st.at, st.do, got, st.want)
		}
		if st.next != 0 {
			if n, ok := s.Next(); !ok || !n.Equal(schedT0.Add(sec(st.next))) {
				t.Errorf("t=%v after %q: next at %v (%v), want %v", st.at, st.do, n.Sub(schedT0).Seconds(), ok, st.next)
			}
		}
	}
}

// The one scheduler, as a table of (time, trigger) -> the passes and reads
// that run, with their kind.
func TestSchedulerTable(t *testing.T) {
	runSchedule(t, testScheduler(t, true), []scheduleStep{
		{at: 0, want: []string{"pass start relist full"}},
		{at: 0.01, do: "pass ok", next: 10},
		// Events within MinEventGap of the last start share one pass at its end.
		{at: 0.05, do: "event", next: 0.1},
		{at: 0.06, do: "event"},
		{at: 0.1, want: []string{"pass event"}},
		{at: 0.12, do: "pass ok"},
		// A lone event long after the last pass runs at once.
		{at: 1, do: "event", want: []string{"pass event"}},
		{at: 1.01, do: "pass ok", next: 10},
		// Drift re-reads every node; it does not re-list.
		{at: 10, want: []string{"pass drift full"}},
		{at: 10.01, do: "pass ok", next: 20},
		// The resync comes due 60 s after the last re-list, whatever else ran;
		// a drift due meanwhile merges into it.
		{at: 60, want: []string{"pass resync relist full"}},
		// An aborted pass is retried with a growing delay, each retry
		// re-listing.
		{at: 60.01, do: "pass aborted", next: 60.26},
		{at: 60.2},
		{at: 60.26, want: []string{"pass retry relist"}},
		{at: 60.27, do: "pass aborted", next: 60.77},
		{at: 60.77, want: []string{"pass retry relist"}},
		{at: 60.78, do: "pass ok"},
		// An announcement: reads at +2 ms, +15 ms and +60 ms; the third
		// decides, and a pass follows that re-reads the node and sees the read.
		{at: 61, do: "up 10.42.0.2", next: 61.002},
		{at: 61.002, want: []string{"read 10.42.0.2"}},
		{at: 61.004, do: "read initializing", next: 61.015},
		{at: 61.015, want: []string{"read 10.42.0.2"}},
		{at: 61.017, do: "read initializing", next: 61.06},
		{at: 61.06, want: []string{"read 10.42.0.2"}},
		{at: 61.062, do: "read healthy", want: []string{"pass announce announced=10.42.0.2 fresh=10.42.0.2"}},
		// A held drop is confirmed by a re-listing pass a second later.
		{at: 61.07, do: "pass held", next: 62.07},
		{at: 62.07, want: []string{"pass confirm relist"}},
		// The end of a node's backoff is a pass.
		{at: 62.08, do: "pass backoff-until 65", next: 65},
		{at: 65, want: []string{"pass backoff"}},
		// Fresh reads the observer does not catch up with: a re-list.
		{at: 65.01, do: "pass stale", next: 65.1},
		{at: 65.1, want: []string{"pass resync relist"}},
		{at: 65.11, do: "pass ok"},
		// A read runs while a pass does; a stopping container is read at once
		// and its pass waits for the running one.
		{at: 66, do: "event", want: []string{"pass event"}},
		{at: 66.001, do: "stopping 10.42.0.3", want: []string{"read 10.42.0.3"}},
		{at: 66.003, do: "read gone"},
		{at: 66.2, do: "pass ok", want: []string{"pass announce announced=10.42.0.3 fresh=10.42.0.3"}},
		{at: 66.21, do: "pass ok"},
		// An announcement that Rancher does not confirm is given up after
		// the plan's reads: no pass.
		{at: 70, want: []string{"pass drift full"}},
		{at: 70.01, do: "pass ok"},
		{at: 71, do: "up 10.42.0.4"},
		{at: 71.002, want: []string{"read 10.42.0.4"}},
		{at: 71.003, do: "read initializing"},
		{at: 71.015, want: []string{"read 10.42.0.4"}},
		{at: 71.016, do: "read initializing"},
		{at: 71.06, want: []string{"read 10.42.0.4"}},
		{at: 71.061, do: "read initializing", next: 80},
		{at: 80, want: []string{"pass drift full announced=10.42.0.4"}},
		{at: 80.01, do: "pass ok"},
		// A decided announcement does not wait for the event gap: its pass
		// starts at once, 22 ms after the drift pass began; an event that
		// came meanwhile rides along.
		{at: 80.012, do: "up 10.42.0.5", next: 80.014},
		{at: 80.013, do: "event"},
		{at: 80.014, want: []string{"read 10.42.0.5"}},
		{at: 80.022, do: "read healthy", want: []string{"pass announce announced=10.42.0.5 fresh=10.42.0.5"}},
		{at: 80.03, do: "pass ok"},
		// An announcement without a decision (nothing to read with, too
		// many followed) still waits for the gap: see
		// TestAnnouncementWithoutLookupIsAPass.
	})
}

// Without a lookup an announcement is only a pass (merged by the gap).
func TestAnnouncementWithoutLookupIsAPass(t *testing.T) {
	runSchedule(t, testScheduler(t, false), []scheduleStep{
		{at: 0, want: []string{"pass start relist full"}},
		{at: 0.01, do: "pass ok"},
		{at: 0.02, do: "up 10.42.0.2", next: 0.1},
		{at: 0.1, want: []string{"pass announce announced=10.42.0.2"}},
	})
}

// A burst of events: one pass when the gap ends, then nothing more.
func TestScheduleCoalescesEvents(t *testing.T) {
	s := testScheduler(t, false)
	runSchedule(t, s, []scheduleStep{{at: 0, want: []string{"pass start relist full"}}, {at: 0.001, do: "pass ok"}})
	for i := range 50 {
		s.Request(schedT0.Add(time.Duration(i)*time.Millisecond), trigger{Kind: triggerEvent})
	}
	runSchedule(t, s, []scheduleStep{
		{at: 0.099},
		{at: 0.1, want: []string{"pass event"}},
		{at: 0.11, do: "pass ok"},
		{at: 0.15},
	})
	if n, _ := s.Next(); !n.Equal(schedT0.Add(10 * time.Second)) {
		t.Errorf("after the burst, next work at %v, want the drift at 10s", n.Sub(schedT0))
	}
}
