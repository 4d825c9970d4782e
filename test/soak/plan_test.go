package main

import (
	"reflect"
	"testing"
	"time"
)

func testPlanner(seed uint64, exec bool) *planner {
	return newPlanner(seed, []string{"alpha", "beta", "gamma1", "gamma2"},
		map[string]int{"alpha": 3, "beta": 3, "gamma1": 2, "gamma2": 2}, 10, exec)
}

// plan runs n steps spread evenly over a run.
func plan(p *planner, n int) []step {
	out := make([]step, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, p.next(i, float64(i-1)/float64(n)))
	}
	return out
}

func TestPlannerReplaysTheSameStepsForASeed(t *testing.T) {
	a, b := plan(testPlanner(42, false), 200), plan(testPlanner(42, false), 200)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two planners with one seed planned different steps")
	}
	if c := plan(testPlanner(43, false), 200); reflect.DeepEqual(a, c) {
		t.Fatal("another seed planned the same steps")
	}
}

func TestPlannerKeepsScalesWithinBoundsAndChangesThem(t *testing.T) {
	p := testPlanner(7, false)
	scales := map[string]int{"alpha": 3, "beta": 3, "gamma1": 2, "gamma2": 2}
	for _, s := range plan(p, 2000) {
		for _, sc := range []*step{&s, s.inner} {
			if sc == nil || sc.kind != kindScale {
				continue
			}
			if sc.scale < 0 || sc.scale > 10 || sc.scale == sc.from || sc.from != scales[sc.service] {
				t.Fatalf("step %d: %s %d -> %d (the planner's scale was %d)", s.n, sc.service, sc.from, sc.scale, scales[sc.service])
			}
			scales[sc.service] = sc.scale
		}
		if s.kind == kindUpgrade || s.kind == kindRestart || s.kind == kindKill {
			if scales[s.service] == 0 {
				t.Fatalf("step %d: %s of %s, which has no container", s.n, s.kind, s.service)
			}
		}
	}
	if !reflect.DeepEqual(scales, p.scales) {
		t.Fatalf("planner's scales %v, steps' %v", p.scales, scales)
	}
}

func TestPlannerKillsTheControllerOnlyInTheSecondQuarter(t *testing.T) {
	const n = 400
	steps := plan(testPlanner(9, false), n)
	kills := 0
	for _, s := range steps {
		frac := float64(s.n-1) / n
		if s.kind == kindCtlKill || s.kind == kindCtlTerm {
			kills++
			if frac < ctlWindowStart || frac >= ctlWindowEnd {
				t.Fatalf("step %d (at %.2f of the run) is %s", s.n, frac, s.kind)
			}
		}
	}
	if kills == 0 {
		t.Fatal("no controller kill in the second quarter")
	}
}

func TestPlannerCoversEveryKindEarly(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		p := testPlanner(seed, true)
		const n = 40 // a 10-minute run takes about that many steps
		seen := map[kind]bool{}
		for _, s := range plan(p, n) {
			seen[s.kind] = true
		}
		for _, kw := range allKinds() {
			if !seen[kw.k] {
				t.Fatalf("seed %d: no %s in %d steps (%v)", seed, kw.k, n, p.done)
			}
		}
	}
}

func TestPlannerParametersStayInTheirRanges(t *testing.T) {
	for _, s := range plan(testPlanner(11, true), 2000) {
		switch s.kind {
		case kindAPI5xx:
			if s.code < 500 || s.code > 504 || s.fault < minFault || s.fault > maxFault {
				t.Fatalf("step %d: %s", s.n, s)
			}
		case kindAPIHang:
			if s.fault < minFault || s.fault > maxFault {
				t.Fatalf("step %d: %s", s.n, s)
			}
		case kindCtlKill, kindCtlTerm:
			if s.fault < minDown || s.fault > maxDown {
				t.Fatalf("step %d: %s", s.n, s)
			}
		case kindUpgrade, kindRestart:
			if s.batch < 1 || s.batch > maxBatch || s.interval < 0 || s.interval > maxInterval {
				t.Fatalf("step %d: %s", s.n, s)
			}
		}
		if s.inner != nil && (s.innerAfter < 0 || s.innerAfter > s.fault) {
			t.Fatalf("step %d: inner change at %s of a %s fault", s.n, s.innerAfter, s.fault)
		}
		if s.pause < 0 || s.pause > maxPause {
			t.Fatalf("step %d: pause %s", s.n, s.pause)
		}
	}
}

func TestPlannerDirectKillsOnlyWithRealVMs(t *testing.T) {
	for _, exec := range []bool{false, true} {
		direct := 0
		for _, s := range plan(testPlanner(5, exec), 1000) {
			for _, sc := range []*step{&s, s.inner} {
				if sc != nil && sc.kind == kindKill && sc.direct {
					direct++
				}
			}
		}
		if exec != (direct > 0) {
			t.Fatalf("exec %t: %d direct VM kills", exec, direct)
		}
	}
}

func TestStepDescriptions(t *testing.T) {
	cases := []struct {
		s    step
		want string
	}{
		{step{kind: kindScale, service: "beta", from: 3, scale: 7}, "beta 3 -> 7"},
		{step{kind: kindUpgrade, service: "alpha", batch: 2, interval: time.Second, startFirst: true, rollback: true},
			"alpha batch 2 interval 1s startFirst true, then rollback"},
		{step{kind: kindAPI5xx, code: 503, fault: 12 * time.Second, innerAfter: 3 * time.Second,
			inner: &step{kind: kindKill, service: "beta", direct: true}},
			"status 503 for 12s; after 3s: kill a member of beta: its VM (outside Rancher)"},
	}
	for _, tc := range cases {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
