package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {90, 9}, {100, 10}, {1, 1}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty input")
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1500 * time.Millisecond: "1.5s", 125 * time.Second: "2m05s", 3723 * time.Second: "1h02m03s",
	} {
		if got := clock(d); got != want {
			t.Errorf("clock(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestSummaryFailsOnAnyViolation(t *testing.T) {
	st := &stepStats{}
	st.record(200*time.Millisecond, 3*time.Second, true, false)
	st.record(0, 70*time.Second, false, false)
	s := summary{stats: map[kind]*stepStats{kindScale: st}, sample: 250 * time.Millisecond, duration: time.Minute,
		comparisons: []comparison{{fig: figure{name: figCtlGo}, first: 40, last: 90, allowed: 70, nFirst: 3, nLast: 3}},
		violations:  []violation{{at: time.Minute, rule: ruleNotConverged, msg: "x"}}}
	var b bytes.Buffer
	s.write(&b)
	out := b.String()
	for _, want := range []string{"scale         2      1      0     0.20s", "GROWTH", "violations: 1", "result: FAIL"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	s.violations = nil
	b.Reset()
	s.write(&b)
	if !strings.Contains(b.String(), "result: PASS") {
		t.Errorf("no PASS in:\n%s", b.String())
	}
}
