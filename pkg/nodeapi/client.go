package nodeapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Client defaults.
const (
	// DefaultTimeout bounds one attempt: an agent answers in under 1 ms
	// unless it is connecting peers, which it bounds itself. It is a
	// cluster's default admin.timeout.
	DefaultTimeout = mesh.DefaultAdminTimeout
	// DefaultMaxRetries is the number of retries after the first attempt:
	// enough to ride out a restart, small enough not to stall a pass.
	DefaultMaxRetries = 2
	// retryInitialInterval and retryMaxInterval keep retries quick: the
	// reconcile loop retries again on its next pass anyway.
	retryInitialInterval = 50 * time.Millisecond
	retryMaxInterval     = 500 * time.Millisecond
	// maxIdleConns keeps one idle connection per node for 4,000 nodes
	// (an idle connection is its socket alone: transport.go); beyond, a
	// pass dials the nodes it finds no idle connection for. It bounds the
	// descriptors the controller holds, and those of its agents.
	maxIdleConns = 4096
	// IdleConnTimeout is shorter than the agents' idle timeout (60 s), so
	// the client rarely reuses a connection an agent is closing.
	IdleConnTimeout = 45 * time.Second
	// transportBufferBytes sizes each connection's read and write buffers.
	transportBufferBytes = 1 << 10
)

// DialTimeoutFor bounds the TCP connect (and the TLS handshake) of an
// attempt bounded by attempt: three quarters of it, so that a dead IP
// fails as a dial error, with a quarter of the attempt left, rather than
// as an attempt timeout. 2 s attempts dial for at most 1.5 s.
func DialTimeoutFor(attempt time.Duration) time.Duration {
	return attempt * 3 / 4
}

// ClientOptions configures a Client.
type ClientOptions struct {
	// Tokens returns the bearer token for an endpoint's cluster. Required.
	Tokens func(cluster string) string
	// Timeout bounds each attempt. Default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt, for
	// network errors and 5xx answers. 0 means DefaultMaxRetries; a negative
	// value disables retries.
	MaxRetries int
	// HTTPClient sends the requests. Default: a client with its own
	// HTTP/1.1 transport (transport.go): no proxy, no goroutine per
	// kept-alive connection, idle connections kept for 4,000 nodes.
	HTTPClient *http.Client
	// TLS holds, per cluster, how agents reached over https are verified
	// (see ClientTLSConfig). A cluster without an entry uses Go's defaults:
	// the system pool, and the dialled IP as the name to check. Not with
	// HTTPClient.
	TLS map[string]*tls.Config
	// Logger receives V(1) logs of retried attempts. Default: discard.
	Logger logr.Logger
}

// Client calls node agents. It implements reconcile.Nodes. It is safe for
// concurrent use.
type Client struct {
	tokens     func(string) string
	timeout    time.Duration
	maxRetries uint64
	http       *http.Client
	byCluster  map[string]*http.Client // clusters with their own TLS settings
	log        logr.Logger
}

// NewClient checks opts, applies defaults and returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Tokens == nil {
		return nil, errors.New("client tokens function is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.HTTPClient != nil && len(opts.TLS) > 0 {
		return nil, errors.New("client TLS settings cannot go with a custom HTTPClient: configure its transport instead")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: newTransport(opts.Timeout, nil)}
	}
	byCluster := make(map[string]*http.Client, len(opts.TLS))
	for cluster, cfg := range opts.TLS {
		byCluster[cluster] = &http.Client{Transport: newTransport(opts.Timeout, cfg)}
	}
	return &Client{
		tokens:     opts.Tokens,
		timeout:    opts.Timeout,
		maxRetries: uint64(opts.MaxRetries),
		http:       opts.HTTPClient,
		byCluster:  byCluster,
		log:        opts.Logger,
	}, nil
}

func newTransport(timeout time.Duration, cfg *tls.Config) *transport {
	if cfg != nil {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"http/1.1"}
	}
	return &transport{
		dialer:           net.Dialer{Timeout: DialTimeoutFor(timeout), KeepAlive: 30 * time.Second},
		tls:              cfg,
		handshakeTimeout: DialTimeoutFor(timeout),
		headerTimeout:    timeout,
		idleTimeout:      IdleConnTimeout,
		maxIdlePerHost:   2,
		maxIdle:          maxIdleConns,
		// An answer's head and a request are a few hundred bytes; bufio
		// grows past them for a large status. The buffers live only while
		// a request runs.
		bufferBytes: transportBufferBytes,
	}
}

