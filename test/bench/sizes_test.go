package main

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/test/harness"
)

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []int
		errPart  string
	}{
		{"empty: one size from -nodes", "", nil, ""},
		{"ascending sizes", "20,60,100", []int{20, 60, 100}, ""},
		{"spaces allowed", "20, 60", []int{20, 60}, ""},
		{"not a number", "20,x", nil, `"x" is not a size`},
		{"too small", "2", nil, "not a size from 3"},
		{"too large", "20,5000", nil, "not a size from 3 to 400"},
		{"not ascending", "60,20", nil, "ascending"},
		{"duplicate", "20,20", nil, "ascending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSizes(tc.in)
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("parseSizes(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.errPart)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("parseSizes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("parseSizes(%q) = %v, want %v", tc.in, got, tc.want)
				}
			}
		})
	}
}

func TestTopologyFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"-topology", "ring"}, {"-topology", "boundedDegree", "-degree", "1"}} {
		if _, err := parseOptions(args); err == nil {
			t.Errorf("parseOptions(%v): no error", args)
		}
	}
	o, err := parseOptions([]string{"-topology", "boundedDegree", "-degree", "8", "-sizes", "20,100"})
	if err != nil || !o.bounded() || o.degree != 8 || len(o.sizes) != 2 {
		t.Fatalf("parseOptions = %+v, %v", o, err)
	}
}

func TestOverlapCounterCountsGlobalsWarningLines(t *testing.T) {
	var n atomic.Int64
	var out strings.Builder
	log := slog.New(&overlapCounter{Handler: slog.NewTextHandler(&out, nil), n: &n}).With("runtime", "exec")
	log.Info("container output", "container", "1i1", "line",
		`[warning] 'global' at node :"hello@10.42.160.3" requested disconnect from node :"hello@10.42.160.4" in order to prevent overlapping partitions`)
	log.Info("container output", "container", "1i1", "line", "[info] drover_agent: peer set applied")
	log.Info("started", "line", "prevent overlapping partitions") // not a node's output
	if got := n.Load(); got != 1 {
		t.Errorf("counted %d lines, want 1", got)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 {
		t.Errorf("the inner handler got %d lines, want all 3:\n%s", got, out.String())
	}
}

// collateralEnv is an env with just an observer holding down events.
func collateralEnv(topology string, degree int, downs ...downEvent) *env {
	return &env{o: options{topology: topology, degree: degree}, stats: &changeStats{},
		obs: &observer{nodes: map[string]*nodeView{}, downs: downs, changed: make(chan struct{})}}
}

func TestCollateralDisconnectsAreBetweenMembersThatStay(t *testing.T) {
	ips := []string{"10.42.160.1", "10.42.160.2", "10.42.160.3", "10.42.160.4"}
	joiner := "10.42.160.4"
	n := harness.NodeName
	at := time.Now()
	e := collateralEnv(config.TopologyFullMesh, 0,
		downEvent{n(ips[0]), n(joiner), at},     // a member drops the leaver: expected
		downEvent{n(joiner), n(ips[1]), at},     // the leaver drops a member: expected
		downEvent{n(ips[1]), n(ips[2]), at},     // two members that stay: collateral
		downEvent{n(ips[1]), "bench_obs@x", at}, // not a member
	)
	got := e.endChange(changeMark{stack: droverStack}, ips, []string{joiner}, 2)
	if e.stats.collateral != 1 || e.stats.changes != 2 || !strings.Contains(got, "collateral 1") {
		t.Errorf("stats %+v, line %q; want 1 collateral over 2 changes", e.stats, got)
	}
}

func TestCollateralIgnoresLinksABoundedOverlayRewires(t *testing.T) {
	var ips []string
	for i := 1; i <= 12; i++ {
		ips = append(ips, fmt.Sprintf("10.42.160.%d", i))
	}
	joiner := ips[11]
	e := collateralEnv(config.TopologyBoundedDegree, 2)
	before := e.overlay(droverStack, ips[:11])
	during := e.overlay(droverStack, ips)
	// A link of the ring without the joiner that the joiner splits.
	var a, b string
	for node, peers := range before {
		for _, p := range peers {
			if !during[node].Contains(p) {
				a, b = node, string(p)
			}
		}
	}
	if a == "" {
		t.Fatal("the join rewired no link")
	}
	e.obs.downs = []downEvent{{a, b, time.Now()}}
	e.endChange(changeMark{stack: droverStack}, ips, []string{joiner}, 2)
	if e.stats.collateral != 0 {
		t.Errorf("a rewired link counted as collateral: %+v", e.stats)
	}
}

func TestSizesTableShowsEverySizeSideBySide(t *testing.T) {
	res := newResults()
	for _, n := range []string{"20", "60"} {
		r := newResults()
		r.add("join", 40*time.Millisecond)
		r.add("leave_clean", 90*time.Millisecond)
		r.set("collateral_disconnects", "0")
		r.set("load_start", "loadavg 1.0 1.0 1.0, 2 CPUs, 20.0 GiB available")
		r.finalize(options{})
		res.merge(r, "n"+n+"_")
	}
	got := sizesTable(options{topology: config.TopologyFullMesh, joins: 5}, []int{20, 60}, res)
	for _, want := range []string{"| figure | 20 nodes | 60 nodes |", "| join p50 / p99 (ms) | 40.0 / 40.0 | 40.0 / 40.0 |",
		"| collateral disconnects (changes) | 0 / - | 0 / - |", "2 CPUs"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	var b strings.Builder
	res.table(got)
	res.printFigures(&b)
	if !strings.Contains(b.String(), "n60_join_p99_ms=40.0") || !strings.HasPrefix(b.String(), "drover at") {
		t.Errorf("figures:\n%s", b.String())
	}
}
