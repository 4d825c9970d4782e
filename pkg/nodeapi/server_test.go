package nodeapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

// startServer serves a Go agent with limits (and TLS when cfg is set) and
// returns its address.
func startServer(t *testing.T, limits nodeapi.Limits, cfg *tls.Config) string {
	t.Helper()
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{Node: "a@127.0.0.1", Token: secret, Logger: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := nodeapi.NewServer(nodeapi.ServerOptions{Handler: a.Handler(), TLS: cfg, Limits: limits, Logger: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(nodeapitest.Serve(t, srv, "http"), "http://")
}

// answer is one response read off a raw connection.
type answer struct {
	status int
	header http.Header
	body   []byte
	closed bool // the server closed the connection after it
}

// rawExchange sends req on a new connection from source and reads one
// answer, then, when it says "Connection: close", whether the server
// closes the connection.
func rawExchange(t *testing.T, addr, source, req string, cfg *tls.Config) answer {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if cfg != nil {
		conn = tls.Client(conn, cfg)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(conn, req) }()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", req, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !resp.Close {
		return answer{status: resp.StatusCode, header: resp.Header, body: body}
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	return answer{status: resp.StatusCode, header: resp.Header, body: body, closed: err != nil && !(errors.As(err, &ne) && ne.Timeout())}
}

// expectJSONError checks a strict {code, message} body.
func expectJSONError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d; body %.200s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != nodeapi.MediaType {
		t.Errorf("Content-Type %q, want %s", ct, nodeapi.MediaType)
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	var e nodeapi.Error
	if err := dec.Decode(&e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("body %.200q: %+v (%v), want code %q and a message", a.body, e, err, code)
	}
	if len(e.Message) > 2*nodeapi.MaxQuoteBytes+40 {
		t.Errorf("message of %d bytes: %.200q", len(e.Message), e.Message)
	}
}

const h = "Host: a\r\n"

// TestServerAnswersTransportErrorsWithJSON sends requests that net/http
// would answer in plain text before any handler runs, and the ones the
// server refuses itself: every answer is a JSON {code, message} and the
// connection closes.
func TestServerAnswersTransportErrorsWithJSON(t *testing.T) {
	addr := startServer(t, nodeapi.Limits{}, nil)
	long := strings.Repeat("x", nodeapi.MaxLineBytes+1)
	tests := []struct {
		name   string
		req    string
		status int
		code   string
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"request line with a NUL", "GET /v1/he\x00alth HTTP/1.1\r\n" + h + "\r\n", 400, nodeapi.CodeBadRequest},
		{"HTTP/2.0 request line", "GET /v1/health HTTP/2.0\r\n" + h + "\r\n", 400, nodeapi.CodeBadRequest},
		{"HTTP/1.1 without Host", "GET /v1/health HTTP/1.1\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"two Host headers", "GET /v1/health HTTP/1.1\r\n" + h + h + "\r\n", 400, nodeapi.CodeBadRequest},
		{"invalid header name", "GET /v1/health HTTP/1.1\r\n" + h + "Bad Name: v\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"header line without colon", "GET /v1/health HTTP/1.1\r\n" + h + "NoColon\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"control character in a value", "GET /v1/health HTTP/1.1\r\n" + h + "X: a\x01b\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"obsolete line folding", "GET /v1/health HTTP/1.1\r\n" + h + "X: a\r\n b\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"unknown transfer coding", "PUT /v1/peers HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"chunked twice", "PUT /v1/peers HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"Transfer-Encoding and Content-Length", "PUT /v1/peers HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"unknown expectation", "PUT /v1/peers HTTP/1.1\r\n" + h + "Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 400, nodeapi.CodeBadRequest},
		{"Content-Length with a sign", "PUT /v1/peers HTTP/1.1\r\n" + h + "Content-Length: +2\r\n\r\n{}", 400, nodeapi.CodeBadRequest},
		{"Content-Length -0", "PUT /v1/peers HTTP/1.1\r\n" + h + "Content-Length: -0\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"Content-Length with a trailing space", "PUT /v1/peers HTTP/1.1\r\n" + h + "Content-Length: 2 \r\n\r\n{}", 400, nodeapi.CodeBadRequest},
		{"Content-Length of 19 digits", "PUT /v1/peers HTTP/1.1\r\n" + h + "Content-Length: 1000000000000000000\r\n\r\n", 400, nodeapi.CodeBadRequest},
		{"two different Content-Lengths", "PUT /v1/peers HTTP/1.1\r\n" + h + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, nodeapi.CodeBadRequest},
		{"request line over the limit", "GET /" + long + " HTTP/1.1\r\n" + h + "\r\n", 414, nodeapi.CodeURITooLong},
		{"request line over the limit, no line end", "GET /" + long, 414, nodeapi.CodeURITooLong},
		{"header line over the limit", "GET /v1/health HTTP/1.1\r\n" + h + "X: " + long + "\r\n\r\n", 431, nodeapi.CodeHeadersTooLarge},
		{"head over the limit", "GET /v1/health HTTP/1.1\r\n" + strings.Repeat("X: "+long[:4000]+"\r\n", 17), 431, nodeapi.CodeHeadersTooLarge},
		{"an empty request line", strings.Repeat("\r\n", nodeapi.MaxHeadBytes), 400, nodeapi.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := rawExchange(t, addr, "", tt.req, nil)
			expectJSONError(t, a, tt.status, tt.code)
			if !a.closed {
				t.Error("the connection stayed open after the error")
			}
			if bytes.Contains(a.body, []byte(strings.Repeat("x", nodeapi.MaxQuoteBytes+1))) {
				t.Errorf("the answer echoes the input: %.200q", a.body)
			}
		})
	}
}

// TestServerServesLinesJustUnderTheLimits keeps requests at the limits
// working, a line ending in a bare LF included.
func TestServerServesLinesJustUnderTheLimits(t *testing.T) {
	addr := startServer(t, nodeapi.Limits{}, nil)
	for name, req := range map[string]string{
		"request line of the limit": "GET /v1/health?" + strings.Repeat("x", nodeapi.MaxLineBytes-len("GET /v1/health? HTTP/1.1")) + " HTTP/1.1\r\n" + h + "\r\n",
		"header line of the limit":  "GET /v1/health HTTP/1.1\r\n" + h + "X: " + strings.Repeat("x", nodeapi.MaxLineBytes-3) + "\r\n\r\n",
		"bare LF line ends":         "GET /v1/health HTTP/1.1\n" + "Host: a\n\n",
		"HTTP/1.0 without Host":     "GET /v1/health HTTP/1.0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			if a := rawExchange(t, addr, "", req, nil); a.status != 200 {
				t.Errorf("status %d, want 200; body %.200s", a.status, a.body)
			}
		})
	}
}

