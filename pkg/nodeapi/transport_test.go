package nodeapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// countingServer is an httptest server that counts the connections its
// clients opened, and the ones still open.
type countingServer struct {
	*httptest.Server
	mu          sync.Mutex
	opened, now int
}

func startCounting(t *testing.T, useTLS bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.opened++
			s.now++
		case http.StateClosed, http.StateHijacked:
			s.now--
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened, s.now
}

func testTransport(cfg *tls.Config) *transport {
	tr := newTransport(time.Second, cfg)
	tr.idleTimeout = time.Minute
	return tr
}

// get sends one GET through tr and reads the whole answer.
func get(t *testing.T, tr http.RoundTripper, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) }

func TestTransportReusesAKeptAliveConnection(t *testing.T) {
	s := startCounting(t, false, ok)
	tr := testTransport(nil)
	for range 5 {
		if got := get(t, tr, s.URL); got != `{"ok":true}` {
			t.Fatalf("answer %q", got)
		}
	}
	if opened, _ := s.counts(); opened != 1 {
		t.Errorf("5 requests opened %d connections, want 1", opened)
	}
}

func TestTransportKeepsNoGoroutinePerIdleConnection(t *testing.T) {
	const n = 20
	tr := testTransport(nil)
	for range n {
		s := startCounting(t, false, ok)
		get(t, tr, s.URL)
	}
	if tr.nIdle != n {
		t.Fatalf("%d idle connections, want %d", tr.nIdle, n)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	// net/http's Transport would show two goroutines per connection in
	// persistConn's read and write loops.
	if k := strings.Count(stacks, "nodeapi.(*transport)") + strings.Count(stacks, "nodeapi.(*body)") +
		strings.Count(stacks, "net/http.(*persistConn)"); k != 0 {
		t.Errorf("%d goroutines are in the transport with %d idle connections, want none", k, n)
	}
}

func TestTransportSendsAgainWhenTheAgentClosedTheIdleConnection(t *testing.T) {
	s := startCounting(t, false, ok)
	tr := testTransport(nil)
	get(t, tr, s.URL)
	s.CloseClientConnections() // as an agent's idle timeout or restart does
	testwait.Eventually(t, 5*time.Second, "the server saw the connection close", func() bool {
		_, now := s.counts()
		return now == 0
	})
	if got := get(t, tr, s.URL); got != `{"ok":true}` {
		t.Fatalf("answer %q", got)
	}
	if opened, _ := s.counts(); opened != 2 {
		t.Errorf("opened %d connections, want 2", opened)
	}
}

// TestTransportSendsAgainWhenAReusedConnectionFailsBeforeItsAnswer: the
// agent takes a kept-alive connection's second request and closes it
// without an answer (its idle timeout raced the request); the request goes
// again on a new connection, and the caller sees only the answer.
func TestTransportSendsAgainWhenAReusedConnectionFailsBeforeItsAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var served []int // requests answered, per connection
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			served = append(served, 0)
			mu.Unlock()
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					if n == 0 && i == 1 {
						return // the second request on the first connection: closed unanswered
					}
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					mu.Lock()
					served[n]++
					mu.Unlock()
				}
			}()
		}
	}()
	tr := testTransport(nil)
	url := "http://" + ln.Addr().String() + "/v1/status"
	for i := range 2 {
		if got := get(t, tr, url); got != "ok" {
			t.Fatalf("request %d: answer %q", i, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) != 2 || served[0] != 1 || served[1] != 1 {
		t.Errorf("answers per connection %v, want [1 1]", served)
	}
}

func TestTransportSendsABodyAgainOnANewConnection(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	s := startCounting(t, false, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		ok(w, r)
	})
	tr := testTransport(nil)
	put := func(body string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, s.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	put("one")
	s.CloseClientConnections()
	testwait.Eventually(t, 5*time.Second, "the server saw the connection close", func() bool {
		_, now := s.counts()
		return now == 0
	})
	put("two")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(bodies, ",") != "one,two" {
		t.Errorf("the server received %q, want one,two", bodies)
	}
}

func TestTransportClosesAConnectionWhoseAnswerWasNotReadToTheEnd(t *testing.T) {
	s := startCounting(t, false, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 10000))
	})
	tr := testTransport(nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = resp.Body.Read(make([]byte, 10))
	_ = resp.Body.Close()
	if tr.nIdle != 0 {
		t.Errorf("%d idle connections after an answer read in part, want 0", tr.nIdle)
	}
	get(t, tr, s.URL)
	if opened, _ := s.counts(); opened != 2 {
		t.Errorf("opened %d connections, want 2", opened)
	}
}

