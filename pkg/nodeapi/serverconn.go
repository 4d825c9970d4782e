package nodeapi

import (
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
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// After an error answer, or an answer given before the request's body was
// read (401 or 413 to a large body), the server half-closes and reads what
// the client still sends for a short while before closing, so that the
// close does not reset the connection before the client has read the
// answer (a TCP reset makes the client's kernel drop data it has not read
// yet, and a client still writing its body sees only the reset).
const (
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 2 * MaxBodyBytes
)

// serverConn is one admitted connection as net/http sees it. Every byte
// net/http reads passes through the framer, which enforces the head
// limits; every byte it writes passes through Write, which turns net/http's
// own plain-text errors into JSON. It owns the read deadlines: the head
// and body deadlines are its own, and net/http's (idle timeout, aborting a
// background read) apply too, the earlier one winning.
type serverConn struct {
	net.Conn // the stream net/http speaks: raw, or TLS over raw
	raw      net.Conn
	tls      *tls.Conn // nil for plain HTTP
	srv      *Server
	src      netip.Addr

	// Read state; net/http never reads from two goroutines at once.
	fr        framer
	pending   []byte // read from the network but held back for the next Read
	readErr   error  // returned once pending is empty
	handshook bool

	closeAfter atomic.Bool // a request the framer does not follow: close after it
	done       atomic.Bool // answered in net/http's place: no more reads or writes
	answered   atomic.Bool // an error answer was sent: close gracefully
	inBody     atomic.Bool // a request body is not read to its end yet: close gracefully

	wmu sync.Mutex // serialises writes of answers with net/http's writes

	dmu    sync.Mutex
	httpDL time.Time // read deadline net/http set
	ownDL  time.Time // head or body deadline

	closeOnce sync.Once
	closeErr  error
}

func newServerConn(c net.Conn, s *Server, src netip.Addr) *serverConn {
	sc := &serverConn{Conn: c, raw: c, srv: s, src: src}
	if s.tls != nil {
		sc.tls = tls.Server(c, s.tls)
		sc.Conn = sc.tls
	}
	sc.setOwnDeadline(time.Now().Add(s.limits.HeadTimeout))
	return sc
}

// Read hands net/http the next bytes of the stream, never past the end of
// the current request: what follows waits in pending until net/http asks
// again, so the next head is looked at only once this request is answered.
func (c *serverConn) Read(p []byte) (int, error) {
	if c.done.Load() {
		return 0, io.EOF
	}
	if !c.handshook {
		if err := c.handshake(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		k, err := c.deliver(p[:n])
		c.pending = c.pending[k:]
		return k, err
	}
	if err := c.readErr; err != nil {
		c.readErr = nil
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return 0, err
	}
	c.readErr = err
	k, derr := c.deliver(p[:n])
	if k < n && derr == nil {
		c.pending = append(c.pending[:0], p[k:n]...)
	}
	return k, derr
}

// deliver runs p through the framer and returns how many of its bytes
// net/http may have now.
func (c *serverConn) deliver(p []byte) (int, error) {
	off := 0
	for off < len(p) {
		k, ev, r := c.fr.feed(p[off:])
		off += k
		switch ev {
		case evRefuse:
			c.refuse(r)
			return 0, io.EOF
		case evHeadStart:
			c.setOwnDeadline(time.Now().Add(c.srv.limits.HeadTimeout))
		case evBody:
			c.inBody.Store(true)
			c.setOwnDeadline(time.Now().Add(c.srv.limits.BodyTimeout))
		case evChunked:
			c.inBody.Store(true)
			c.closeAfter.Store(true)
			c.setOwnDeadline(time.Now().Add(c.srv.limits.BodyTimeout))
		case evRequestEnd:
			c.inBody.Store(false)
			c.setOwnDeadline(time.Time{}) // idle: net/http's idle timeout applies
			return off, nil
		}
	}
	return off, nil
}

// handshake runs the TLS handshake, within the head deadline. A client
// that speaks plain HTTP to the HTTPS port gets a JSON answer in clear.
func (c *serverConn) handshake() error {
	c.handshook = true
	if c.tls == nil {
		return nil
	}
	err := c.tls.HandshakeContext(context.Background())
	if err == nil {
		return nil
	}
	c.done.Store(true)
	var re tls.RecordHeaderError
	if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader[:]) {
		c.answered.Store(true)
		c.wmu.Lock()
		_ = c.raw.SetWriteDeadline(time.Now().Add(c.srv.limits.WriteTimeout))
		_, _ = c.raw.Write(errorAnswer(http.StatusBadRequest, CodeBadRequest, "this port speaks HTTPS: use an https:// URL"))
		c.wmu.Unlock()
	}
	c.srv.log.V(1).Info("TLS handshake failed", "remote", c.raw.RemoteAddr().String(), "error", err.Error())
	return io.EOF
}

func looksLikeHTTP(hdr []byte) bool {
	for _, m := range []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "} {
		if bytes.HasPrefix([]byte(m), hdr) || bytes.HasPrefix(hdr, []byte(m)) {
			return true
		}
	}
	return false
}

