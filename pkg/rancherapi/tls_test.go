package rancherapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// trusting returns a TLS config whose roots hold only the fake's CA.
func trusting(f *fakeRancher) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(f.srv.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// withDefaultTransportTLS installs cfg into a clone of http.DefaultTransport,
// as cmd/controller does, for the duration of the test (go-rancher's
// requests use the default transport). Tests using it must not run in
// parallel.
func withDefaultTransportTLS(t *testing.T, cfg *tls.Config) {
	t.Helper()
	prev := http.DefaultTransport
	tr := prev.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	http.DefaultTransport = tr
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		http.DefaultTransport = prev
	})
}

func TestRancherOverTLSListsAndEventStream(t *testing.T) {
	f := newFakeRancherTLS(t)
	f.seed(3)
	cfg := trusting(f)
	withDefaultTransportTLS(t, cfg)
	c := f.newClient(t, func(o *Options) { o.TLS = cfg })
	if !strings.HasPrefix(c.subscribe, "wss://") {
		t.Fatalf("subscribe = %s, want wss://", c.subscribe)
	}
	snap, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(snap), wantIDs(3))
	calls, stop := watching(t, c)
	defer stop()
	testwait.Eventually(t, 10*time.Second, "the wss event stream connected and triggered a pass", func() bool {
		return c.StreamConnected() && calls.Load() >= 1
	})
	f.events <- `{"name":"resource.change","resourceType":"container","resourceId":"1i2","data":{"resource":{"labels":{"io.rancher.stack.name":"demo"}}}}`
	testwait.Eventually(t, 10*time.Second, "an event over wss triggered a pass", func() bool { return calls.Load() >= 2 })
}

func TestUntrustedRancherCertificateIsTerminalAndNamesTheFix(t *testing.T) {
	f := newFakeRancherTLS(t)
	_, err := New(context.Background(), f.testOptions(t, f.project()))
	if !IsTerminal(err) {
		t.Fatalf("err = %v, want terminal", err)
	}
	for _, want := range []string{"does not trust", "--rancher-ca-file", "RANCHER_CA_FILE", "SSL_CERT_FILE", f.project()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

func TestPlainHTTPToTLSRancherIsTerminal(t *testing.T) {
	f := newFakeRancher(t)
	https := "https" + strings.TrimPrefix(f.project(), "http")
	_, err := New(context.Background(), f.testOptions(t, https))
	if !IsTerminal(err) || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Fatalf("err = %v, want a terminal 'does not speak TLS'", err)
	}
}

// The event stream's dialer takes its trust from Options.TLS, not from the
// default transport: without it, the stream cannot connect.
func TestEventStreamUsesOptionsTLS(t *testing.T) {
	f := newFakeRancherTLS(t)
	f.seed(1)
	withDefaultTransportTLS(t, trusting(f))
	c := f.newClient(t) // no Options.TLS
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatalf("lists through the default transport: %v", err)
	}
	_, stop := watching(t, c)
	defer stop()
	testwait.Eventually(t, 10*time.Second, "a failed wss dial", func() bool { return c.Reconnects() >= 1 })
	if c.StreamConnected() || f.accepted() != 0 {
		t.Fatalf("the stream connected without Options.TLS (accepted %d)", f.accepted())
	}
}

// TestNoErrorShowsTheSecrets plants a secret key and a URL password and
// tries every malformed input and failing server we could think of: no
// error text may contain either (nor their escaped forms).
func TestNoErrorShowsTheSecrets(t *testing.T) {
	const secret, password = "S3cr3t-Key-Planted-42", "Pa55-Planted-77"
	leaks := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("want an error")
		}
		for _, s := range []string{secret, password, "Pa55", "Planted"} {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("error shows %q: %v", s, err)
			}
		}
	}
	urls := []string{
		"http://ak:" + password + "@h:notaport/v2-beta",
		"http://ak:" + password + "@",
		"ftp://ak:" + password + "@h/",
		"ak:" + password + "@h:8080",
		"//ak:" + password + "@h",
		"http://ak:Pa55/Planted-77@h",          // an unescaped "/" in the password
		"http://ak:Pa55#Planted@h",             // "#"
		"http://ak:Pa55?Planted@h",             // "?"
		"http://ak:Pa55%zzPlanted@h",           // a bad escape
		"http://ak:Pa55 Planted@h",             // a space
		"http://ak:Pa55\x00Planted@h",          // a control character
		"http://[::1:ak:" + password + "@h",    // a broken IPv6 literal
		"http://ak:" + password + "@h:8080\n",  // a trailing newline (from a file)
		" http://ak:" + password + "@[fe80::1", // unclosed bracket
		"http://ak:" + password + "@" + strings.Repeat("h", 5000),
	}
	for _, u := range urls {
		t.Run("url "+redactURL(u)[:min(len(redactURL(u)), 40)], func(t *testing.T) {
			_, err := New(context.Background(), Options{URL: u, AccessKey: "ak", SecretKey: secret,
				Clusters: []ClusterRef{{Stack: "s", Services: []string{"x"}}}, Timeout: time.Second})
			leaks(t, err)
			if err := CheckURL(u); err != nil { // some are valid URLs of unreachable hosts
				leaks(t, err)
			}
		})
	}
	t.Run("servers that echo the secret", func(t *testing.T) {
		for _, code := range []int{401, 403, 404, 500} {
			f := newFakeRancher(t)
			f.setFail(func(r *http.Request) int { return code })
			f.sk = secret
			o := f.testOptions(t, strings.Replace(f.project(), "://", "://ak:"+password+"@", 1))
			o.SecretKey = secret
			// The fake's error bodies carry no secret; make one that does.
			f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				_, _ = w.Write([]byte(`{"type":"error","code":"` + secret + `","message":"bad key ` + secret + ` for ` + password + `"}`))
			})
			_, err := New(context.Background(), o)
			leaks(t, err)
		}
	})
	t.Run("unreachable server with user info in the URL", func(t *testing.T) {
		_, err := New(context.Background(), Options{URL: "http://ak:" + password + "@127.0.0.1:1/v2-beta/projects/1a5",
			Clusters: []ClusterRef{{Stack: "s", Services: []string{"x"}}}, Timeout: time.Second})
		leaks(t, err)
	})
	t.Run("untrusted certificate with user info in the URL", func(t *testing.T) {
		f := newFakeRancherTLS(t)
		_, err := New(context.Background(), Options{URL: strings.Replace(f.project(), "://", "://ak:"+password+"@", 1),
			Clusters: []ClusterRef{{Stack: "s", Services: []string{"x"}}}, Timeout: time.Second})
		leaks(t, err)
	})
}
