package announce

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

var t0 = time.Unix(1_000_000, 0)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// member is the membership rule of the tests: running and healthy.
func member(m mesh.Member, found bool) bool {
	return found && m.State == "running" && m.HealthState == "healthy"
}

func decide(event string, m mesh.Member, found bool) bool {
	if event == EventUp {
		return member(m, found)
	}
	return !member(m, found)
}

// container is one simulated container: its state as a function of time.
type container struct {
	ip      string
	healthy time.Time // healthState turns healthy here (zero: never)
	stops   time.Time // state turns stopping here (zero: never)
}

func (c container) at(t time.Time) mesh.Member {
	m := mesh.Member{ContainerID: "1i" + c.ip, IP: c.ip, State: "running", HealthState: "initializing"}
	if !c.healthy.IsZero() && !t.Before(c.healthy) {
		m.HealthState = "healthy"
	}
	if !c.stops.IsZero() && !t.Before(c.stops) {
		m.State = "stopping"
	}
	return m
}

type announcement struct {
	at        time.Time
	event, ip string
}

// sim drives a Tracker on a simulated clock against simulated containers,
// as the controller's scheduler does, and records every read (the
// recording fake lookup). An agent stops re-announcing "up" once its "up"
// was decided (its peer set is applied).
type sim struct {
	t          *testing.T
	tr         *Tracker
	containers map[string]container
	latency    time.Duration
	failReads  bool
	reads      []Read
	decided    []Decision
}

func newSim(t *testing.T, plan Plan, cs ...container) *sim {
	t.Helper()
	tr, err := New(plan, decide)
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, tr: tr, containers: map[string]container{}}
	for _, c := range cs {
		s.containers[c.ip] = c
	}
	return s
}

func (s *sim) applied(ip string) bool {
	return slices.ContainsFunc(s.decided, func(d Decision) bool { return d.IP == ip && d.Event == EventUp })
}

// run delivers the announcements (sorted by time) and runs the reads the
// tracker asks for until end.
func (s *sim) run(anns []announcement, end time.Time) {
	slices.SortStableFunc(anns, func(a, b announcement) int { return a.at.Compare(b.at) })
	var inFlight *Read
	var doneAt time.Time
	for {
		now, ok := time.Time{}, false
		pick := func(t time.Time) {
			if !ok || t.Before(now) {
				now, ok = t, true
			}
		}
		if len(anns) > 0 {
			pick(anns[0].at)
		}
		if inFlight != nil {
			pick(doneAt)
		} else if n, has := s.tr.Next(); has {
			pick(n)
		}
		if !ok || now.After(end) {
			return
		}
		if inFlight != nil && !doneAt.After(now) {
			s.decided = append(s.decided, s.tr.Complete(*inFlight)...)
			s.reads = append(s.reads, *inFlight)
			inFlight = nil
		}
		for len(anns) > 0 && !anns[0].at.After(now) {
			a := anns[0]
			anns = anns[1:]
			if a.event == EventUp && s.applied(a.ip) {
				continue // the agent re-announces only until a peer set is applied
			}
			s.tr.Announce(a.at, a.event, a.ip)
		}
		if inFlight == nil {
			if ips := s.tr.Take(now); ips != nil {
				r := Read{IPs: ips, Started: now, Found: map[string]mesh.Member{}}
				for _, ip := range ips {
					if c, ok := s.containers[ip]; ok {
						r.Found[ip] = c.at(now)
					}
				}
				if s.failReads {
					r.Found, r.Err = nil, errors.New("rancher: 503")
				}
				inFlight, doneAt = &r, now.Add(s.latency)
			}
		}
	}
}

// joinAndLeave is one container's cycle with Rancher's default health
// check: listener open at 300 ms, probes every 2 s from 2 s, healthy
// after the second (Cattle records it flip after that probe), stopped at
// 10 s (the agent announces 2 ms after Cattle stores stopping).
func joinAndLeave(ip string, start time.Time, flip time.Duration) (container, []announcement) {
	c := container{ip: ip, healthy: start.Add(4*time.Second + flip), stops: start.Add(10 * time.Second)}
	anns := []announcement{{start.Add(ms(300)), EventUp, ip}}
	for p := 2 * time.Second; p < 10*time.Second; p += 2 * time.Second {
		anns = append(anns, announcement{start.Add(p + ms(1)), EventUp, ip})
	}
	anns = append(anns, announcement{start.Add(10*time.Second + ms(2)), EventStopping, ip})
	return c, anns
}

