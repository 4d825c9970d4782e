//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
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

// testCA is a CA that signs certificates into PEM files of dir.
type testCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	File string // the CA certificate (PEM)
	Pool *x509.CertPool
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{dir: dir, cert: cert, key: key, File: filepath.Join(dir, name+".pem"), Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// issue writes name.pem and name-key.pem: a leaf for the DNS names and IP
// addresses given (a server certificate) or none (a client certificate).
func (ca *testCA) issue(t *testing.T, name string, sans ...string) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if len(sans) > 0 {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: usage, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// erlString is s as an Erlang string literal.
func erlString(s string) string { return fmt.Sprintf("%q", s) }

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func TestAgentTLS(t *testing.T) {
	dir := t.TempDir()
	agentsCA := newTestCA(t, dir, "agents-ca")
	clientsCA := newTestCA(t, dir, "clients-ca")
	cert, key := agentsCA.issue(t, "agent", agentServerName)
	clientCert, clientKey := clientsCA.issue(t, "controller")
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
			"tls_cacertfile": erlString(clientsCA.File)}})
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
	return harness.Run(ctx, "", []string{"ERL_EPMD_PORT=" + strconv.Itoa(epmd)},
		"erl", "-noshell", "-pa", ebin, "-eval", expr+", halt(0).")
}
