package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// tlsWorld is a simulator whose Go agents serve HTTPS with one service
// certificate for hello.drover.internal (no IP in it) and require client
// certificates signed by the controller's CA.
type tlsWorld struct {
	sim                 *ranchersim.Sim
	rt                  *simruntime.Runtime
	agentsCA            string
	clientCert, clientK string
	clientCA            *nodeapitest.PKI
}

func startTLSWorld(t *testing.T) *tlsWorld {
	t.Helper()
	agents := nodeapitest.NewPKI(t, "agents")
	clients := nodeapitest.NewPKI(t, "controllers")
	cert, key := agents.Issue(t, "hello", "hello.drover.internal")
	w := &tlsWorld{agentsCA: agents.CAFile, clientCA: clients}
	w.clientCert, w.clientK = clients.Issue(t, "controller")
	rt, err := simruntime.New(simruntime.Options{Token: "node-token",
		TLS: nodeapi.TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: clients.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	w.rt = rt
	w.sim = ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.44.0.0/16", Runtime: simRuntime{rt}, StepDelay: 5 * time.Millisecond})
	seedDemo(t, w.sim, 3)
	return w
}

func (w *tlsWorld) env() func(string) (string, bool) {
	return env(map[string]string{"CATTLE_URL": w.sim.URL(), "CATTLE_ACCESS_KEY": w.sim.AccessKey(),
		"CATTLE_SECRET_KEY": w.sim.SecretKey(), "NODE_TOKEN": "node-token", "ANNOUNCE_TOKEN": "announce-token"})
}

// config writes a config for the world with the given admin.tls block and
// extra controller settings.
func (w *tlsWorld) config(t *testing.T, adminTLS, controller string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: test}\nspec:\n" + controller +
		"  clusters:\n  - name: hello\n    stack: demo\n    services: [hello]\n" +
		"    admin:\n      scheme: https\n      token: {fromEnv: NODE_TOKEN}\n      tls: " + adminTLS + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTTPSClusterOfGoAgents runs the controller binary's code against
// agents that serve HTTPS and require a client certificate: with the
// agents' CA, the service certificate's name and a client certificate the
// mesh converges; a wrong name or no client certificate pushes nothing.
func TestHTTPSClusterOfGoAgents(t *testing.T) {
	w := startTLSWorld(t)
	good := fmt.Sprintf("{caFile: %s, serverName: hello.drover.internal, certFile: %s, keyFile: %s}", w.agentsCA, w.clientCert, w.clientK)
	var out, errb bytes.Buffer
	if code := run([]string{"--once", "--config", w.config(t, good, "")}, w.env(), &out, &errb); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if n := strings.Count(errb.String(), "pushed peers"); n != 3 {
		t.Errorf("pushes logged: %d, want 3:\n%s", n, errb.String())
	}
	for _, c := range w.sim.Containers("demo", "hello") {
		name, _ := w.rt.Node(c.ID)
		if got := w.rt.Mesh().Connected(name); len(got) != 2 {
			t.Errorf("%s connected to %v, want the 2 others", name, got)
		}
	}
	for name, bad := range map[string]struct{ tls, want string }{
		"no server name: the IP is not in the certificate": {fmt.Sprintf("{caFile: %s, certFile: %s, keyFile: %s}", w.agentsCA, w.clientCert, w.clientK), "doesn't contain any IP SANs"},
		"the system pool does not know the agents' CA":     {fmt.Sprintf("{serverName: hello.drover.internal, certFile: %s, keyFile: %s}", w.clientCert, w.clientK), "certificate signed by unknown authority"},
		"no client certificate":                            {fmt.Sprintf("{caFile: %s, serverName: hello.drover.internal}", w.agentsCA), "certificate required"},
	} {
		t.Run(name, func(t *testing.T) {
			before := w.rt.Mesh().Connected(nodeName(t, w))
			var out, errb bytes.Buffer
			run([]string{"--once", "--config", w.config(t, bad.tls, "")}, w.env(), &out, &errb)
			if !strings.Contains(errb.String(), bad.want) {
				t.Errorf("log lacks %q:\n%.3000s", bad.want, errb.String())
			}
			if got := w.rt.Mesh().Connected(nodeName(t, w)); len(got) != len(before) {
				t.Errorf("links changed from %v to %v", before, got)
			}
		})
	}
}

func nodeName(t *testing.T, w *tlsWorld) string {
	t.Helper()
	name, ok := w.rt.Node(w.sim.Containers("demo", "hello")[0].ID)
	if !ok {
		t.Fatal("no node")
	}
	return name
}

// TestAnnounceEndpointServesTLS runs the controller with its announce
// endpoint on HTTPS and announces to it.
func TestAnnounceEndpointServesTLS(t *testing.T) {
	w := startTLSWorld(t)
	pki := nodeapitest.NewPKI(t, "announce")
	cert, key := pki.Issue(t, "controller", "127.0.0.1")
	port := freeLoopbackPort(t)
	good := fmt.Sprintf("{caFile: %s, serverName: hello.drover.internal, certFile: %s, keyFile: %s}", w.agentsCA, w.clientCert, w.clientK)
	controller := fmt.Sprintf("  controller:\n    announce:\n      listen: \"127.0.0.1:%d\"\n      token: {fromEnv: ANNOUNCE_TOKEN}\n"+
		"      tls: {certFile: %s, keyFile: %s}\n", port, cert, key)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var errb lockedBuffer
	code := -1
	wg.Go(func() {
		code = runContext(ctx, []string{"--listen", "", "--config", w.config(t, good, controller)}, w.env(), io.Discard, &errb)
	})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool}}}
	url := fmt.Sprintf("https://127.0.0.1:%d%s", port, nodeapi.PathAnnounce)
	var status int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"event":"up","node":"hello@127.44.0.2","ip":"127.44.0.2"}`))
		req.Header.Set("Authorization", "Bearer announce-token")
		if resp, err := client.Do(req); err == nil {
			status = resp.StatusCode
			_ = resp.Body.Close()
			break
		}
	}
	cancel()
	wg.Wait()
	if status != http.StatusAccepted {
		t.Errorf("announcement over HTTPS: status %d, want 202; log:\n%.3000s", status, errb.String())
	}
	if code != exitOK {
		t.Errorf("exit %d after the signal, want 0", code)
	}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
