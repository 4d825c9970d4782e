//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// httpsIPRange keeps this test's hosts apart from the scenarios' and the
// agent tests'.
const httpsIPRange = "10.42.96.0/24"

// TestHTTPSCluster runs a cluster with admin.scheme https on real BEAM
// nodes (hello releases in namespaces) through the simulator and the
// controller binary: the agents serve one service certificate (DNS SAN
// hello.drover.internal) and require the controller's client
// certificate; the controller checks the agents against their CA and
// that name; the agents announce to the controller over https, checking
// its certificate (an IP SAN of the bridge address). Rancher's health
// check is a TCP check (its HTTP check cannot speak TLS). The mesh forms
// on scale-up and shrinks on scale-down, checked with nodes() in every VM.
// Run as root, under the netns lock:
//
//	flock /tmp/drover-netns.lock go test -tags e2e ./test/e2e/ -run HTTPSCluster -v
func TestHTTPSCluster(t *testing.T) {
	requireHarness(t)
	agentsCA := nodeapitest.NewPKI(t, "agents")
	clientsCA := nodeapitest.NewPKI(t, "clients")
	agentCert, agentKey := agentsCA.Issue(t, "agent", agentServerName)
	ctlCert, ctlKey := clientsCA.Issue(t, "controller")
	annCert, annKey := agentsCA.Issue(t, "announce", harness.Gateway)

	tlsService := ranchersim.ServiceSpec{
		Name: "tls",
		Environment: map[string]string{
			"DROVER_AGENT_TLS_CERTFILE": agentCert, "DROVER_AGENT_TLS_KEYFILE": agentKey,
			"DROVER_AGENT_TLS_CACERTFILE": clientsCA.CAFile, "DROVER_ANNOUNCE_CACERTFILE": agentsCA.CAFile,
		},
		// An empty request line: a TCP check, as Rancher's HTTP check
		// cannot speak TLS.
		HealthCheck: &ranchersim.HealthCheck{Port: harness.AgentPort, Interval: 1000,
			HealthyThreshold: 2, UnhealthyThreshold: 3},
	}
	e := startHTTPSEnv(t, tlsService, harness.ConfigOptions{
		Name: "https", DriftInterval: driftInterval, AnnounceCertFile: annCert, AnnounceKeyFile: annKey,
		Clusters: []harness.ClusterConfig{{Name: "tls", Stack: "https", Services: []string{"tls"}}},
		Extra: fmt.Sprintf("      scheme: https\n      tls:\n        caFile: %q\n        serverName: %s\n"+
			"        certFile: %q\n        keyFile: %q\n", agentsCA.CAFile, agentServerName, ctlCert, ctlKey),
	})
	pair, err := tls.LoadX509KeyPair(ctlCert, ctlKey)
	if err != nil {
		t.Fatal(err)
	}
	view := tlsStatusView(&tls.Config{RootCAs: agentsCA.Pool, ServerName: agentServerName,
		Certificates: []tls.Certificate{pair}})

	s := e.service(t, "tls")
	s.view = view
	s.scale(t, 3)
	ips, took := s.converge(t, 3)
	t.Logf("https: 3 nodes meshed %s after the scale-up", took.Round(time.Millisecond))

	// The agents speak TLS only, and only to a client with a certificate.
	if err := get(&http.Client{Timeout: 5 * time.Second}, fmt.Sprintf("http://%s:%d%s", ips[0], harness.AgentPort, nodeapi.PathHealth), ""); err == nil {
		t.Error("an agent answered plain HTTP")
	}
	noCert := tlsClient(&tls.Config{RootCAs: agentsCA.Pool, ServerName: agentServerName})
	if err := get(noCert, fmt.Sprintf("https://%s:%d%s", ips[0], harness.AgentPort, nodeapi.PathHealth), ""); err == nil {
		t.Error("an agent answered a client without a certificate")
	}
	// The announce endpoint serves TLS, and the agents' "up" reached it
	// (the nodes log each announcement; the simulator's log holds theirs).
	log, nodesLog := e.controller().Log(), e.sim.Process().Log()
	if !regexp.MustCompile(`announce endpoint listening.*tls"?=true`).MatchString(log) {
		t.Errorf("the controller's announce endpoint does not serve TLS:\n%s", tail(log, 4000))
	}
	if !strings.Contains(nodesLog, "drover_agent: announced") || strings.Contains(nodesLog, "announcement failed") {
		t.Errorf("the nodes' announcements over https did not all succeed:\n%s", tail(nodesLog, 4000))
	}

	s.scale(t, 2)
	_, took = s.converge(t, 2)
	t.Logf("https: scale-down to 2 converged in %s", took.Round(time.Millisecond))
}

// startHTTPSEnv starts a simulator with one stack "https" holding service
// (at scale 0) and the controller binary with config, whose announce
// endpoint (on the bridge) the nodes reach over https.
func startHTTPSEnv(t *testing.T, service ranchersim.ServiceSpec, config harness.ConfigOptions) *env {
	t.Helper()
	ctx := context.Background()
	dir := logDir(t)
	b, err := harness.BuildAll(ctx, harness.BuildOptions{BinDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{build: b, net: harness.NewNet(b.Root), dir: dir, stack: "https"}
	if !harness.BridgeExists() {
		t.Cleanup(func() {
			if _, err := e.net.DownUnlessShared(context.Background(), httpsIPRange); err != nil {
				t.Errorf("tearing the bridge down: %v", err)
			}
		})
	}
	if err := e.net.Up(ctx); err != nil {
		t.Fatal(err)
	}
	meta, err := harness.FreeAddr(harness.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	if e.announce, err = harness.FreeAddr(harness.Gateway); err != nil {
		t.Fatal(err)
	}
	e.sim, err = harness.StartSim(ctx, b, harness.SimOptions{
		Fixture: &ranchersim.Fixture{
			Hosts:  []ranchersim.FixtureHost{{Name: "host-1"}, {Name: "host-2"}},
			Stacks: []ranchersim.FixtureStack{{Name: "https", Services: []ranchersim.ServiceSpec{service}}},
		},
		Dir: dir, IPRange: httpsIPRange, MetadataAddr: meta, DNSAddr: "-",
		Env: []string{"DROVER_ANNOUNCE_URL=https://" + e.announce},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.sim.Stop)
	config.AnnounceListen = e.announce
	e.config = config
	e.startController(t)
	t.Cleanup(func() {
		e.controller().Stop()
		if t.Failed() {
			t.Logf("logs are in %s; controller log tail:\n%s", dir, tail(e.controller().Log(), 6000))
		}
	})
	return e
}

// tlsStatusView reads a node's view through its agent's status over
// https.
func tlsStatusView(cfg *tls.Config) harness.ViewFunc {
	c := tlsClient(cfg)
	return func(ctx context.Context, ip string) ([]string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("https://%s%s", net.JoinHostPort(ip, fmt.Sprint(harness.AgentPort)), nodeapi.PathStatus), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+harness.NodeToken)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("status of %s: %d %s", ip, resp.StatusCode, data)
		}
		var st nodeapi.Status
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, err
		}
		got := slices.Clone(st.Connected)
		slices.Sort(got)
		return got, nil
	}
}
