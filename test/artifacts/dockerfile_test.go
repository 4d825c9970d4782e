package artifacts

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDockerfileCopiesEveryPackageTheControllerImports: the image's
// builder copies only the directories the Dockerfile names, through a
// .dockerignore that admits only those; a package of the controller that
// lives elsewhere (e.g. a new internal/ package) breaks `docker build`
// while every local build passes. The image test builds it with podman;
// this catches it without an engine.
func TestDockerfileCopiesEveryPackageTheControllerImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "../../cmd/controller").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var copied []string
	for _, m := range regexp.MustCompile(`(?m)^COPY ([a-z]+)/ `).FindAllStringSubmatch(string(dockerfile), -1) {
		copied = append(copied, m[1])
	}
	const module = "github.com/drover-mesh/drover/"
	for _, pkg := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		if !slices.Contains(copied, top) {
			t.Errorf("the controller imports %s, but the Dockerfile copies only %v: add COPY %s/ %s/", pkg, copied, top, top)
		}
		if !strings.Contains(string(ignore), "\n!"+top+"/\n") {
			t.Errorf("the controller imports %s, but .dockerignore does not admit %s/: add !%s/", pkg, top, top)
		}
	}
}
