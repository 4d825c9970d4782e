package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestControllerLinksNoGoAgent checks that the controller binary's import
// graph holds neither the Go agent and its in-memory mesh
// (pkg/nodeagent) nor any test helper package: they are for tests, the
// simulator, the demo and the benchmark only.
func TestControllerLinksNoGoAgent(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs `go list -deps`: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{"/pkg/nodeagent", "/pkg/simruntime", "/pkg/ranchersim", "test", "/internal/testcert"}
	var linked int
	for pkg := range strings.FieldsSeq(string(out)) {
		if !strings.HasPrefix(pkg, "github.com/drover-mesh/drover/") {
			continue
		}
		linked++
		for _, f := range forbidden {
			if strings.Contains(pkg, f) {
				t.Errorf("cmd/controller links %s (contains %q): the controller must not link the Go agent, the in-memory mesh or test helpers", pkg, f)
			}
		}
	}
	if linked == 0 {
		t.Fatalf("go list -deps named no drover package:\n%s", out)
	}
}
