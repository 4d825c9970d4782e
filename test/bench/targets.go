package main

import (
	"fmt"
	"strings"
)

// target is a figure of the real-node part and the target it is held to
// (design.md's performance targets, issue 15's latency row): the figure
// must be below limit, or at least limit when atLeast.
type target struct {
	figure, what string
	limit        float64
	atLeast      bool
}

// realNodeTargets are the real-node part's targets, all measured in one
// run; key is the -beam-latency figures' key ("lat50ms").
func realNodeTargets(key string) []target {
	return []target{
		{"join_p50_ms", "join p50, member -> every node lists it (ms)", 50, false},
		{"join_p99_ms", "join p99 (ms)", 200, false},
		{"leave_clean_p99_ms", "clean leave p99, SIGTERM -> dropped by all (ms)", 100, false},
		{"leave_silent_p50_s", "silent loss, host cut off -> dropped by all (s)", 10, false},
		{"join_p50_ratio", "recipe / drover, join p50 (x)", 5, true},
		{"join_p99_ratio", "recipe / drover, join p99 (x)", 5, true},
		{"join_" + key + "_p99_ms", "join p99 at the Cattle-like API latency (ms)", 400, false},
	}
}

// compareTargets prints the real-node figures beside their targets (and
// puts the table in the raw file's notes); figures not measured are left
// out.
func compareTargets(o options, res *results) {
	lines := []string{"| figure | target | measured | met |", "|---|---|---|---|"}
	for _, t := range realNodeTargets(latencyKey(o.beamLatency)) {
		v, ok := res.figure(t.figure)
		if !ok {
			continue
		}
		met := v < t.limit
		op := "<"
		if t.atLeast {
			met, op = v >= t.limit, ">="
		}
		lines = append(lines, fmt.Sprintf("| %s (`%s`) | %s %g | %g | %s |", t.what, t.figure, op, t.limit, v, yesNo(met)))
	}
	if len(lines) == 2 {
		return
	}
	progress("real-node figures beside their targets (one run):\n%s", strings.Join(lines, "\n"))
	res.note("real-node targets:\n\n%s\n", strings.Join(lines, "\n"))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}