// The plan's cost per join-and-leave cycle, as the package doc states it:
// 8 reads when Cattle flips the health state before the announcement's
// first read, 9 when it takes up to 15 ms, 10 when it takes longer; each
// cycle decides "up" and "stopping".
func TestJoinAndLeaveCycleCost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flip      time.Duration
		latency   time.Duration
		wantReads int
	}{
		{"Cattle flips at once", ms(1), 0, 8},
		{"Cattle flips after 10 ms", ms(10), 0, 9},
		{"Cattle flips after 30 ms", ms(30), 0, 10},
		{"reads take 50 ms (Cattle-like latency)", ms(1), ms(50), 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, anns := joinAndLeave("10.42.0.21", t0, tc.flip)
			s := newSim(t, Plan{}, c)
			s.latency = tc.latency
			s.run(anns, t0.Add(20*time.Second))
			if len(s.reads) != tc.wantReads {
				t.Errorf("reads = %d, want %d: %v", len(s.reads), tc.wantReads, s.reads)
			}
			var events []string
			for _, d := range s.decided {
				events = append(events, d.Event)
			}
			if !slices.Equal(events, []string{EventUp, EventStopping}) {
				t.Errorf("decided %v, want up then stopping", events)
			}
			if d := s.decided[0]; d.ReadAt.Sub(c.healthy) > ms(60) {
				t.Errorf("join decided %v after Cattle turned it healthy", d.ReadAt.Sub(c.healthy))
			}
			if s.tr.Pending() != 0 {
				t.Errorf("%d IPs still followed after the cycle", s.tr.Pending())
			}
		})
	}
}

// Twenty nodes, one cycle each, one after the other (the benchmark's
// joins): every cycle costs the same few reads, well within the budget of
// 20 API requests per cycle.
func TestCyclesAtTwentyNodesStayWithinBudget(t *testing.T) {
	var cs []container
	var anns []announcement
	for i := range 20 {
		c, a := joinAndLeave(fmt.Sprintf("10.42.0.%d", i+2), t0.Add(time.Duration(i)*15*time.Second), ms(1))
		cs, anns = append(cs, c), append(anns, a...)
	}
	s := newSim(t, Plan{}, cs...)
	s.run(anns, t0.Add(time.Hour))
	if got := float64(len(s.reads)) / 20; got > 8 {
		t.Errorf("reads per cycle = %.1f, want at most 8 (budget: 20 API requests per cycle)", got)
	}
	if len(s.decided) != 40 {
		t.Errorf("decided %d announcements, want 40", len(s.decided))
	}
}

// A scale-up of 50 at once: announcements that overlap share reads, so a
// polling step costs O(1) reads, not O(N); spread over a second, the
// bucket bounds them whatever N.
func TestScaleUpOfFiftyCostsO1ReadsPerStep(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spread   time.Duration
		maxReads int
	}{
		{"all at the same instant: one read per offset", 0, 3},
		{"spread over 1 s: bounded by the bucket", time.Second, DefaultBurst + int(DefaultRate) + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cs []container
			var anns []announcement
			for i := range 50 {
				ip := fmt.Sprintf("10.42.1.%d", i+2)
				cs = append(cs, container{ip: ip}) // initializing throughout: nothing decides
				anns = append(anns, announcement{t0.Add(tc.spread * time.Duration(i) / 50), EventUp, ip})
			}
			s := newSim(t, Plan{}, cs...)
			s.run(anns, t0.Add(10*time.Second))
			if len(s.reads) > tc.maxReads {
				t.Errorf("reads = %d, want at most %d for 50 announcements", len(s.reads), tc.maxReads)
			}
			for _, r := range s.reads {
				if tc.spread == 0 && len(r.IPs) != 50 {
					t.Errorf("a read covered %d IPs, want all 50", len(r.IPs))
				}
			}
			if s.tr.Pending() != 0 {
				t.Errorf("%d IPs still followed: the plan must give up", s.tr.Pending())
			}
		})
	}
}

