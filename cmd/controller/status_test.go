package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ops"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func get(url string) (int, string) {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// meshView loads url in headless Chromium and returns the DOM without its
// script; ok is false (and the check is skipped) without Chromium.
func meshView(t *testing.T, url string) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Log("chromium not installed (make deps): mesh view not checked")
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", url)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom, _, _ := strings.Cut(string(out), "<script>")
	return dom, true
}

// The controller serves its ops endpoints on --listen; "controller status"
// prints the converged cluster; no endpoint shows a key or token; once the
// controller stops, "controller status" exits 1 with a clear message.
func TestOpsServerAndStatusCommand(t *testing.T) {
	sim, _, path := startSim(t)
	vars := env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(),
		"CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"})
	addr := freeAddr(t)
	base := "http://" + addr
	var errb bytes.Buffer
	o, err := parseOptions([]string{"--config", path, "--listen", addr}, vars, &errb)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.command(ctx, o, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		<-done
	}()

	testwait.Eventually(t, 0, "/readyz 200", func() bool { code, _ := get(base + "/readyz"); return code == http.StatusOK })
	var out bytes.Buffer
	testwait.Eventually(t, 0, "a converged cluster in controller status", func() bool {
		out.Reset()
		code := run([]string{"status", "--addr", base}, vars, &out, &out)
		return code == exitOK && strings.Contains(out.String(), "Converged=True")
	})
	t.Logf("controller status:\n%s", out.String())
	for _, want := range []string{"controller: ready", "cluster hello", "3 members, 3 nodes", "2/2", "set-peers ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("controller status lacks %q:\n%s", want, out.String())
		}
	}
	_, metrics := get(base + "/metrics")
	for _, want := range []string{`drover_cluster_members{cluster="hello"} 3`, `drover_cluster_converged{cluster="hello"} 1`,
		`drover_rancher_requests_total{code="200",method="GET"`, `drover_passes_total{result="ok"}`, `drover_event_stream_connected 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if dom, ok := meshView(t, base+"/"); ok {
		r, err := ops.FetchReport(context.Background(), &http.Client{Timeout: 10 * time.Second}, base)
		if err != nil || len(r.Status.Clusters) != 1 || len(r.Status.Clusters[0].Nodes) != 3 {
			t.Fatalf("status: %v, %+v", err, r.Status.Clusters)
		}
		for _, n := range r.Status.Clusters[0].Nodes {
			if !strings.Contains(dom, `data-node="`+string(n.Node)+`"`) {
				t.Errorf("the mesh view has no row for %s", n.Node)
			}
		}
		if !strings.Contains(dom, "controller ready") || !strings.Contains(dom, "0 missing links, 0 extra links") {
			t.Errorf("the mesh view does not show a ready, converged mesh:\n%s", dom)
		}
	}
	for _, p := range []string{"/", "/healthz", "/readyz", "/metrics", "/status"} {
		_, body := get(base + p)
		for _, secret := range []string{sim.SecretKey(), sim.AccessKey(), "node-token"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows the secret %q", p, secret)
			}
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("controller returned %v", err)
	}
	done <- nil // for the deferred wait
	out.Reset()
	if code := run([]string{"status", "--addr", base}, vars, &out, &out); code != exitRuntime ||
		!strings.Contains(out.String(), "cannot reach the controller at "+base) {
		t.Errorf("status of a stopped controller: exit %d:\n%s", code, out.String())
	}
}