// TestServerFramesKeptAliveAndPipelinedRequests sends several requests on
// one connection in one write, bodies included: each is answered in order.
func TestServerFramesKeptAliveAndPipelinedRequests(t *testing.T) {
	addr := startServer(t, nodeapi.Limits{}, nil)
	body := `{"revision":1,"peers":[]}`
	auth := "Authorization: Bearer " + secret + "\r\n"
	reqs := "GET /v1/health HTTP/1.1\r\n" + h + "\r\n" +
		"PUT /v1/peers HTTP/1.1\r\n" + h + auth + "Content-Length: 25\r\n\r\n" + body +
		"GET /v1/status HTTP/1.1\r\n" + h + auth + "\r\n" +
		"PUT /v1/peers HTTP/1.1\r\n" + h + auth + "Transfer-Encoding: chunked\r\n\r\n19\r\n" + body + "\r\n0\r\n\r\n" +
		"GET /v1/health HTTP/1.1\r\n" + h + "\r\n"
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i, want := range []int{200, 200, 200, 200} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Errorf("answer %d: status %d, want %d; body %s", i, resp.StatusCode, want, b)
		}
	}
	// The chunked request's framing is net/http's alone: the server closes
	// after it rather than read a head it did not see whole.
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Error("a request after a chunked one was served on the same connection")
	}
}

