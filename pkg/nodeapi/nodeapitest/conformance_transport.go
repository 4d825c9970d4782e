package nodeapitest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// conformer sends the suite's requests.
type conformer struct {
	tg   Target
	host string // host:port of the agent
	tls  bool
	// base is the state every refusal must leave as it is.
	base *nodeapi.Status
}

func newConformer(t *testing.T, tg Target) conformer {
	t.Helper()
	u, err := url.Parse(tg.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("conformance: BaseURL %q must be http(s)://host:port", tg.BaseURL)
	}
	if tg.MaxConnsPerSource <= 0 {
		tg.MaxConnsPerSource = nodeapi.DefaultMaxConnsPerSource
	}
	if tg.HeadTimeout <= 0 {
		tg.HeadTimeout = nodeapi.DefaultHeadTimeout
	}
	if ap, err := netip.ParseAddrPort(u.Host); err == nil && ap.Addr().IsLoopback() {
		if tg.Source == "" {
			tg.Source = "127.0.0.1"
		}
		if tg.OtherSource == "" {
			tg.OtherSource = "127.0.0.2"
		}
	}
	if tg.HTTPClient == nil {
		tg.HTTPClient = clientFrom(tg, "")
	}
	return conformer{tg: tg, host: u.Host, tls: u.Scheme == "https", base: &nodeapi.Status{}}
}

// clientFrom is an HTTP client that dials the agent from source (any when
// empty), without keeping idle connections.
func clientFrom(tg Target, source string) *http.Client {
	d := dialerFrom(source)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, TLSClientConfig: tg.TLS, DisableKeepAlives: true,
	}}
}

func dialerFrom(source string) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return d
}

