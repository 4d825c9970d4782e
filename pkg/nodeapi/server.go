package nodeapi

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Handler serves the requests. Required.
	Handler http.Handler
	// TLS, when set, makes the server speak HTTPS (HTTP/1.1 only).
	TLS *tls.Config
	// Limits are the connection limits; zero fields take the protocol's
	// defaults.
	Limits Limits
	// Logger receives V(1) logs of refused connections and requests.
	// Default: discard.
	Logger logr.Logger
}

// Server is the hardened HTTP/1.1 server of the Go agent and of the
// controller's announce endpoint. On top of net/http it:
//
//   - caps connections per source address and in total, closing the ones
//     beyond at once, so no client can hold every file descriptor or keep
//     health checks from being answered;
//   - gives the whole request head one deadline (from the accept, TLS
//     handshake included, or from the first byte of a kept-alive
//     connection's next request) and the body another;
//   - answers a request line over MaxLineBytes with 414, a header line over
//     it or a head over MaxHeadBytes with 431, a Content-Length that is not
//     plain digits with 400, before net/http parses the head;
//   - turns the plain-text errors that net/http writes before any handler
//     runs (a malformed request line, a missing Host header, ...) into the
//     protocol's JSON error body, so every answer carries {code, message}.
type Server struct {
	http    *http.Server
	handler http.Handler
	tls     *tls.Config
	limits  Limits
	log     logr.Logger
	conns   connCounter
	closing atomic.Bool // Shutdown or Close began: connections close without lingering
}

// NewServer checks opts, applies defaults and returns a Server.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Handler == nil {
		return nil, errors.New("server handler is required")
	}
	s := &Server{handler: opts.Handler, limits: opts.Limits.withDefaults(), log: opts.Logger}
	s.conns.perSource = map[netip.Addr]int{}
	if opts.TLS != nil {
		s.tls = opts.TLS.Clone()
		s.tls.NextProtos = []string{"http/1.1"}
		s.tls.MinVersion = max(s.tls.MinVersion, tls.VersionTLS12)
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	s.http = &http.Server{
		Handler: http.HandlerFunc(s.serveHTTP),
		// The head deadline is serverConn's; net/http would start it only
		// after the first 4 bytes of a kept-alive connection's request.
		ReadHeaderTimeout:            0,
		IdleTimeout:                  s.limits.IdleTimeout,
		WriteTimeout:                 s.limits.WriteTimeout,
		MaxHeaderBytes:               MaxHeadBytes,
		DisableGeneralOptionsHandler: true,
		Protocols:                    &protocols,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ErrorLog: log.New(logWriter{opts.Logger}, "", 0),
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown or Close, which make it
// return http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(&limitListener{Listener: ln, s: s})
}

// Shutdown stops accepting, waits for requests in flight until ctx ends,
// then closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	return s.http.Shutdown(ctx)
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	return s.http.Close()
}

type connKey struct{}

// serveHTTP closes the connection after a request whose framing the
// server does not follow (a chunked body), then calls the handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if c, ok := r.Context().Value(connKey{}).(*serverConn); ok && c.closeAfter.Load() {
		w.Header().Set("Connection", "close")
	}
	s.handler.ServeHTTP(w, r)
}

// limitListener admits connections within the limits and wraps them.
type limitListener struct {
	net.Listener
	s *Server
}

// Accept returns the next admitted connection; connections over a limit
// are closed at once and never returned.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceOf(c.RemoteAddr())
		if !l.s.conns.admit(src, l.s.limits) {
			_ = c.Close()
			l.s.noteRefused(src)
			continue
		}
		return newServerConn(c, l.s, src), nil
	}
}

// sourceOf is the IP address of a remote address (IPv4-mapped IPv6
// addresses count as IPv4).
func sourceOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// connCounter counts open connections per source and in total.
type connCounter struct {
	mu        sync.Mutex
	perSource map[netip.Addr]int
	total     int
	refused   int       // since the last log line
	lastLog   time.Time // of the last "connections refused" line
}

func (cc *connCounter) admit(src netip.Addr, l Limits) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.total >= l.MaxConns || cc.perSource[src] >= l.MaxConnsPerSource {
		return false
	}
	cc.total++
	cc.perSource[src]++
	return true
}

func (cc *connCounter) release(src netip.Addr) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.total--
	if cc.perSource[src]--; cc.perSource[src] <= 0 {
		delete(cc.perSource, src)
	}
}

// refusedLogEvery spaces the "connections refused" lines: a flood must not
// turn into a flood of logs.
const refusedLogEvery = 10 * time.Second

func (s *Server) noteRefused(src netip.Addr) {
	cc := &s.conns
	cc.mu.Lock()
	cc.refused++
	now := time.Now()
	n, due := cc.refused, now.Sub(cc.lastLog) >= refusedLogEvery
	if due {
		cc.refused, cc.lastLog = 0, now
	}
	total, fromSrc := cc.total, cc.perSource[src]
	cc.mu.Unlock()
	if due {
		s.log.Info("connections refused over the limit", "refused", n, "source", src.String(),
			"fromSource", fromSrc, "open", total, "maxPerSource", s.limits.MaxConnsPerSource, "max", s.limits.MaxConns)
	}
}

// logWriter sends net/http's own log lines (TLS handshake errors and the
// like) to the logger at V(1).
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.V(1).Info("http server", "detail", strings.TrimSpace(string(p)))
	return len(p), nil
}