// TestServerCapsConnectionsPerSourceAndInTotal holds idle connections from
// loopback sources (all of 127.0.0.0/8 is local on Linux).
func TestServerCapsConnectionsPerSourceAndInTotal(t *testing.T) {
	addr := startServer(t, nodeapi.Limits{MaxConnsPerSource: 3, MaxConns: 5}, nil)
	hold := func(source string, n int) []net.Conn {
		var out []net.Conn
		for range n {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
			c, err := d.DialContext(t.Context(), "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	served := func(source string) bool {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
		c, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "GET /v1/health HTTP/1.1\r\n"+h+"Connection: close\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		_, _ = io.Copy(io.Discard, br) // until the server closed and released the connection
		return err == nil && resp.StatusCode == 200
	}
	a := hold("127.0.0.1", 3)
	if served("127.0.0.1") {
		t.Error("a fourth connection from 127.0.0.1 was served (cap 3 per source)")
	}
	if !served("127.0.0.2") {
		t.Error("127.0.0.2 was not served while 127.0.0.1 was at its cap")
	}
	b := hold("127.0.0.2", 2)
	if served("127.0.0.3") {
		t.Error("a sixth connection was served (cap 5 in total)")
	}
	for _, c := range append(a, b...) {
		_ = c.Close()
	}
	testwait.Eventually(t, 0, "127.0.0.1 served again", func() bool { return served("127.0.0.1") })
}

// TestServerHeadDeadlineCoversTheWholeHead: a client that sends a header
// line every 50 ms is closed at the head deadline, without an answer; so
// is a kept-alive connection that sends the first byte of its next
// request and stops, however long the idle timeout.
func TestServerHeadDeadlineCoversTheWholeHead(t *testing.T) {
	const head = 300 * time.Millisecond
	addr := startServer(t, nodeapi.Limits{HeadTimeout: head, IdleTimeout: time.Hour}, nil)
	t.Run("slow header lines", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		got := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(conn); got <- b }()
		_, _ = io.WriteString(conn, "GET /v1/health HTTP/1.1\r\n")
		for i := 0; i < 200; i++ { // 10 s, over 30 head deadlines
			select {
			case b := <-got:
				if len(b) != 0 {
					t.Errorf("the slow request was answered: %.100q", b)
				}
				return
			case <-time.After(50 * time.Millisecond):
				_, _ = io.WriteString(conn, "X-Slow: 1\r\n")
			}
		}
		t.Fatal("the connection was still open after 30 head deadlines of slow header lines")
	})
	t.Run("one byte of the next request", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(conn, "GET /v1/health HTTP/1.1\r\n"+h+"\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_, _ = io.WriteString(conn, "G")
		if _, err := br.ReadByte(); err == nil || isTimeout(err) {
			t.Errorf("read after one byte of the next request: %v, want the server to close within the head deadline (the test gives up after 20 s)", err)
		}
	})
}

