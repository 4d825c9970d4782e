package nodeapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// transport is the client's HTTP/1.1 round tripper. net/http's Transport
// keeps two goroutines and their buffers for every kept-alive connection,
// about 16 KiB each, which made the connections to 2,000 agents a third
// of the controller's memory (and most of it at 10,000). This one keeps an
// idle connection as its socket alone: a request is written and its answer
// read on the calling goroutine, with net/http's own request writer and
// response parser, and the connection goes back to the pool once its body
// was read to the end. A request on a connection the agent closed while
// it was idle is sent again on a new one (every call of the protocol is
// idempotent, and a connection is checked before it is reused).
//
// It speaks HTTP/1.1 only, uses no proxy, asks for no compression, and
// never writes a chunked body (the client's bodies have a length).
type transport struct {
	dialer           net.Dialer
	tls              *tls.Config // for https; nil: Go's defaults
	handshakeTimeout time.Duration
	headerTimeout    time.Duration // from the request's start to its answer's head
	idleTimeout      time.Duration
	maxIdlePerHost   int
	maxIdle          int
	bufferBytes      int

	mu    sync.Mutex
	idle  map[string][]*idleConn // by scheme and host:port, oldest first
	nIdle int
}

// idleConn is a kept-alive connection between requests, and the timer
// that closes it after idleTimeout (a timer costs no goroutine until it
// fires).
type idleConn struct {
	conn  net.Conn
	timer *time.Timer
}

// errReused marks a failure on a connection that came from the pool before
// any byte of the answer was read: the agent closed it while it was idle,
// and the request may go again on a new connection.
var errReused = errors.New("kept-alive connection was closed by the agent")

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("unsupported protocol scheme %q", req.URL.Scheme)
	}
	key := req.URL.Scheme + "://" + hostPort(req)
	for {
		conn, reused, err := t.conn(req.Context(), key, req)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := t.exchange(req, conn, key, reused)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, errReused) {
			closeBody(req)
			return nil, err
		}
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, err
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			again := *req // a RoundTripper does not change the caller's request
			again.Body = body
			req = &again
		}
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// hostPort is the request's host with its scheme's default port.
func hostPort(req *http.Request) string {
	if req.URL.Port() != "" {
		return req.URL.Host
	}
	port := "80"
	if req.URL.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
}

// conn returns a live idle connection for key, or dials a new one.
func (t *transport) conn(ctx context.Context, key string, req *http.Request) (net.Conn, bool, error) {
	for {
		c, ok := t.takeIdle(key)
		if !ok {
			break
		}
		if alive(c) {
			return c, true, nil
		}
		_ = c.Close()
	}
	c, err := t.dialer.DialContext(ctx, "tcp", hostPort(req))
	if err != nil {
		return nil, false, err
	}
	if req.URL.Scheme == "http" {
		return c, false, nil
	}
	cfg := t.tls
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = req.URL.Hostname() // as net/http: the host dialled
	}
	tc := tls.Client(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, t.handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = c.Close()
		return nil, false, err
	}
	return tc, false, nil
}

// exchange writes req on conn and reads its answer's head. On success the
// answer's body owns conn.
func (t *transport) exchange(req *http.Request, conn net.Conn, key string, reused bool) (*http.Response, error) {
	ctx := req.Context()
	deadline := time.Now().Add(t.headerTimeout)
	ctxDeadline, bounded := ctx.Deadline()
	if bounded && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	_ = conn.SetDeadline(deadline)
	// A request that ends while blocked on the connection unblocks it.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error, read bool) (*http.Response, error) {
		stop()
		_ = conn.Close()
		if isTimeout(err) && deadline.Equal(ctxDeadline) {
			<-ctx.Done() // the connection's deadline was the request's: report it as such
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%w (%w)", ctxErr, err)
		}
		if reused && !read && !isTimeout(err) {
			return nil, fmt.Errorf("%w: %w", errReused, err)
		}
		return nil, err
	}
	bw := bufio.NewWriterSize(conn, t.bufferBytes)
	if err := req.Write(bw); err != nil {
		return fail(err, false)
	}
	if err := bw.Flush(); err != nil {
		return fail(err, false)
	}
	br := bufio.NewReaderSize(conn, t.bufferBytes)
	if _, err := br.Peek(1); err != nil {
		return fail(err, false)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err, true)
	}
	// The head is in: the body is bounded by the request's context (the
	// client's attempt timeout), not by the head's deadline.
	d, _ := ctx.Deadline()
	_ = conn.SetDeadline(d)
	resp.Body = &body{rc: resp.Body, ctx: ctx, t: t, conn: conn, br: br, key: key, stop: stop,
		reusable: !resp.Close && !req.Close && resp.ProtoAtLeast(1, 1), eof: resp.ContentLength == 0}
	return resp, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// body is an answer's body; read to its end and closed, it gives the
// connection back to the pool.
type body struct {
	rc       io.ReadCloser
	ctx      context.Context // the request's: it bounds reading the body
	t        *transport
	conn     net.Conn
	br       *bufio.Reader
	key      string
	stop     func() bool
	reusable bool
	eof      bool
	done     bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("read on a closed response body")
	}
	n, err := b.rc.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
		return n, err
	}
	if _, bounded := b.ctx.Deadline(); bounded && isTimeout(err) {
		<-b.ctx.Done() // the only deadline while the body is read is the request's
	}
	if err != nil && b.ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", b.ctx.Err(), err)
	}
	return n, err
}

// Close gives the connection back when the body was read to its end and
// nothing follows it; otherwise it closes the connection (an unread rest
// is never drained here: the caller drains what it wants to).
func (b *body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	ctxDone := !b.stop()
	if !b.eof || !b.reusable || ctxDone || b.br.Buffered() > 0 {
		return b.conn.Close()
	}
	if err := b.conn.SetDeadline(time.Time{}); err != nil {
		return b.conn.Close()
	}
	b.t.putIdle(b.key, b.conn)
	return nil
}

// takeIdle returns the newest idle connection for key.
func (t *transport) takeIdle(key string) (net.Conn, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	if len(list) == 0 {
		return nil, false
	}
	c := list[len(list)-1]
	t.drop(key, len(list)-1)
	c.timer.Stop()
	return c.conn, true
}

// drop removes the i-th idle connection of key; the caller holds mu.
func (t *transport) drop(key string, i int) {
	list := t.idle[key]
	if len(list) == 1 {
		delete(t.idle, key)
	} else {
		t.idle[key] = slices.Delete(list, i, i+1)
	}
	t.nIdle--
}

// putIdle keeps conn for key within the limits, or closes it.
func (t *transport) putIdle(key string, conn net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = map[string][]*idleConn{}
	}
	if len(t.idle[key]) >= t.maxIdlePerHost || t.nIdle >= t.maxIdle {
		_ = conn.Close()
		return
	}
	c := &idleConn{conn: conn}
	c.timer = time.AfterFunc(t.idleTimeout, func() { t.expire(key, c) })
	t.idle[key] = append(t.idle[key], c)
	t.nIdle++
}

// expire closes an idle connection whose idle timeout passed, unless a
// request took it meanwhile.
func (t *transport) expire(key string, c *idleConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i := slices.Index(t.idle[key], c); i >= 0 {
		t.drop(key, i)
		_ = c.conn.Close()
	}
}

// CloseIdleConnections closes every idle connection (http.Client calls
// it).
func (t *transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, list := range t.idle {
		for _, c := range list {
			c.timer.Stop()
			_ = c.conn.Close()
		}
		delete(t.idle, key)
	}
	t.nIdle = 0
}