// httpFor returns the HTTP client for an endpoint's cluster.
func (c *Client) httpFor(cluster string) *http.Client {
	if h, ok := c.byCluster[cluster]; ok {
		return h
	}
	return c.http
}

// Status reads the node's status.
func (c *Client) Status(ctx context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error) {
	var st Status
	if err := c.call(ctx, ep, http.MethodGet, PathStatus, nil, &st); err != nil {
		return mesh.NodeStatus{}, fmt.Errorf("reading status of %s: %w", ep.Node, err)
	}
	return ToNodeStatus(st), nil
}

// SetPeers pushes the node's full peer set at revision. A repeated call
// with the same revision and set changes nothing on the node.
func (c *Client) SetPeers(ctx context.Context, ep mesh.Endpoint, revision uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	if len(peers) > MaxPeers {
		return mesh.NodeStatus{}, fmt.Errorf("setting peers of %s: %d peers, but the protocol allows at most %d per node (a full mesh of more than %d nodes is not supported)",
			ep.Node, len(peers), MaxPeers, MaxPeers+1)
	}
	req := SetPeersRequest{Revision: revision, Peers: nonNil(peers.Strings())}
	var st Status
	if err := c.call(ctx, ep, http.MethodPut, PathPeers, req, &st); err != nil {
		return mesh.NodeStatus{}, fmt.Errorf("setting peers of %s: %w", ep.Node, err)
	}
	return ToNodeStatus(st), nil
}

// Leave makes the node leave the cluster at revision.
func (c *Client) Leave(ctx context.Context, ep mesh.Endpoint, revision uint64) (mesh.NodeStatus, error) {
	var st Status
	if err := c.call(ctx, ep, http.MethodPost, PathLeave, LeaveRequest{Revision: revision}, &st); err != nil {
		return mesh.NodeStatus{}, fmt.Errorf("leaving %s: %w", ep.Node, err)
	}
	return ToNodeStatus(st), nil
}

// Health checks the node's unauthenticated health endpoint.
func (c *Client) Health(ctx context.Context, ep mesh.Endpoint) error {
	if err := c.call(ctx, ep, http.MethodGet, PathHealth, nil, nil); err != nil {
		return fmt.Errorf("checking health of %s: %w", ep.Node, err)
	}
	return nil
}

// call sends one request with retries and decodes a 2xx body into out
// (when not nil).
func (c *Client) call(ctx context.Context, ep mesh.Endpoint, method, path string, in any, out *Status) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = b
	}
	target, err := endpointURL(ep.URL, path)
	if err != nil {
		return err
	}
	token := ""
	if path != PathHealth {
		if token = c.tokens(ep.Cluster); token == "" {
			return fmt.Errorf("no token for cluster %q", ep.Cluster)
		}
	}
	a := attempt{c: c, http: c.httpFor(ep.Cluster), method: method, url: target, token: token, body: body, out: out}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(retryInitialInterval),
		backoff.WithMaxInterval(retryMaxInterval),
		backoff.WithMaxElapsedTime(0),
	)
	notify := func(err error, wait time.Duration) {
		c.log.V(1).Info("retrying node call", "node", ep.Node, "path", path, "wait", wait, "error", err.Error())
	}
	var last error
	err = backoff.RetryNotify(func() error { last = a.do(ctx); return last },
		backoff.WithContext(backoff.WithMaxRetries(b, c.maxRetries), ctx), notify)
	if err != nil && last != nil && errors.Is(err, ctx.Err()) && !errors.Is(last, ctx.Err()) {
		// backoff returns only ctx.Err(); keep what the node answered.
		return fmt.Errorf("%w (last attempt: %w)", err, unwrapPermanent(last))
	}
	return err
}

// endpointURL joins an agent's base URL and a protocol path.
func endpointURL(base, path string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + path)
	if err != nil {
		return nil, fmt.Errorf("agent URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("agent URL %q: want http(s)://host:port", u.Redacted())
	}
	return u, nil
}

func unwrapPermanent(err error) error {
	if p, ok := errors.AsType[*backoff.PermanentError](err); ok {
		return p.Err
	}
	return err
}