// TestServerBodyDeadline: a body that stops coming is cut off at the body
// deadline.
func TestServerBodyDeadline(t *testing.T) {
	addr := startServer(t, nodeapi.Limits{BodyTimeout: 300 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.WriteString(conn, "PUT /v1/peers HTTP/1.1\r\n"+h+"Authorization: Bearer "+secret+"\r\nContent-Length: 25\r\n\r\n{\"rev")
	b, err := io.ReadAll(conn)
	if isTimeout(err) {
		t.Fatal("the connection was still open 20 s after the body stopped (body deadline 300 ms)")
	}
	if bytes.HasPrefix(b, []byte("HTTP/1.1 200")) {
		t.Errorf("a cut-off body was applied: %.200q", b)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestServerTLS serves HTTPS that requires client certificates: a client
// with one is served, one without fails the handshake, and plain HTTP on
// the port gets a JSON 400 in clear.
func TestServerTLS(t *testing.T) {
	pki := nodeapitest.NewPKI(t, "agents")
	cert, key := pki.Issue(t, "agent", "agent.test")
	cfg, err := nodeapi.ServerTLSConfig(nodeapi.TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: pki.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, nodeapi.Limits{}, cfg)
	client := &tls.Config{RootCAs: pki.Pool, ServerName: "agent.test", Certificates: []tls.Certificate{pki.KeyPair(t, "controller")}}
	if a := rawExchange(t, addr, "", "GET /v1/health HTTP/1.1\r\n"+h+"\r\n", client); a.status != 200 {
		t.Errorf("with a client certificate: status %d, want 200", a.status)
	}
	noCert := &tls.Config{RootCAs: pki.Pool, ServerName: "agent.test"}
	conn, err := tls.Dial("tcp", addr, noCert)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Write([]byte("GET /v1/health HTTP/1.1\r\n" + h + "\r\n"))
		if err == nil {
			_, err = bufio.NewReader(conn).ReadByte()
		}
		_ = conn.Close()
	}
	if err == nil {
		t.Error("a client without a certificate was served")
	}
	a := rawExchange(t, addr, "", "GET /v1/health HTTP/1.1\r\n"+h+"\r\n", nil)
	expectJSONError(t, a, 400, nodeapi.CodeBadRequest)
}

// TestAnnounceServerTLS announces over HTTPS to the announce server.
func TestAnnounceServerTLS(t *testing.T) {
	pki := nodeapitest.NewPKI(t, "controller")
	cert, key := pki.Issue(t, "controller", "127.0.0.1")
	got := make(chan nodeapi.Announcement, 1)
	srv, err := nodeapi.NewAnnounceServer(nodeapi.AnnounceOptions{Token: "ann", TLS: nodeapi.TLSFiles{CertFile: cert, KeyFile: key},
		OnAnnounce: func(a nodeapi.Announcement) { got <- a }})
	if err != nil {
		t.Fatal(err)
	}
	url := nodeapitest.Serve(t, srv, "https")
	an := nodeapi.NewTLSAnnouncer(url, "ann", &tls.Config{RootCAs: pki.Pool}, testr.New(t))
	if err := an.Announce(t.Context(), nodeapi.EventUp, "a@127.0.0.1", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.Node != "a@127.0.0.1" {
			t.Errorf("announcement %+v", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no announcement")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := nodeapi.NewAnnouncer(url, "ann", testr.New(t)).Announce(ctx, nodeapi.EventUp, "a@127.0.0.1", "127.0.0.1"); err == nil {
		t.Error("an announcer without the CA trusted the controller's certificate")
	}
}

// TestAgentUnderConnectionFlood opens 20,000 connections from 127.0.0.1,
// each sending the start of a head and then nothing, while 127.0.0.2 reads
// health and pushes: every request from 127.0.0.2 is answered and the
// agent's mesh is untouched. The latencies are printed, not asserted.
func TestAgentUnderConnectionFlood(t *testing.T) {
	const flood = 20000
	m := nodeagent.NewMemoryMesh(nodeagent.MemoryMeshOptions{})
	m.Connector("b@127.0.0.2")
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{Node: "a@127.0.0.1", Token: secret, Connector: m.Connector("a@127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	url := nodeapitest.ServeAgent(t, a)
	addr := strings.TrimPrefix(url, "http://")
	other := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return secret }, HTTPClient: other})
	if err != nil {
		t.Fatal(err)
	}
	ep := nodeapitest.Endpoint(url, "a@127.0.0.1")
	if _, err := c.SetPeers(t.Context(), ep, 1, nodeapitest.PeerSet("b@127.0.0.2")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opened := make(chan int, 8)
	var dialing sync.WaitGroup
	dialing.Add(8)
	dialed := make(chan struct{})
	go func() { dialing.Wait(); close(dialed) }()
	for w := range 8 {
		go func() {
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					_ = c.Close()
				}
				opened <- len(conns)
			}()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}}
			for i := w; i < flood && ctx.Err() == nil; i += 8 {
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					continue // out of ports or fds: the flood is as big as the machine allows
				}
				_, _ = io.WriteString(conn, "GET /v1/health HTTP/1.1\r\nX-Slow: 1\r\n")
				conns = append(conns, conn)
			}
			dialing.Done()
			<-ctx.Done()
		}()
	}
	var worst time.Duration
	rounds := 0
	for done := false; !done; rounds++ {
		select {
		case <-dialed:
			done = true // one more round with every connection open
		default:
		}
		start := time.Now()
		if err := c.Health(t.Context(), ep); err != nil {
			t.Fatalf("health from 127.0.0.2 during the flood: %v", err)
		}
		if _, err := c.SetPeers(t.Context(), ep, 1, nodeapitest.PeerSet("b@127.0.0.2")); err != nil {
			t.Fatalf("push from 127.0.0.2 during the flood: %v", err)
		}
		worst = max(worst, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	total := 0
	for range 8 {
		total += <-opened
	}
	t.Logf("%d connections opened from 127.0.0.1; %d rounds of health + push from 127.0.0.2, the slowest %v", total, rounds, worst)
	if got := m.Connected("a@127.0.0.1"); len(got) != 1 || got[0] != "b@127.0.0.2" {
		t.Errorf("links after the flood: %v, want [b@127.0.0.2]", got)
	}
}

// TestServerEarlyAnswersReachClientsStillSending: a 401 or 413 answered
// before a large body is read reaches a client still writing that body,
// over HTTP and HTTPS (closing with the body unread resets the connection,
// and a client that has not read the answer yet sees only the reset: the
// conformance suite's 413 over TLS failed so now and then on a loaded
// machine before the server drained such bodies).
func TestServerEarlyAnswersReachClientsStillSending(t *testing.T) {
	pki := nodeapitest.NewPKI(t, "agents")
	cert, key := pki.Issue(t, "agent", "127.0.0.1")
	cfg, err := nodeapi.ServerTLSConfig(nodeapi.TLSFiles{CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 2*nodeapi.MaxBodyBytes)
	for name, tc := range map[string]struct {
		addr   string
		client *http.Client
		scheme string
	}{
		"http":  {startServer(t, nodeapi.Limits{}, nil), &http.Client{Timeout: 20 * time.Second}, "http"},
		"https": {startServer(t, nodeapi.Limits{}, cfg), &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool}}}, "https"},
	} {
		t.Run(name, func(t *testing.T) {
			for i := range 10 {
				for auth, want := range map[string]int{"": 401, "Bearer " + secret: 413} {
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, tc.scheme+"://"+tc.addr+nodeapi.PathPeers, bytes.NewReader(body))
					if auth != "" {
						req.Header.Set("Authorization", auth)
					}
					resp, err := tc.client.Do(req)
					if err != nil {
						t.Fatalf("attempt %d, want %d: %v", i, want, err)
					}
					_ = resp.Body.Close()
					if resp.StatusCode != want {
						t.Errorf("attempt %d: status %d, want %d", i, resp.StatusCode, want)
					}
				}
			}
		})
	}
}
