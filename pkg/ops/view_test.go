package ops

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// chromiumPath finds a headless-capable Chromium: $DROVER_CHROMIUM, then
// Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("DROVER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// dumpDOM loads url in headless Chromium, lets its scripts run for 5 s of
// virtual time and returns the resulting DOM.
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		t.Skip("chromium not installed: run 'make deps' (Debian package chromium) to test the mesh view")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", url)
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom, _, _ := strings.Cut(string(out), "<script>") // the page, without its code
	return dom
}

// The mesh view, loaded in headless Chromium against a running ops server,
// shows every node, the missing link from a to c (and back), the extra
// link from a to the leaving d (and back), and flags d as leaving and e as
// unhealthy.
func TestMeshViewInHeadlessChromium(t *testing.T) {
	base := startServer(t, Options{
		Status: sampleStatus,
		Ready:  func() (bool, []string) { return false, []string{"rancher event stream down"} },
	})
	dom := dumpDOM(t, base+"/")
	if strings.Contains(dom, "loading…") || strings.Contains(dom, "controller unreachable") {
		t.Fatalf("the page never rendered the status:\n%s", dom)
	}
	for _, n := range []mesh.NodeName{nodeA, nodeB, nodeC, nodeD, nodeE, "other@127.42.1.2"} {
		if !strings.Contains(dom, `data-node="`+string(n)+`"`) {
			t.Errorf("no row for %s", n)
		}
	}
	checks := []struct{ what, re string }{
		{"missing link a -> c", `<tr class="[^"]*" data-node="` + regexp.QuoteMeta(string(nodeA)) +
			`">.*?<td class="link missing" title="[^"]*" data-peer="` + regexp.QuoteMeta(string(nodeC)) + `">missing</td>`},
		{"extra link a -> d", `data-node="` + regexp.QuoteMeta(string(nodeA)) + `">.*?<td class="link extra" title="[^"]*" data-peer="` +
			regexp.QuoteMeta(string(nodeD)) + `">extra</td>`},
		{"ok link b -> c", `data-node="` + regexp.QuoteMeta(string(nodeB)) + `">.*?<td class="link ok" title="[^"]*" data-peer="` +
			regexp.QuoteMeta(string(nodeC)) + `">ok</td>`},
		{"d flagged leaving", `<tr class="leaving[^"]*" data-node="` + regexp.QuoteMeta(string(nodeD)) + `">.*?>leaving</span>`},
		{"e flagged unhealthy", `<tr class="[^"]*unhealthy[^"]*" data-node="` + regexp.QuoteMeta(string(nodeE)) + `">.*?>unhealthy</span>`},
		{"cluster counts", `2 missing links, 2 extra links`},
		{"not-ready banner", `not ready: rancher event stream down`},
		{"cluster condition", `Converged: False \(NodesPending\)`},
		{"last push", `set-peers ok rev 7`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(dom) {
			t.Errorf("the view does not show the %s (%s)", c.what, c.re)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// When the controller stops answering, the page says so and keeps the
// last view.
func TestMeshViewSaysWhenTheControllerIsUnreachable(t *testing.T) {
	srv, err := NewServer(Options{Status: sampleStatus, Ready: func() (bool, []string) { return true, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathStatus && served.Add(1) > 1 {
			panic(http.ErrAbortHandler) // the connection drops: the controller is gone
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	dom := dumpDOM(t, ts.URL+"/")
	if !strings.Contains(dom, "controller unreachable") || !strings.Contains(dom, `data-node="`+string(nodeA)+`"`) {
		t.Errorf("want the unreachable banner over the last view; DOM:\n%s", dom)
	}
}

// The mesh view of a standby whose config reload failed: the banner says
// who leads and that the file in effect is the last good one, a planned
// change shows on its node, an unmanaged cluster is marked so, and a
// label-defined cluster says where it comes from.
func TestMeshViewShowsStandbyUnmanagedAndConfigProblems(t *testing.T) {
	base := startServer(t, Options{Status: explainStatus, Ready: func() (bool, []string) { return true, nil }})
	dom := dumpDOM(t, base+"/")
	for _, want := range []string{
		"controller ready · standby (leader drover-drover-1)",
		"standby: drover-drover-1 leads; this controller shows what it would do and sends nothing",
		"ConfigInvalid: spec.clusters[0].admin.port: must be between 1 and 65535",
		"would set-peers (standby)",
		`<section class="cluster unmanaged" data-cluster="prod/app">`,
		"unmanaged since ", "it left the configuration; nothing is sent to its nodes", "defined by service labels", "joined by label: worker",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the view lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}