// dial opens a raw connection to the agent from source (any when empty),
// with TLS for an https agent.
func (c conformer) dial(ctx context.Context, source string) (net.Conn, error) {
	conn, err := dialerFrom(source).DialContext(ctx, "tcp", c.host)
	if err != nil || !c.tls {
		return conn, err
	}
	tc, err := c.tlsClient(ctx, conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// tlsClient runs the TLS handshake on conn.
func (c conformer) tlsClient(ctx context.Context, conn net.Conn) (net.Conn, error) {
	cfg := &tls.Config{}
	if c.tg.TLS != nil {
		cfg = c.tg.TLS.Clone()
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// rawAnswer is what the agent answered on a raw connection.
type rawAnswer struct {
	resp   *http.Response
	body   []byte
	closed bool // the agent closed the connection after the answer
}

// raw sends req as it is on a new connection and reads one answer; with
// checkClose it then waits for the agent to close the connection. A
// connection that ends without an answer is reported and gives ok false.
func (c conformer) raw(t *testing.T, req []byte, checkClose bool) (rawAnswer, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, err := c.dial(ctx, "")
	if err != nil {
		t.Fatalf("dialling the agent: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	// The agent may answer and close before it read all of a long head: a
	// failed write is fine as long as the answer arrives.
	go func() { _, _ = conn.Write(req) }()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Errorf("no answer, the connection ended: %v", err)
		return rawAnswer{}, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if err != nil {
		t.Errorf("reading the answer's body: %v", err)
		return rawAnswer{}, false
	}
	if !checkClose {
		return rawAnswer{resp: resp, body: body}, true
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	closed := err != nil && !(errors.As(err, &ne) && ne.Timeout())
	return rawAnswer{resp: resp, body: body, closed: closed}, true
}

// expectRawRefusal checks a raw answer's status, JSON error body and code.
func expectRawRefusal(t *testing.T, a rawAnswer, wantCode string, wantClose bool) {
	t.Helper()
	if want := wantStatus(wantCode); a.resp.StatusCode != want {
		t.Errorf("status %d, want %d; body %.200s", a.resp.StatusCode, want, a.body)
	}
	if ct := a.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, nodeapi.MediaType) {
		t.Errorf("Content-Type %q, want %s; body %.200s", ct, nodeapi.MediaType, a.body)
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	var e nodeapi.Error
	if err := dec.Decode(&e); err != nil {
		t.Errorf("error body %.200q is not {\"code\",\"message\"}: %v", a.body, err)
		return
	}
	if e.Code != wantCode || e.Message == "" {
		t.Errorf("error %+v, want code %q and a message", e, wantCode)
	}
	if wantClose && !a.closed {
		t.Errorf("the connection stayed open after the %d answer, want it closed", a.resp.StatusCode)
	}
}

// head is a request head with the given extra header lines.
func (c conformer) head(method, target string, lines ...string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: " + c.host + "\r\n" + strings.Join(append(lines, ""), "\r\n") + "\r\n"
}

// runTransport checks the head limits and the Content-Length rule over raw
// connections.
func (c conformer) runTransport(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("a", n) }
	bearer := "Authorization: Bearer " + c.tg.Token
	over := nodeapi.MaxLineBytes + 1024
	under := nodeapi.MaxLineBytes - 200
	lines := []struct {
		name     string
		req      string
		wantCode string // "" means served: 200
	}{
		{"request line over the limit: 414", c.head("GET", nodeapi.PathHealth+"?"+pad(over)), nodeapi.CodeURITooLong},
		{"header line over the limit: 431", c.head("GET", nodeapi.PathHealth, "X-Pad: "+pad(over)), nodeapi.CodeHeadersTooLarge},
		{"token header over the limit: 431", c.head("GET", nodeapi.PathStatus, "Authorization: Bearer "+pad(over)), nodeapi.CodeHeadersTooLarge},
		{"head over the limit: 431", c.head("GET", nodeapi.PathHealth, padLines(nodeapi.MaxHeadBytes/under+2, under)...), nodeapi.CodeHeadersTooLarge},
		{"header line just under the limit: served", c.head("GET", nodeapi.PathHealth, "X-Pad: "+pad(under)), ""},
		{"head just under the limit: served", c.head("GET", nodeapi.PathHealth, padLines(nodeapi.MaxHeadBytes/under-1, under)...), ""},
	}
	for _, tc := range lines {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := c.raw(t, []byte(tc.req), tc.wantCode != "")
			switch {
			case !ok:
			case tc.wantCode == "":
				if a.resp.StatusCode != http.StatusOK {
					t.Errorf("status %d, want 200; body %.200s", a.resp.StatusCode, a.body)
				}
			default:
				expectRawRefusal(t, a, tc.wantCode, true)
				expectNoEcho(t, a.body, 'a')
			}
			c.expectUnchanged(t)
		})
	}
	body := peersJSON(c.base.Revision+1, c.base.Managed)
	n := len(body)
	for _, cl := range []string{
		fmt.Sprintf("+%d", n), fmt.Sprintf(" %d ", n), fmt.Sprintf("%d ", n), "-0", fmt.Sprintf("-%d", n), fmt.Sprintf("0x%x", n),
		fmt.Sprintf("%d.0", n), fmt.Sprintf("%de0", n), fmt.Sprintf("%d,%d", n, n), fmt.Sprintf("%d %d", n, n), "",
		fmt.Sprintf("%d\r\nContent-Length: %d", n, n+1),
	} {
		t.Run(fmt.Sprintf("Content-Length %q: 400", cl), func(t *testing.T) {
			req := c.head("PUT", nodeapi.PathPeers, bearer, "Content-Type: "+nodeapi.MediaType, "Content-Length:"+" "+cl) + string(body)
			if a, ok := c.raw(t, []byte(req), false); ok {
				expectRawRefusal(t, a, nodeapi.CodeBadRequest, false)
			}
			c.expectUnchanged(t)
		})
	}
}

// padLines are n header lines of about size bytes each.
func padLines(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("X-Pad-%d: %s", i, strings.Repeat("a", size-12))
	}
	return out
}
