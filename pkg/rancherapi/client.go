package rancherapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	client "github.com/rancher/go-rancher/v2"
)

// Schema ids the client needs, with what each is used for.
const (
	schemaStack     = client.STACK_TYPE     // resolve stacks by name
	schemaService   = client.SERVICE_TYPE   // resolve services, instanceIds
	schemaContainer = client.CONTAINER_TYPE // list and read containers
	schemaSubscribe = client.SUBSCRIBE_TYPE // the event stream URL
	schemaProject   = client.PROJECT_TYPE   // find the project when the URL has none
)

// maxPages bounds pagination: a server that keeps sending "next" links
// (a loop, or a broken marker) makes the answer partial, not endless.
const maxPages = 1000

// Client observes the configured clusters through the Rancher API, from a
// cache fed by lists and the event stream (cache.go). It is safe for
// concurrent use. Build it with New.
type Client struct {
	opts      Options
	url       apiURL
	access    string
	secret    string
	rc        *client.RancherClient
	http      *http.Client // list pages (pages.go); go-rancher makes its own
	subscribe string       // websocket URL of the event stream

	flights flightQueue
	cache   *cache

	mu      sync.Mutex // guards what follows; taken after cache.mu
	refs    refSet
	last    *answer               // the last snapshot answered
	gens    map[string]generation // by cluster name
	lastGen uint64
	scope   scope // what the watch treats as relevant

	watching   atomic.Bool
	connected  atomic.Bool
	reconnects atomic.Int64
}

// New builds a Client and connects: it normalises the URL, finds the
// project when the URL names none, and builds the go-rancher client from
// the project's schemas URL as the rancher CLI does (one GET). A rejected
// key, a URL that is not a Rancher API or an ambiguous project is a
// terminal error; an unreachable or failing server a transient one.
func New(ctx context.Context, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	u, err := parseAPIURL(opts.URL)
	if err != nil {
		return nil, terminal(fmt.Errorf("CATTLE_URL (or RANCHER_URL): %w", err))
	}
	c := &Client{opts: opts, url: u, access: opts.AccessKey, secret: opts.SecretKey, cache: newCache(),
		http: &http.Client{Timeout: opts.Timeout}, refs: refSet{list: slices.Clone(opts.Clusters)}}
	c.scope.stackNames = stackNames(c.refs.list)
	if c.access == "" && c.secret == "" {
		c.access, c.secret = u.User, u.Password
	}
	if err := c.connect(ctx); err != nil {
		return nil, scrub(err, c.secrets()...)
	}
	return c, nil
}

// secrets are the values no error may show: the secret key and the
// password of the URL's user info.
func (c *Client) secrets() []string { return []string{c.secret, c.url.Password} }

// connect finds the project if needed, builds the project client and
// checks that the schemas hold what the client uses.
func (c *Client) connect(ctx context.Context) error {
	p := &pass{}
	if c.url.Project == "" {
		id, err := c.findProject(ctx, p)
		if err != nil {
			return err
		}
		c.url.Project = id
	}
	rc, err := c.newRancherClient(ctx, p, c.url.SchemasURL())
	if err != nil {
		return err
	}
	for _, id := range []string{schemaStack, schemaService, schemaContainer, schemaSubscribe} {
		s, ok := rc.GetTypes()[id]
		if !ok || s.Links[client.COLLECTION] == "" {
			return terminal(fmt.Errorf("schemas at %s lack a listable %q type: check that CATTLE_URL (or RANCHER_URL) points at a Rancher 1.6 environment (/v2-beta/projects/<id>)", c.url.SchemasURL(), id))
		}
	}
	ws, err := wsURL(rc.GetTypes()[schemaSubscribe].Links[client.COLLECTION])
	if err != nil {
		return terminal(err)
	}
	c.rc, c.subscribe = rc, ws
	return nil
}

// newRancherClient runs go-rancher's constructor (a GET of the schemas URL).
func (c *Client) newRancherClient(ctx context.Context, p *pass, schemasURL string) (*client.RancherClient, error) {
	rc, err := call(ctx, c, p, "GET", schemasURL, func() (*client.RancherClient, error) {
		return client.NewRancherClient(&client.ClientOpts{Url: schemasURL, AccessKey: c.access, SecretKey: c.secret, Timeout: c.opts.Timeout})
	})
	if err != nil && strings.Contains(err.Error(), "Failed to find schema") {
		return nil, terminal(fmt.Errorf("connecting: %s answered without an X-API-Schemas header, so it is not a Rancher API: check CATTLE_URL (or RANCHER_URL), e.g. http://rancher:8080/v2-beta/projects/1a5", schemasURL))
	}
	if err != nil {
		return nil, classify("connecting", schemasURL, err)
	}
	return rc, nil
}

// findProject returns the one project the key can see.
func (c *Client) findProject(ctx context.Context, p *pass) (string, error) {
	rc, err := c.newRancherClient(ctx, p, c.url.SchemasURL())
	if err != nil {
		return "", err
	}
	if _, ok := rc.GetTypes()[schemaProject]; !ok {
		return "", terminal(fmt.Errorf("finding the environment: schemas at %s have no project type: put /v2-beta/projects/<id> in CATTLE_URL (or RANCHER_URL)", c.url.SchemasURL()))
	}
	var ids []string
	err = listOn(ctx, c, rc, p, "listing environments", schemaProject, c.listFilters(nil), func(pr project) {
		if !isGone(pr.State, pr.Removed) {
			ids = append(ids, pr.ID+" ("+pr.Name+")")
		}
	})
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 1:
		return strings.Fields(ids[0])[0], nil
	case 0:
		return "", terminal(fmt.Errorf("finding the environment: the API key sees no environment at %s: %s", c.url.Root, credentialsHint))
	default:
		return "", terminal(fmt.Errorf("finding the environment: the API key sees %d environments at %s (%s): put /v2-beta/projects/<id> in CATTLE_URL (or RANCHER_URL)", len(ids), c.url.Root, strings.Join(ids, ", ")))
	}
}

// pass counts the requests of one snapshot or lookup.
type pass struct {
	requests int
}

// call runs one go-rancher request bounded by ctx, counts it and reports
// it to OnRequest. go-rancher takes no context: when ctx ends first, call
// returns at once and the request ends by itself within Options.Timeout.
func call[R any](ctx context.Context, c *Client, p *pass, method, rawURL string, fn func() (R, error)) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		r   R
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := fn()
		done <- result{r, err}
	}()
	p.requests++
	select {
	case res := <-done:
		c.opts.OnRequest(method, collectionPath(rawURL), statusOf(res.err))
		return res.r, res.err
	case <-ctx.Done():
		c.opts.OnRequest(method, collectionPath(rawURL), 0)
		return zero, ctx.Err()
	}
}

// statusOf returns the HTTP status behind a go-rancher result: 200 on
// success, the code of an API error, 0 for anything else.
func statusOf(err error) int {
	if err == nil {
		return 200
	}
	var apiErr *client.ApiError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// display returns a URL for messages: no user info, no query.
func (c *Client) display(raw string) string {
	s := redactURL(raw)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

// StreamConnected reports whether the event stream is connected now.
func (c *Client) StreamConnected() bool { return c.connected.Load() }

// Reconnects counts how often the event stream was lost (or could not be
// opened) and a new connection was attempted.
func (c *Client) Reconnects() int64 { return c.reconnects.Load() }