func TestTransportHonoursConnectionClose(t *testing.T) {
	s := startCounting(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		ok(w, r)
	})
	tr := testTransport(nil)
	get(t, tr, s.URL)
	get(t, tr, s.URL)
	if opened, _ := s.counts(); opened != 2 || tr.nIdle != 0 {
		t.Errorf("opened %d connections, %d idle; want 2 and 0", opened, tr.nIdle)
	}
}

func TestTransportKeepsAtMostTwoIdleConnectionsPerAgent(t *testing.T) {
	release := make(chan struct{})
	s := startCounting(t, false, func(w http.ResponseWriter, r *http.Request) {
		<-release
		ok(w, r)
	})
	tr := testTransport(nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { get(t, tr, s.URL) })
	}
	testwait.Eventually(t, 5*time.Second, "four requests in flight", func() bool {
		opened, _ := s.counts()
		return opened == 4
	})
	close(release)
	wg.Wait()
	if tr.nIdle != 2 {
		t.Errorf("%d idle connections, want 2", tr.nIdle)
	}
	testwait.Eventually(t, 5*time.Second, "the other two closed", func() bool {
		_, now := s.counts()
		return now == 2
	})
}

func TestTransportClosesConnectionsIdleForTheIdleTimeout(t *testing.T) {
	s := startCounting(t, false, ok)
	tr := testTransport(nil)
	tr.idleTimeout = 50 * time.Millisecond
	get(t, tr, s.URL)
	testwait.Eventually(t, 5*time.Second, "the idle connection closed", func() bool {
		_, now := s.counts()
		return now == 0
	})
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.nIdle != 0 || len(tr.idle) != 0 {
		t.Errorf("after the timeout: %d idle (%d agents)", tr.nIdle, len(tr.idle))
	}
}

func TestTransportEndsARequestWithItsContext(t *testing.T) {
	hang := make(chan struct{})
	s := startCounting(t, false, func(http.ResponseWriter, *http.Request) { <-hang })
	defer close(hang)
	tr := testTransport(nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	start := time.Now()
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the request ended %s after its deadline", d)
	}
}

func TestTransportBoundsTheWaitForTheAnswerHead(t *testing.T) {
	hang := make(chan struct{})
	s := startCounting(t, false, func(http.ResponseWriter, *http.Request) { <-hang })
	defer close(hang)
	tr := testTransport(nil)
	tr.headerTimeout = 100 * time.Millisecond
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL, nil)
	if _, err := tr.RoundTrip(req); !isTimeout(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestTransportSpeaksTLSCheckingTheDialledAddress(t *testing.T) {
	s := startCounting(t, true, ok)
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr := testTransport(cfg)
	for range 3 {
		if got := get(t, tr, s.URL); got != `{"ok":true}` {
			t.Fatalf("answer %q", got)
		}
	}
	if opened, _ := s.counts(); opened != 1 {
		t.Errorf("3 requests over TLS opened %d connections, want 1", opened)
	}
	bad := testTransport(&tls.Config{MinVersion: tls.VersionTLS12}) // the system pool: httptest's CA is not in it
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL, nil)
	if _, err := bad.RoundTrip(req); err == nil {
		t.Fatal("a certificate of an unknown authority was accepted")
	}
}

func TestTransportRefusesOtherSchemes(t *testing.T) {
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "ftp://127.0.0.1/x", nil)
	if _, err := testTransport(nil).RoundTrip(req); err == nil || !strings.Contains(err.Error(), "unsupported protocol scheme") {
		t.Fatalf("err = %v", err)
	}
}
