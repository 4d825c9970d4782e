package nodeapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/go-logr/logr"
)

// DefaultAnnounceTimeout bounds one announcement: it is only a hint, and
// an agent must never wait long for an unreachable controller.
const DefaultAnnounceTimeout = time.Second

// Announcer sends announcements to the controller's node-facing endpoint:
// one attempt each, with a short timeout, never a retry loop.
type Announcer struct {
	url   string
	token string
	http  *http.Client
	log   logr.Logger
}

// NewAnnouncer returns an Announcer for the controller at baseURL (e.g.
// "http://controller:4100"; PathAnnounce is appended). An empty baseURL
// disables announcing: Announce then does nothing.
func NewAnnouncer(baseURL, token string, logger logr.Logger) *Announcer {
	return NewTLSAnnouncer(baseURL, token, nil, logger)
}

// NewTLSAnnouncer is NewAnnouncer for an https:// baseURL whose
// certificate cfg verifies (nil: the system pool).
func NewTLSAnnouncer(baseURL, token string, cfg *tls.Config, logger logr.Logger) *Announcer {
	tr := &http.Transport{TLSClientConfig: cfg, TLSHandshakeTimeout: DefaultAnnounceTimeout, MaxIdleConnsPerHost: 1}
	return &Announcer{
		url:   strings.TrimSuffix(strings.TrimSuffix(baseURL, "/"), PathAnnounce),
		token: token,
		http:  &http.Client{Timeout: DefaultAnnounceTimeout, Transport: tr},
		log:   logger,
	}
}

// Announce tells the controller that node (with primary IP ip) is up or
// stopping (EventUp, EventStopping). It sends once and returns the outcome;
// callers log it and carry on.
func (a *Announcer) Announce(ctx context.Context, event, node, ip string) error {
	if a.url == "" {
		return nil
	}
	body, err := json.Marshal(Announcement{Event: event, Node: node, IP: ip})
	if err != nil {
		return fmt.Errorf("encoding announcement: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultAnnounceTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+PathAnnounce, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building announcement: %w", err)
	}
	req.Header.Set("Content-Type", MediaType)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("announcing %s: %w", event, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		a.log.V(1).Info("announced", "event", event, "node", node)
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, drainLimit))
	e := &APIError{StatusCode: resp.StatusCode, URL: req.URL.Redacted()}
	if wire, ok := decodeError(b); ok {
		e.Code, e.Message = wire.Code, strings.ReplaceAll(wire.Message, a.token, "REDACTED")
	}
	return fmt.Errorf("announcing %s: %w", event, e)
}

// minInFlight is the least number of OnAnnounce calls allowed to run at
// once, so that a low rate does not turn short handler latency into 429s.
const minInFlight = 64

// AnnounceOptions configures AnnounceHandler.
type AnnounceOptions struct {
	// Token authenticates agents. Required: with no token every request
	// gets 401.
	Token string
	// RatePerSecond caps accepted announcements (a token bucket with a
	// burst of the same size). Default mesh.DefaultAnnounceRate.
	RatePerSecond int
	// OnAnnounce is called with every accepted announcement, in its own
	// goroutine, after the 202 is decided; at most 2*RatePerSecond (and at
	// least 64) calls run at once, more get 429. Default: nothing.
	OnAnnounce func(Announcement)
	// TLS, when CertFile is set, makes NewAnnounceServer speak HTTPS.
	TLS TLSFiles
	// Limits are NewAnnounceServer's connection limits; zero fields take
	// the protocol's defaults.
	Limits Limits
	// Logger receives V(1) logs of refused announcements. Default: discard.
	Logger logr.Logger
}

// NewAnnounceServer returns a Server for AnnounceHandler(opts), over TLS
// when opts.TLS names a certificate.
func NewAnnounceServer(opts AnnounceOptions) (*Server, error) {
	cfg, err := OptionalServerTLS(opts.TLS)
	if err != nil {
		return nil, fmt.Errorf("announce endpoint TLS: %w", err)
	}
	return NewServer(ServerOptions{Handler: AnnounceHandler(opts), TLS: cfg, Limits: opts.Limits, Logger: opts.Logger})
}

// AnnounceHandler serves the controller's node-facing POST /v1/announce.
func AnnounceHandler(opts AnnounceOptions) http.Handler {
	return newAnnounceHandler(opts, time.Now)
}

func newAnnounceHandler(opts AnnounceOptions, now func() time.Time) http.Handler {
	if opts.RatePerSecond <= 0 {
		opts.RatePerSecond = mesh.DefaultAnnounceRate
	}
	h := &announceHandler{
		hasToken:  opts.Token != "",
		tokenHash: sha256.Sum256([]byte(opts.Token)),
		bucket:    newTokenBucket(float64(opts.RatePerSecond), float64(opts.RatePerSecond), now),
		inFlight:  make(chan struct{}, max(2*opts.RatePerSecond, minInFlight)),
		on:        opts.OnAnnounce,
		log:       opts.Logger,
	}
	return Recoverer(opts.Logger, h)
}

type announceHandler struct {
	hasToken  bool
	tokenHash [sha256.Size]byte
	bucket    *tokenBucket
	inFlight  chan struct{}
	on        func(Announcement)
	log       logr.Logger
}

func (h *announceHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := h.check(w, r); e != nil {
		h.log.V(1).Info("announcement refused", "code", e.Code, "reason", e.Message, "remote", r.RemoteAddr)
		WriteError(w, e)
		return
	}
	WriteJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

// check validates r and dispatches the announcement, or returns why not.
func (h *announceHandler) check(w http.ResponseWriter, r *http.Request) *Error {
	switch {
	case !h.hasToken || !Authorized(r, h.tokenHash):
		return &Error{Code: CodeUnauthorized, Message: "missing or wrong bearer token"}
	case r.URL.Path != PathAnnounce:
		return &Error{Code: CodeNotFound, Message: "no such path: agents announce on " + PathAnnounce}
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		return &Error{Code: CodeMethodNotAllowed, Message: "use POST on " + PathAnnounce}
	case !h.bucket.allow():
		return &Error{Code: CodeRateLimited, Message: "too many announcements; the controller resyncs anyway"}
	}
	b, e := ReadBody(w, r)
	if e != nil {
		return e
	}
	a, e := DecodeAnnouncement(b)
	if e != nil {
		return e
	}
	select {
	case h.inFlight <- struct{}{}:
	default:
		return &Error{Code: CodeRateLimited, Message: "too many announcements in progress"}
	}
	go func() {
		defer func() { <-h.inFlight }()
		defer func() {
			if v := recover(); v != nil {
				h.log.Error(errors.New(fmt.Sprint(v)), "announcement handler panicked")
			}
		}()
		if h.on != nil {
			h.on(a)
		}
	}()
	return nil
}
