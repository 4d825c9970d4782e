package main

import (
	"strings"
	"testing"
	"time"
)

// The targets table says per figure whether it is met, with "at least"
// figures (the ratios) the other way round, and leaves out what was not
// measured.
func TestCompareTargetsSaysWhatIsMet(t *testing.T) {
	r := newResults()
	r.set("join_p50_ms", "52.8")
	r.set("join_p99_ms", "63.3")
	r.set("join_p50_ratio", "7.4")
	r.set("join_lat50ms_p99_ms", "107.5")
	compareTargets(options{beamLatency: 50 * time.Millisecond}, r)
	if len(r.notes) != 1 {
		t.Fatalf("notes = %q, want the table", r.notes)
	}
	table := r.notes[0]
	for _, want := range []string{
		"(`join_p50_ms`) | < 50 | 52.8 | **no** |",
		"(`join_p99_ms`) | < 200 | 63.3 | yes |",
		"(`join_p50_ratio`) | >= 5 | 7.4 | yes |",
		"(`join_lat50ms_p99_ms`) | < 400 | 107.5 | yes |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "leave_silent") {
		t.Errorf("a figure not measured is in the table:\n%s", table)
	}
}