// The whole plan, step by step, on the injected clock.
func TestTrackerFollowsThePlan(t *testing.T) {
	tr, err := New(Plan{}, decide)
	if err != nil {
		t.Fatal(err)
	}
	initializing := map[string]mesh.Member{"10.42.0.2": {IP: "10.42.0.2", State: "running", HealthState: "initializing"}}
	if _, ok := tr.Next(); ok {
		t.Fatalf("Next with nothing followed")
	}
	if !tr.Announce(t0, EventUp, "10.42.0.2") {
		t.Fatal("announcement refused")
	}
	if n, _ := tr.Next(); !n.Equal(t0.Add(ms(2))) {
		t.Errorf("first read due at %v, want +2ms", n.Sub(t0))
	}
	if ips := tr.Take(t0.Add(ms(1))); ips != nil {
		t.Errorf("read before its offset: %v", ips)
	}
	ips := tr.Take(t0.Add(ms(2)))
	if !slices.Equal(ips, []string{"10.42.0.2"}) {
		t.Fatalf("Take = %v", ips)
	}
	if _, ok := tr.Next(); ok {
		t.Errorf("Next while a read is in flight")
	}
	if tr.Take(t0.Add(ms(11))) != nil {
		t.Errorf("a second read in flight")
	}
	if d := tr.Complete(Read{IPs: ips, Started: t0.Add(ms(2)), Found: initializing}); len(d) != 0 {
		t.Errorf("initializing decided %v", d)
	}
	if n, _ := tr.Next(); !n.Equal(t0.Add(ms(15))) {
		t.Errorf("second read due at %v, want +15ms", n.Sub(t0))
	}
	ips = tr.Take(t0.Add(ms(15)))
	if d := tr.Complete(Read{IPs: ips, Started: t0.Add(ms(15)), Found: initializing}); len(d) != 0 {
		t.Errorf("initializing decided %v", d)
	}
	if n, _ := tr.Next(); !n.Equal(t0.Add(ms(60))) {
		t.Errorf("third read due at %v, want +60ms", n.Sub(t0))
	}
	// A re-announcement starts the plan again.
	tr.Announce(t0.Add(ms(40)), EventUp, "10.42.0.2")
	if n, _ := tr.Next(); !n.Equal(t0.Add(ms(42))) {
		t.Errorf("after a re-announcement: due at %v, want +42ms", n.Sub(t0))
	}
	for _, at := range []int{42, 55, 100} {
		ips := tr.Take(t0.Add(ms(at)))
		tr.Complete(Read{IPs: ips, Started: t0.Add(ms(at)), Err: errors.New("rancher: 503")})
	}
	if tr.Pending() != 0 {
		t.Errorf("failed reads are not retried beyond the plan: %d pending", tr.Pending())
	}
	// "stopping" is read at once, and decided by a non-member.
	tr.Announce(t0.Add(time.Second), EventStopping, "10.42.0.3")
	ips = tr.Take(t0.Add(time.Second))
	d := tr.Complete(Read{IPs: ips, Started: t0.Add(time.Second), Found: map[string]mesh.Member{}})
	if len(d) != 1 || d[0].Found || d[0].Event != EventStopping {
		t.Errorf("stopping of a gone container: %+v", d)
	}
}

// A read delayed past several offsets (the bucket, a slow read) counts for
// all of them: the plan never falls behind into extra reads.
func TestLateReadCountsForEveryDueOffset(t *testing.T) {
	tr, _ := New(Plan{Up: []time.Duration{ms(10), ms(20), ms(30)}}, decide)
	tr.Announce(t0, EventUp, "10.42.0.2")
	ips := tr.Take(t0.Add(ms(25)))
	tr.Complete(Read{IPs: ips, Started: t0.Add(ms(25))})
	if n, _ := tr.Next(); !n.Equal(t0.Add(ms(30))) {
		t.Errorf("next due at %v, want the last offset, +30ms", n.Sub(t0))
	}
}

// Reads are bounded by the token bucket: a burst, then Rate per second.
func TestReadsAreBoundedPerSecond(t *testing.T) {
	tr, _ := New(Plan{Up: []time.Duration{0}, Rate: 10, Burst: 2}, decide)
	var reads int
	for i := range 1000 { // one announcement every millisecond for a second
		now := t0.Add(time.Duration(i) * time.Millisecond)
		tr.Announce(now, EventUp, fmt.Sprintf("10.42.%d.%d", i/250, i%250+2))
		if ips := tr.Take(now); ips != nil {
			reads++
			tr.Complete(Read{IPs: ips, Started: now})
		}
	}
	if reads > 2+10+1 {
		t.Errorf("%d reads in one second, want at most burst 2 + rate 10", reads)
	}
}

func TestTrackerRefusesBeyondItsBounds(t *testing.T) {
	tr, _ := New(Plan{MaxPending: 2, MaxBatch: 1}, decide)
	if tr.Announce(t0, "hello", "10.42.0.2") {
		t.Errorf("unknown event accepted")
	}
	tr.Announce(t0, EventUp, "10.42.0.2")
	tr.Announce(t0, EventUp, "10.42.0.3")
	if tr.Announce(t0, EventUp, "10.42.0.4") {
		t.Errorf("a third IP accepted beyond MaxPending 2")
	}
	if !tr.Announce(t0, EventStopping, "10.42.0.3") {
		t.Errorf("a followed IP's new announcement refused")
	}
	if ips := tr.Take(t0.Add(time.Second)); len(ips) != 1 {
		t.Errorf("read of %d IPs, want MaxBatch 1", len(ips))
	}
}

func TestPlanRejectsBadOffsets(t *testing.T) {
	for _, p := range []Plan{
		{Up: []time.Duration{ms(20), ms(10)}},
		{Stopping: []time.Duration{-ms(1)}},
		{Up: []time.Duration{}},
	} {
		if _, err := New(p, decide); err == nil || !strings.Contains(err.Error(), "plan:") {
			t.Errorf("New(%+v) = %v, want a plan error", p, err)
		}
	}
}
