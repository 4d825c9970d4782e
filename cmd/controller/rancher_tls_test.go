package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// startSimTLS serves a simulator's API and websocket over HTTPS with
// httptest's certificate (the simulator renders https/wss links for TLS
// requests), with stack demo and service hello of scale 2 whose containers
// are in-process agents. It returns the sim, the runtime, the API URL, the
// CA bundle's path and a config file's path.
func startSimTLS(t *testing.T) (*ranchersim.Sim, *simruntime.Runtime, string, string, string) {
	t.Helper()
	rt, err := simruntime.New(simruntime.Options{Token: "node-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	sim, err := ranchersim.New(ranchersim.Options{IPRange: "127.46.0.0/16", Runtime: simRuntime{rt}, StepDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sim.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case fails handshakes on purpose
	srv.StartTLS()
	t.Cleanup(func() { sim.Close(); srv.Close() })
	cfg := seedDemo(t, sim, 2)
	return sim, rt, srv.URL, writeCA(t, srv), cfg
}

// keepDefaultTransport puts http.DefaultTransport back after the test:
// the controller installs the Rancher CA there for good.
func keepDefaultTransport(t *testing.T) {
	prev := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = prev })
}

// TestControllerOverTLSTrustsRancherCAFile runs the controller against a
// simulator behind HTTPS with a private CA: without --rancher-ca-file it
// stops with one message naming the fix; with it (from the flag or from
// RANCHER_CA_FILE), one pass lists over TLS and converges the nodes.
func TestControllerOverTLSTrustsRancherCAFile(t *testing.T) {
	keepDefaultTransport(t)
	sim, rt, apiURL, ca, cfg := startSimTLS(t)
	vars := map[string]string{"CATTLE_URL": apiURL, "CATTLE_ACCESS_KEY": sim.AccessKey(), "CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"}
	var out, errb bytes.Buffer
	if code := run([]string{"--once", "--config", cfg}, env(vars), &out, &errb); code != exitRuntime ||
		!strings.Contains(errb.String(), "does not trust") || !strings.Contains(errb.String(), "RANCHER_CA_FILE") {
		t.Fatalf("without the CA: exit %d, want %d and a message naming RANCHER_CA_FILE:\n%s", code, exitRuntime, errb.String())
	}
	errb.Reset()
	vars["RANCHER_CA_FILE"] = ca
	if code := run([]string{"--once", "--config", cfg}, env(vars), &out, &errb); code != exitOK {
		t.Fatalf("with RANCHER_CA_FILE: exit %d:\n%s", code, errb.String())
	}
	for _, c := range sim.Containers("demo", "hello") {
		name, _ := rt.Node(c.ID)
		if got := rt.Mesh().Connected(name); len(got) != 1 {
			t.Errorf("%s connected to %v, want its one peer", name, got)
		}
	}
}

// TestControllerOverTLSFollowsEvents wires the controller as main does,
// with --rancher-ca-file, and checks the wss event stream connects and a
// scale-up reaches every node.
func TestControllerOverTLSFollowsEvents(t *testing.T) {
	keepDefaultTransport(t)
	sim, rt, apiURL, ca, cfg := startSimTLS(t)
	vars := env(map[string]string{"CATTLE_URL": apiURL, "CATTLE_ACCESS_KEY": sim.AccessKey(), "CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"})
	o, err := parseOptions([]string{"--config", cfg, "--rancher-ca-file", ca, "--listen", ""}, vars, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfgLoaded, err := loadConfigFile(context.Background(), o.configPath, vars)
	if err != nil {
		t.Fatal(err)
	}
	log := newLogger("text", 1, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := ops.NewMetrics(prometheus.NewRegistry())
	w, err := wire(ctx, o, cfgLoaded, log, m)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.run(ctx, o, m, nil, log) }()
	testwait.Eventually(t, 0, "the wss event stream", func() bool { return w.rancher.StreamConnected() })
	if err := sim.Scale("demo", "hello", 3); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "three nodes meshed after the scale-up", func() bool {
		cs := sim.Containers("demo", "hello")
		if len(cs) != 3 {
			return false
		}
		for _, c := range cs {
			name, ok := rt.Node(c.ID)
			if !ok || len(rt.Mesh().Connected(name)) != 2 {
				return false
			}
		}
		return true
	})
	cancel()
	<-done
}
