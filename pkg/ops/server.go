package ops

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover-mesh/drover/pkg/reconcile"
)

// Paths served by the ops server.
const (
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathMetrics = "/metrics"
	PathStatus  = "/status"
)

// Server timeouts: every response is built from memory, so anything slower
// than this is a stuck client.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	// DefaultShutdownTimeout bounds the graceful shutdown of Serve.
	DefaultShutdownTimeout = 5 * time.Second
)

//go:embed web/index.html
var webFS embed.FS

// Options configure a Server. Status and Ready are required.
type Options struct {
	// Status returns the reconciler's last published status; it must be
	// fast and never call Rancher or a node (reconcile.Controller.Status).
	// Required.
	Status func() reconcile.Status
	// Ready reports whether the controller is ready and, if not, why; a
	// ready answer's lines are notes (see Readiness). It must be fast.
	// Required.
	Ready func() (ready bool, reasons []string)
	// Registry is served on /metrics. Defaults to a new empty registry.
	Registry *prometheus.Registry
	// Secrets are strings (tokens, keys) that must never appear in a
	// response: each is replaced by "REDACTED". Empty strings are ignored.
	Secrets []string
	// MoreSecrets, if set, returns secrets known only later (the tokens of
	// a reloaded config); it is called for each response.
	MoreSecrets func() []string
	// Logger receives the server's errors. Defaults to a discarding logger.
	Logger logr.Logger
}

// Server is the ops HTTP server.
type Server struct {
	opts    Options
	handler http.Handler
}

// NewServer returns a Server, or an error naming the missing options.
func NewServer(opts Options) (*Server, error) {
	var errs []error
	if opts.Status == nil {
		errs = append(errs, errors.New("options: Status is required"))
	}
	if opts.Ready == nil {
		errs = append(errs, errors.New("options: Ready is required"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	s := &Server{opts: opts}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	web, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHealthz, serveHealthz)
	mux.HandleFunc("GET "+PathReadyz, s.serveReadyz)
	mux.HandleFunc("GET "+PathStatus, s.serveStatus)
	mux.Handle("GET "+PathMetrics, promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{
		// Uncompressed, so the redactor sees the text.
		DisableCompression: true,
		ErrorLog:           promLogger{s.opts.Logger},
		ErrorHandling:      promhttp.ContinueOnError,
	}))
	mux.Handle("GET /{$}", http.FileServerFS(web))
	return redact(mux, s.opts.Secrets, s.opts.MoreSecrets)
}

// Serve serves on ln until ctx is done, then shuts down gracefully
// (DefaultShutdownTimeout) and returns nil. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving ops: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving ops: %w", err)
	}
	return nil
}

// serveHealthz answers 200 while the process serves: it checks nothing
// else, so a liveness probe never restarts a controller that waits for
// Rancher.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// serveReadyz answers 200 "ok" when ready (then the notes, e.g. that the
// controller stands by, one a line), else 503 with one reason a line.
func (s *Server) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	ready, reasons := s.opts.Ready()
	if ready {
		writeText(w, http.StatusOK, "ok\n"+strings.Join(append(reasons, ""), "\n"))
		return
	}
	var b strings.Builder
	for _, r := range reasons {
		b.WriteString(r)
		b.WriteByte('\n')
	}
	if len(reasons) == 0 {
		b.WriteString("not ready\n")
	}
	writeText(w, http.StatusServiceUnavailable, b.String())
}

// serveStatus answers the last Status as JSON.
func (s *Server) serveStatus(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(s.opts.Status())
	if err != nil {
		s.opts.Logger.Error(err, "encoding status")
		writeText(w, http.StatusInternalServerError, "encoding status failed\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// promLogger passes promhttp's errors to logr.
type promLogger struct{ log logr.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error(errors.New(strings.TrimSpace(fmt.Sprintln(v...))), "serving metrics")
}
