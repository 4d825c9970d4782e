//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
	"github.com/drover-mesh/drover/test/harness"
)

// The BEAM agent over HTTPS, checked with Go's TLS stack (the
// controller's): one service certificate whose DNS SAN is the serverName
// the controller checks (agents are dialled by IP), optionally client
// certificates. Run: go test -tags e2e ./test/e2e/ -run AgentTLS -v

// agentServerName is the name in the agents' certificate (config
// admin.tls.serverName).
const agentServerName = "hello.drover.internal"

// erlString is s as an Erlang string literal.
func erlString(s string) string { return fmt.Sprintf("%q", s) }

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func TestAgentTLS(t *testing.T) {
	dir := t.TempDir()
	agentsCA := nodeapitest.NewPKI(t, "agents")
	clientsCA := nodeapitest.NewPKI(t, "clients")
	cert, key := agentsCA.Issue(t, "agent", agentServerName)
	clientCert, clientKey := clientsCA.Issue(t, "controller")
	ebin := agentEbin(t)
	epmd := startEpmd(t)
	token := fmt.Sprintf("<<%q>>", limitsToken)

	t.Run("https with the service certificate", func(t *testing.T) {
		a := startBeam(t, beamOptions{Name: "tls1", EpmdPort: epmd, Ebin: ebin, Scheme: "https", Agent: map[string]string{
			"token": token, "tls_certfile": erlString(cert), "tls_keyfile": erlString(key)}})
		goodTLS := &tls.Config{RootCAs: agentsCA.Pool, ServerName: agentServerName}
		good := tlsClient(goodTLS)
		if err := get(good, a.URL+nodeapi.PathHealth, ""); err != nil {
			t.Fatalf("health over https: %v", err)
		}
		// Dialled by IP without serverName: the certificate names no IP.
		if err := get(tlsClient(&tls.Config{RootCAs: agentsCA.Pool}), a.URL+nodeapi.PathHealth, ""); err == nil ||
			!strings.Contains(err.Error(), "certificate") {
			t.Errorf("without serverName: %v, want a certificate error", err)
		}
		if err := get(tlsClient(&tls.Config{RootCAs: clientsCA.Pool, ServerName: agentServerName}), a.URL+nodeapi.PathHealth, ""); err == nil {
			t.Error("a client trusting another CA reached the agent")
		}
		if err := get(&http.Client{Timeout: 5 * time.Second}, strings.Replace(a.URL, "https:", "http:", 1)+nodeapi.PathHealth, ""); err == nil {
			t.Error("plain HTTP was answered on the TLS port")
		}
		nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: a.URL, Token: limitsToken, TLS: goodTLS})
	})

	t.Run("client certificates required", func(t *testing.T) {
		a := startBeam(t, beamOptions{Name: "tls2", EpmdPort: epmd, Ebin: ebin, Scheme: "https", Agent: map[string]string{
			"token": token, "tls_certfile": erlString(cert), "tls_keyfile": erlString(key),
			"tls_cacertfile": erlString(clientsCA.CAFile)}})
		noCert := tlsClient(&tls.Config{RootCAs: agentsCA.Pool, ServerName: agentServerName})
		if err := get(noCert, a.URL+nodeapi.PathHealth, ""); err == nil {
			t.Error("a client without a certificate was answered")
		}
		pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
		if err != nil {
			t.Fatal(err)
		}
		certTLS := &tls.Config{RootCAs: agentsCA.Pool, ServerName: agentServerName, Certificates: []tls.Certificate{pair}}
		withCert := tlsClient(certTLS)
		if err := get(withCert, a.URL+nodeapi.PathHealth, ""); err != nil {
			t.Fatalf("with a client certificate: %v", err)
		}
		nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: a.URL, Token: limitsToken, TLS: certTLS})
	})

	t.Run("a missing key file stops the start with the reason", func(t *testing.T) {
		out, err := runErl(t, ebin, epmd, fmt.Sprintf(`application:load(drover_agent), `+
			`application:set_env(drover_agent, tls_certfile, %s), application:set_env(drover_agent, tls_keyfile, %s), `+
			`{ok, Pid} = drover_agent:start_link([{port, 0}]) `, erlString(cert), erlString(filepath.Join(dir, "missing.pem"))))
		if err == nil || !strings.Contains(out, "tls_keyfile") || !strings.Contains(out, "enoent") {
			t.Errorf("start with a missing key file: err %v, output:\n%s", err, out)
		}
	})
}

// exec2 runs expr in a fresh non-distributed VM with the agent's ebin and
// returns its output; the VM halts after expr.
func runErl(t *testing.T, ebin string, epmd int, expr string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A VM that fails its boot writes no crash dump (ERL_CRASH_DUMP_SECONDS=0),
	// and runs in a directory of the test's own.
	return harness.Run(ctx, t.TempDir(), []string{"ERL_EPMD_PORT=" + strconv.Itoa(epmd), "ERL_CRASH_DUMP_SECONDS=0"},
		"erl", "-noshell", "-pa", ebin, "-eval", expr+", halt(0).")
}
