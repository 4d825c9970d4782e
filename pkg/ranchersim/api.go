package ranchersim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file serves the v2-beta API (rancher-api.md §1-3, §7): roots with
// X-API-Schemas, basic auth, schemas, collections, by-id resources, links,
// PUT, DELETE, POST create and actions.

// route is a parsed API path.
type route struct {
	version string   // apiV2 or apiV1
	parts   []string // after /<version> and an optional /projects/<id> scope
	ok      bool     // a /v1 or /v2-beta path
}

// parseRoute splits an API path. "/v2-beta/projects/1a5/containers/1i3/"
// gives [containers 1i3]; "/v2-beta/projects/1a5" gives [projects 1a5].
// A scope for another project gives ok with parts ["projects", "<id>", ...]
// so that it is answered 404.
func parseRoute(path, projectID string) route {
	p := strings.Trim(path, "/")
	version, rest, _ := strings.Cut(p, "/")
	if version != apiV2 && version != apiV1 {
		return route{}
	}
	rt := route{version: version, ok: true}
	if rest == "" {
		return rt
	}
	rt.parts = strings.Split(rest, "/")
	if len(rt.parts) > 2 && rt.parts[0] == "projects" && rt.parts[1] == projectID {
		rt.parts = rt.parts[2:]
	}
	return rt
}

// pattern names the request for Requests(): ids become {id}, and actions
// carry their name, e.g. "POST /services/{id}?action=upgrade".
func (rt route) pattern(method string, q url.Values) string {
	parts := append([]string{}, rt.parts...)
	if len(parts) >= 2 && parts[0] != "schemas" {
		parts[1] = "{id}"
	}
	p := method + " /" + strings.Join(parts, "/")
	if a := q.Get("action"); a != "" && method == http.MethodPost {
		p += "?action=" + a
	}
	return p
}

// baseURL is the scheme and host the client used, for links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authorized checks HTTP basic auth against the keys.
func (s *Sim) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.AccessKey))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.SecretKey))
	return u&p == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if aw, ok := w.(*apiWriter); ok {
		aw.wait(objectCount(v))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes Cattle's error body (ErrorImpl).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"id": newUUID(), "type": "error", "links": map[string]any{}, "actions": map[string]any{},
		"status": status, "code": code, "message": msg, "detail": nil,
	})
}

func writeErr(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeError(w, ae.status, ae.code, ae.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "ServerError", err.Error())
}

// writeUnauthorized answers a failed basic auth as Cattle does.
// UNCONFIRMED: the exact realm text of WWW-Authenticate.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Enter API access key and secret key as username and password"`)
	writeError(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
}

// apiWriter delays an API answer by the latency model before it is
// written (Options.Latency).
type apiWriter struct {
	http.ResponseWriter
	ctx     context.Context
	done    <-chan struct{} // the Sim closes
	latency Latency
	waited  bool
}

// wait sleeps the answer's latency once, or until the client or the Sim
// gives up.
func (aw *apiWriter) wait(objects int) {
	if aw.waited {
		return
	}
	aw.waited = true
	d := aw.latency.of(objects)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-aw.ctx.Done():
	case <-aw.done:
	}
}

// objectCount is the number of objects an answer carries: the data of a
// collection, one resource, or none for an error.
func objectCount(v any) int {
	m, ok := v.(map[string]any)
	if !ok {
		return 1
	}
	switch m["type"] {
	case "error":
		return 0
	case "collection":
		switch d := m["data"].(type) {
		case []map[string]any:
			return len(d)
		case []any:
			return len(d)
		}
		return 0
	}
	return 1
}

// serveAPI is the entry point of every API request.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r.URL.Path, s.projectID)
	s.countRequest(rt.pattern(r.Method, r.URL.Query()))
	if len(rt.parts) == 1 && lower(rt.parts[0]) == "subscribe" {
		s.serveSubscribe(w, r, rt.version)
		return
	}
	if l := s.faults.apiLatency(); l.Fixed > 0 || l.PerObject > 0 {
		w = &apiWriter{ResponseWriter: w, ctx: r.Context(), done: s.ctx.Done(), latency: l}
	}
	if !rt.ok {
		writeError(w, http.StatusNotFound, "NotFound", "not found")
		return
	}
	if s.faults.interceptAPI(w, r) {
		return
	}
	u := s.urlsFor(baseURL(r), rt.version)
	// UNCONFIRMED: Cattle points the unscoped root at /v2-beta/schemas;
	// every response here points at the project's schemas, which is what
	// a client built from any of these URLs needs.
	w.Header().Set("X-API-Schemas", u.schemas())
	if !s.authorized(r) {
		writeUnauthorized(w)
		return
	}
	if err := s.route(w, r, u, rt.parts); err != nil {
		writeErr(w, err)
	}
}

// route dispatches by path shape: the root, schemas, the project, and
// <type>[/<id>[/<link>]] for every schema, found by id or plural name in
// any case (SchemaFactoryImpl keys both).
func (s *Sim) route(w http.ResponseWriter, r *http.Request, u urls, parts []string) error {
	switch {
	case len(parts) == 0:
		return s.serveRoot(w, r, u)
	case lower(parts[0]) == "schemas":
		return s.serveSchemas(w, r, u, parts[1:])
	case len(parts) > 2 && parts[0] == "projects":
		return notFound("project " + parts[1])
	}
	d := u.set.lookup(parts[0])
	if d == nil {
		return notFound("type " + parts[0])
	}
	switch len(parts) {
	case 1:
		return s.serveCollection(w, r, u, d)
	case 2:
		return s.serveResource(w, r, u, d, parts[1])
	case 3:
		return s.serveLink(w, r, u, d, parts[1], parts[2])
	}
	return notFound("path " + r.URL.Path)
}

func (s *Sim) serveRoot(w http.ResponseWriter, r *http.Request, u urls) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(r.Method, "apiVersion")
	}
	links := map[string]any{"self": u.base + "/" + u.version, "schemas": u.schemas()}
	for _, d := range u.set.defs {
		if d.list {
			links[lower(d.plural)] = u.collectionOf(d)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.version, "type": "apiVersion",
		"links": links, "actions": map[string]any{}})
	return nil
}

// serveSchemas answers /schemas and /schemas/<id or plural>, in any case.
func (s *Sim) serveSchemas(w http.ResponseWriter, r *http.Request, u urls, rest []string) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(r.Method, "schema")
	}
	switch len(rest) {
	case 0:
	case 1:
		if d := u.set.lookup(rest[0]); d != nil {
			writeJSON(w, http.StatusOK, d.render(u))
			return nil
		}
		return notFound("schema " + rest[0])
	default:
		return notFound("path " + r.URL.Path)
	}
	data := make([]any, 0, len(u.set.defs))
	for _, d := range u.set.defs {
		data = append(data, d.render(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "collection", "resourceType": "schema", "links": map[string]any{"self": u.schemas()},
		"createTypes": map[string]any{}, "actions": map[string]any{}, "data": data,
		"pagination": nil, "sort": nil, "filters": map[string]any{}, "sortLinks": map[string]any{},
	})
	return nil
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// decodeBody reads an optional JSON object body of at most maxBody bytes.
func decodeBody(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidBodyContent", msg: "reading the body: " + err.Error()}
	}
	if len(body) > maxBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "MaxLimitExceeded",
			msg: "the request body is over 1 MiB"}
	}
	out := map[string]any{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, invalidInput("InvalidBodyContent", "the body is not a JSON object")
	}
	return out, nil
}
