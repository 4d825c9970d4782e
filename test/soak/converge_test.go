package main

import (
	"testing"
	"time"
)

func TestTrackerMeasuresFromTheLastChangeToTheFirstMatchingSample(t *testing.T) {
	a1, a2, a3 := mem("a", "1i1", 1, "10.0.0.1"), mem("a", "1i2", 1, "10.0.0.2"), mem("a", "1i3", 1, "10.0.0.3")
	two, three := truthOf(a1, a2), truthOf(a1, a2, a3)
	meshOf2 := links{"1i1": {a2}, "1i2": {a1}}
	meshOf3 := links{"1i1": {a2, a3}, "1i2": {a1, a3}, "1i3": {a1, a2}}
	t0 := time.Unix(1000, 0)
	sec := func(f float64) time.Time { return t0.Add(time.Duration(f * float64(time.Second))) }
	// rnd is round n: truths read at n and n+0.1 s, ended at n+0.2 s.
	rnd := func(n int, before, after truth, seen links, settled bool) *round {
		r := roundOf(n, before, after, seen)
		before.at, after.at = sec(float64(n)), sec(float64(n)+0.1)
		r.before, r.after, r.end, r.settled = before, after, sec(float64(n)+0.2), settled
		return r
	}
	type obs struct {
		r                *round
		done, becameLate bool
		took             time.Duration
	}
	cases := []struct {
		name   string
		rounds []obs
	}{
		{"already converged", []obs{{r: rnd(1, two, two, meshOf2, true), done: true, took: 1200 * time.Millisecond}}},
		{"a join: from the change inside a round to the settled match", []obs{
			{r: rnd(1, two, two, meshOf2, false)},
			{r: rnd(2, two, three, meshOf2, false)},
			{r: rnd(3, three, three, meshOf2, false)},
			{r: rnd(4, three, three, meshOf3, true), done: true, took: 2200 * time.Millisecond},
		}},
		{"a leave matches before the simulator settles", []obs{
			{r: rnd(1, three, three, meshOf3, false)},
			{r: rnd(2, two, two, meshOf2, false)},
			{r: rnd(3, two, two, meshOf2, true), done: true, took: 1100 * time.Millisecond},
		}},
		{"a match that breaks again starts over", []obs{
			{r: rnd(1, two, two, meshOf2, false)},
			{r: rnd(2, two, two, links{"1i1": {a2}}, false)},
			{r: rnd(3, two, two, meshOf2, true), done: true, took: 3200 * time.Millisecond},
		}},
		{"a stable truth without the mesh for the bound is late, once", []obs{
			{r: rnd(1, two, two, links{}, true)},
			{r: rnd(11, two, two, links{}, true), becameLate: true},
			{r: rnd(12, two, two, links{}, true)},
			{r: rnd(13, two, two, meshOf2, true), done: true, took: 13200 * time.Millisecond},
		}},
		{"a truth that keeps changing is never late", []obs{
			{r: rnd(9, two, three, meshOf2, false)},
			{r: rnd(18, three, two, meshOf3, false)},
			{r: rnd(27, two, two, meshOf2, true), done: true, took: 9200 * time.Millisecond},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t0, 10*time.Second)
			for i, o := range tc.rounds {
				done, took, late := tr.observe(o.r, o.r.end)
				if done != o.done || late != o.becameLate || (done && took != o.took) {
					t.Fatalf("round %d: done %t took %s late %t; want %t %s %t", i+1, done, took, late, o.done, o.took, o.becameLate)
				}
			}
		})
	}
}
