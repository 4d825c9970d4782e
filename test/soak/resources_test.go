package main

import (
	"math"
	"os"
	"testing"
	"time"
)

func TestCompareJudgesTheLastQuarterAgainstTheFirst(t *testing.T) {
	fig := figure{name: "x", rel: 0.25, abs: 10, perNode: 2}
	const d = 100 * time.Second
	// samples builds one sample per second: v(at) and nodes(at).
	samples := func(v func(s int) float64, nodes func(s int) int) []resSample {
		var out []resSample
		for s := 0; s <= 100; s++ {
			out = append(out, resSample{at: time.Duration(s) * time.Second, nodes: nodes(s),
				values: map[string]float64{"x": v(s)}})
		}
		return out
	}
	flat := func(int) int { return 10 }
	cases := []struct {
		name    string
		samples []resSample
		first   float64
		last    float64
		allowed float64
		ok      bool
	}{
		{"flat", samples(func(int) float64 { return 100 }, flat), 100, 100, 135, true},
		{"growth within the allowance", samples(func(s int) float64 { return 100 + float64(s)/4 }, flat), 104.25, 121.875, 140.3125, true},
		{"a leak", samples(func(s int) float64 { return 100 + float64(s) }, flat), 117, 187.5, 156.25, false},
		{"more nodes allow more", samples(func(s int) float64 { return 100 + float64(s) },
			func(s int) int { return 10 + s/2 }), 117, 187.5, 156.25 + 2*(53.5-18), true},
		{"fewer nodes give no credit", samples(func(int) float64 { return 100 }, func(s int) int { return 50 - s/4 }),
			100, 100, 135, true},
		{"the warm-up is left out", samples(func(s int) float64 {
			if s < 10 {
				return 1
			}
			return 100
		}, flat), 100, 100, 135, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := compare(tc.samples, []figure{fig}, 10*time.Second, d)[0]
			if c.first != tc.first || c.last != tc.last || math.Abs(c.allowed-tc.allowed) > 1e-9 || c.ok != tc.ok {
				t.Fatalf("first %v last %v allowed %v ok %t; want %v %v %v %t", c.first, c.last, c.allowed, c.ok,
					tc.first, tc.last, tc.allowed, tc.ok)
			}
		})
	}
}

func TestCompareLeavesFiguresWithoutSamplesUnjudged(t *testing.T) {
	s := []resSample{{at: 50 * time.Second, values: map[string]float64{"x": 1}}}
	c := compare(s, []figure{{name: "x"}, {name: "y"}}, 0, 100*time.Second)
	if len(c) != 2 || c[0].nFirst != 0 || c[0].nLast != 0 || !c[0].ok || !c[1].ok {
		t.Fatalf("%+v", c)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestFiguresDependOnTheRuntime(t *testing.T) {
	names := func(fs []figure) map[string]bool {
		m := map[string]bool{}
		for _, f := range fs {
			m[f.name] = true
		}
		return m
	}
	goFigs, execFigs := names(figures(false)), names(figures(true))
	if !goFigs[figSimGo] || goFigs[figVMProcs] || !execFigs[figVMProcs] || execFigs[figSimGo] || !goFigs[figCtlFDs] || !execFigs[figCtlFDs] {
		t.Fatalf("go %v, exec %v", goFigs, execFigs)
	}
}

func TestProcFiguresReadsThisProcess(t *testing.T) {
	rss, fds, err := procFigures(os.Getpid())
	if err != nil || rss <= 0 || fds < 3 {
		t.Fatalf("rss %v MiB, fds %v, err %v", rss, fds, err)
	}
	if _, _, err := procFigures(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