// refuse answers a head the framer refused and ends the connection.
func (c *serverConn) refuse(r *refusal) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.done.Store(true)
	c.answered.Store(true)
	_ = c.raw.SetWriteDeadline(time.Now().Add(c.srv.limits.WriteTimeout))
	_, _ = c.Conn.Write(errorAnswer(r.status, r.code, r.msg))
	c.srv.log.V(1).Info("request refused", "code", r.code, "remote", c.raw.RemoteAddr().String(), "reason", r.msg)
}

// Write passes net/http's answers through, except its own plain-text
// errors, which become JSON error answers.
func (c *serverConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.done.Load() {
		return len(p), nil // already answered in net/http's place
	}
	if status, text, ok := netHTTPError(p); ok {
		c.done.Store(true)
		c.answered.Store(true)
		status, code, msg := translateNetHTTPError(status, text)
		c.srv.log.V(1).Info("request refused", "code", code, "remote", c.raw.RemoteAddr().String(), "reason", msg)
		_, err := c.Conn.Write(errorAnswer(status, code, msg))
		return len(p), err
	}
	return c.Conn.Write(p)
}

// SetDeadline sets both deadlines.
func (c *serverConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline records net/http's read deadline; the earlier of it and
// the connection's own deadline applies.
func (c *serverConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.httpDL = t
	return c.applyLocked()
}

// SetWriteDeadline sets the write deadline.
func (c *serverConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

func (c *serverConn) setOwnDeadline(t time.Time) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ownDL = t
	_ = c.applyLocked()
}

func (c *serverConn) applyLocked() error {
	dl := c.httpDL
	if dl.IsZero() || !c.ownDL.IsZero() && c.ownDL.Before(dl) {
		dl = c.ownDL
	}
	return c.raw.SetReadDeadline(dl)
}

// CloseWrite half-closes the connection (net/http calls it before closing
// after some errors).
func (c *serverConn) CloseWrite() error {
	if c.tls != nil {
		if err := c.tls.CloseWrite(); err != nil {
			return err
		}
	}
	if cw, ok := c.raw.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection once and releases its slot. After an error
// answer, or with a request body left unread, it half-closes first and
// drains the client's input for a moment, unless the server is closing (it
// closes its connections one by one).
func (c *serverConn) Close() error {
	c.closeOnce.Do(func() {
		if (c.answered.Load() || c.inBody.Load()) && !c.srv.closing.Load() {
			_ = c.CloseWrite()
			_ = c.raw.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, c.raw, lingerBytes)
		}
		c.srv.conns.release(c.src) // before the close: a client that sees it may connect again
		c.closeErr = c.Conn.Close()
	})
	return c.closeErr
}

// netHTTPErrorHeaders is what net/http writes after the status line of the
// errors it answers itself, before any handler runs (server.go, conn.serve).
// Handlers' answers cannot contain it: net/http sorts header names, so
// Connection always comes before Content-Type there.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// netHTTPError recognises one of net/http's own plain-text error answers
// and returns its status and text.
func netHTTPError(p []byte) (int, string, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return 0, "", false
	}
	head, body, ok := bytes.Cut(rest, []byte(netHTTPErrorHeaders))
	if !ok || len(head) < 3 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(head[:3]))
	if err != nil {
		return 0, "", false
	}
	return status, string(body), true
}

// translateNetHTTPError maps one of net/http's errors to the protocol's
// answer: 414 and 431 keep their status, everything else (400, 501 for an
// unknown transfer coding, 505 for HTTP/2.0 and up) is 400 bad_request, as
// the BEAM agent answers. The text is cut to MaxQuoteBytes: net/http quotes
// parts of the input in some of them.
func translateNetHTTPError(status int, text string) (int, string, string) {
	prefix := strconv.Itoa(status) + " " + http.StatusText(status)
	detail, _ := bytes.CutPrefix([]byte(text), []byte(prefix))
	detail, _ = bytes.CutPrefix(detail, []byte(": "))
	if len(detail) > MaxQuoteBytes {
		detail = append(detail[:MaxQuoteBytes:MaxQuoteBytes], "..."...)
	}
	m := "malformed request"
	if len(detail) > 0 {
		m += ": " + string(bytes.ToValidUTF8(detail, []byte("?")))
	}
	switch status {
	case http.StatusRequestURITooLong:
		return status, CodeURITooLong, m
	case http.StatusRequestHeaderFieldsTooLarge:
		return status, CodeHeadersTooLarge, m
	case http.StatusRequestEntityTooLarge:
		return status, CodeTooLarge, m
	}
	return http.StatusBadRequest, CodeBadRequest, m
}

// errorAnswer is a complete HTTP/1.1 error answer with a JSON body, after
// which the connection closes.
func errorAnswer(status int, code, msg string) []byte {
	body, _ := json.Marshal(Error{Code: code, Message: msg})
	body = append(body, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n"+
		"Content-Type: %s\r\nX-Content-Type-Options: nosniff\r\n\r\n%s", status, http.StatusText(status), len(body), MediaType, body)
}
