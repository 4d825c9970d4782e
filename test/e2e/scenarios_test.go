//go:build e2e

package e2e

import (
	"testing"
)

// TestScenarios runs drover end to end: the simulator with real hello
// releases in network namespaces, the controller binary, and after every
// step each member's own nodes() checked against the simulator's truth.
// Run as root: go test -tags e2e ./test/e2e/ -run Scenarios -v
func TestScenarios(t *testing.T) {
	e := newEnv(t)
	t.Run("scale 0-3-8-3-0", func(t *testing.T) { testScale(t, e) })
}

func testScale(t *testing.T, e *env) {
	s := e.service(t, "scale")
	for _, n := range []int{3, 8, 3} {
		s.scale(t, n)
		ips, took := s.converge(t, n)
		t.Logf("scale %d: %v converged in %s", n, ips, took)
	}
	s.scale(t, 0)
	_, took := s.converge(t, 0)
	t.Logf("scale 0: converged in %s", took)
}
