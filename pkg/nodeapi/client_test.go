package nodeapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

const secret = "tok-4f9a1c"

// scripted serves the i-th request (from 0) with answer(i).
func scripted(t *testing.T, answer func(i int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(int(n.Add(1)-1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func okStatus(w http.ResponseWriter) {
	w.Header().Set("Content-Type", nodeapi.MediaType)
	_, _ = w.Write([]byte(`{"node":"a@127.0.0.1","connected":[],"managed":["b@127.0.0.2"],"revision":3,"leaving":false,"otpRelease":"go","flags":{"connectAll":false,"preventOverlappingPartitions":false,"netTicktime":0},"later":"ignored"}`))
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", nodeapi.MediaType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":"` + code + `","message":"` + msg + `"}`))
}

// logBuffer is a logger that keeps every line, V(1) included.
func logBuffer() (logr.Logger, func() string) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		buf.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 1})
	return log, func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
}

func TestClientRetries(t *testing.T) {
	tests := []struct {
		name        string
		answer      func(i int, w http.ResponseWriter, r *http.Request)
		wantErr     bool
		wantCalls   int32
		wantIsStale bool
		wantIsAuth  bool
	}{
		{"5xx then success: retried", func(i int, w http.ResponseWriter, _ *http.Request) {
			if i < 2 {
				apiError(w, 503, nodeapi.CodeInternal, "busy")
				return
			}
			okStatus(w)
		}, false, 3, false, false},
		{"5xx every time: gives up after max retries", func(_ int, w http.ResponseWriter, _ *http.Request) {
			apiError(w, 500, nodeapi.CodeInternal, "boom")
		}, true, 3, false, false},
		{"network error then success: retried", func(i int, w http.ResponseWriter, _ *http.Request) {
			if i == 0 {
				hijackClose(w)
				return
			}
			okStatus(w)
		}, false, 2, false, false},
		{"409: not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			apiError(w, 409, nodeapi.CodeStaleRevision, "old")
		}, true, 1, true, false},
		{"401: not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			apiError(w, 401, nodeapi.CodeUnauthorized, "no")
		}, true, 1, false, true},
		{"400 without a JSON body: not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "bad", 400)
		}, true, 1, false, false},
		{"oversized answer: refused, not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(bytes.Repeat([]byte(" "), nodeapi.MaxBodyBytes+10))
		}, true, 1, false, false},
		{"undecodable answer: not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"revision":"x"}`))
		}, true, 1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := scripted(t, tt.answer)
			_, err := nodeapitest.NewClient(t, secret).SetPeers(t.Context(), nodeapitest.Endpoint(srv.URL, "a@127.0.0.1"), 3, nodeapitest.PeerSet("b@127.0.0.2"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if nodeapi.IsStaleRevision(err) != tt.wantIsStale || nodeapi.IsUnauthorized(err) != tt.wantIsAuth {
				t.Errorf("IsStaleRevision = %v, IsUnauthorized = %v for %v", nodeapi.IsStaleRevision(err), nodeapi.IsUnauthorized(err), err)
			}
		})
	}
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func TestClientSendsRequest(t *testing.T) {
	var got struct {
		method, path, auth, ctype, body string
	}
	srv, _ := scripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(r.Body)
		got.method, got.path, got.auth, got.ctype, got.body = r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b.String()
		okStatus(w)
	})
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(cluster string) string { return "tok-" + cluster }})
	if err != nil {
		t.Fatal(err)
	}
	ep := mesh.Endpoint{Cluster: "blue", Node: "a@127.0.0.1", URL: srv.URL + "/"}
	st, err := c.SetPeers(t.Context(), ep, 3, nodeapitest.PeerSet("b@127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "PUT" || got.path != nodeapi.PathPeers || got.auth != "Bearer tok-blue" || got.ctype != nodeapi.MediaType ||
		got.body != `{"revision":3,"peers":["b@127.0.0.2"]}` {
		t.Errorf("request = %+v", got)
	}
	if st.Node != "a@127.0.0.1" || st.Revision != 3 || !st.Managed.Equal(nodeapitest.PeerSet("b@127.0.0.2")) {
		t.Errorf("status = %+v", st)
	}
	if _, err := c.SetPeers(t.Context(), ep, 4, nil); err != nil || got.body != `{"revision":4,"peers":[]}` {
		t.Errorf("empty set: err %v, body %s", err, got.body)
	}
	if _, err := c.Leave(t.Context(), ep, 5); err != nil || got.method != "POST" || got.path != nodeapi.PathLeave || got.body != `{"revision":5}` {
		t.Errorf("leave: err %v, request %+v", err, got)
	}
	if err := c.Health(t.Context(), ep); err != nil || got.path != nodeapi.PathHealth || got.auth != "" {
		t.Errorf("health: err %v, request %+v", err, got)
	}
}

func TestClientRespectsContext(t *testing.T) {
	release := make(chan struct{})
	srv, _ := scripted(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := nodeapitest.NewClient(t, secret).Status(ctx, nodeapitest.Endpoint(srv.URL, "a@127.0.0.1"))
		done <- err
	}()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestClientAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, calls := scripted(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return secret }, Timeout: 100 * time.Millisecond, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(t.Context(), nodeapitest.Endpoint(srv.URL, "a@127.0.0.1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	if calls.Load() > 1 {
		t.Errorf("calls = %d with retries disabled", calls.Load())
	}
}

func TestClientNeverLeaksToken(t *testing.T) {
	srv, _ := scripted(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i%3 == 0 {
			hijackClose(w)
			return
		}
		// A hostile agent echoes the token.
		apiError(w, 500, nodeapi.CodeInternal, "got "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	log, logs := logBuffer()
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return secret }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SetPeers(t.Context(), nodeapitest.Endpoint(srv.URL, "a@127.0.0.1"), 1, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logs(), secret) {
		t.Errorf("token leaked: err %q, logs %q", err, logs())
	}
	if !strings.Contains(logs(), "retrying node call") {
		t.Errorf("retries not logged at V(1): %q", logs())
	}
	if _, err := c.Status(t.Context(), mesh.Endpoint{URL: "http://user:" + secret + "@127.0.0.1:1"}); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("URL credentials leaked or no error: %v", err)
	}
}

func TestNewClientNeedsTokens(t *testing.T) {
	if _, err := nodeapi.NewClient(nodeapi.ClientOptions{}); err == nil {
		t.Error("NewClient without Tokens: want an error")
	}
	if _, err := nodeapitest.NewClient(t, "").Status(t.Context(), mesh.Endpoint{Cluster: "x", URL: "http://127.0.0.1:1"}); err == nil {
		t.Error("empty token: want an error before sending")
	}
	c := nodeapitest.NewClient(t, secret)
	for _, u := range []string{"", "ftp://x", "127.0.0.1:4001", "http://"} {
		if _, err := c.Status(t.Context(), mesh.Endpoint{URL: u}); err == nil {
			t.Errorf("URL %q: want an error", u)
		}
	}
}
