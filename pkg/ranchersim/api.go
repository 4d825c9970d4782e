package ranchersim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// This file serves the v2-beta API (rancher-api.md §1-3, §7): roots with
// X-API-Schemas, basic auth, schemas, collections, by-id resources, links,
// PUT, DELETE, POST create and actions.

// route is a parsed API path.
type route struct {
	parts []string // after /v2-beta and an optional /projects/<id> scope
	ok    bool     // a /v1 or /v2-beta path
}

// parseRoute splits an API path. "/v2-beta/projects/1a5/containers/1i3/"
// gives [containers 1i3]; "/v2-beta/projects/1a5" gives [projects 1a5].
// A scope for another project gives ok with parts ["projects", "<id>", ...]
// so that it is answered 404.
func parseRoute(path, projectID string) route {
	p := strings.Trim(path, "/")
	var rest string
	switch {
	case p == "v2-beta" || p == "v1":
		return route{ok: true}
	case strings.HasPrefix(p, "v2-beta/"):
		rest = p[len("v2-beta/"):]
	case strings.HasPrefix(p, "v1/"):
		rest = p[len("v1/"):]
	default:
		return route{}
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 2 && parts[0] == "projects" && parts[1] == projectID {
		parts = parts[2:]
	}
	return route{parts: parts, ok: true}
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

// serveAPI is the entry point of every API request.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r.URL.Path, s.projectID)
	s.countRequest(rt.pattern(r.Method, r.URL.Query()))
	if !rt.ok {
		writeError(w, http.StatusNotFound, "NotFound", "not found")
		return
	}
	if len(rt.parts) == 1 && rt.parts[0] == "subscribe" {
		s.serveSubscribe(w, r)
		return
	}
	if s.faults.interceptAPI(w, r) {
		return
	}
	u := s.urlsFor(baseURL(r))
	// UNCONFIRMED: Cattle points the unscoped root at /v2-beta/schemas;
	// every response here points at the project's schemas, which is what
	// a client built from any of these URLs needs.
	w.Header().Set("X-API-Schemas", u.project+"/schemas")
	if !s.authorized(r) {
		writeUnauthorized(w)
		return
	}
	s.route(w, r, u, rt.parts)
}

// route dispatches by path shape.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, u urls, parts []string) {
	switch {
	case len(parts) == 0:
		s.serveRoot(w, r, u)
	case parts[0] == "schemas":
		s.serveSchemas(w, r, u, parts[1:])
	case parts[0] == "projects" && len(parts) == 2:
		s.serveResource(w, r, u, typeProject, parts[1])
	case len(parts) > 2 && parts[0] == "projects":
		writeError(w, http.StatusNotFound, "NotFound", "project "+parts[1]+" not found")
	case len(parts) == 1:
		s.serveCollection(w, r, u, parts[0])
	case len(parts) == 2:
		s.serveResource(w, r, u, typeOfPlural(parts[0]), parts[1])
	case len(parts) == 3:
		s.serveLink(w, r, u, typeOfPlural(parts[0]), parts[1], parts[2])
	default:
		writeError(w, http.StatusNotFound, "NotFound", "not found")
	}
}

// typeOfPlural maps a collection name to the type it holds.
func typeOfPlural(p string) string {
	switch p {
	case "projects":
		return typeProject
	case "stacks":
		return typeStack
	case "services":
		return typeService
	case "containers":
		return typeContainer
	case "instances":
		return "instance"
	case "hosts":
		return typeHost
	}
	return ""
}

func (s *Sim) serveRoot(w http.ResponseWriter, r *http.Request, u urls) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" not allowed")
		return
	}
	links := map[string]any{"self": u.base + "/v2-beta", "schemas": u.project + "/schemas"}
	for _, d := range schemaDefs {
		if d.listable {
			links[lower(d.plural)] = d.render(u)["links"].(map[string]any)["collection"]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "v2-beta", "type": "apiVersion",
		"links": links, "actions": map[string]any{}})
}

func (s *Sim) serveSchemas(w http.ResponseWriter, r *http.Request, u urls, rest []string) {
	if len(rest) == 1 {
		for i := range schemaDefs {
			if lower(schemaDefs[i].id) == lower(rest[0]) {
				writeJSON(w, http.StatusOK, schemaDefs[i].render(u))
				return
			}
		}
		writeError(w, http.StatusNotFound, "NotFound", "schema "+rest[0]+" not found")
		return
	}
	data := make([]any, 0, len(schemaDefs))
	for i := range schemaDefs {
		data = append(data, schemaDefs[i].render(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "collection", "resourceType": "schema", "links": map[string]any{"self": u.project + "/schemas"},
		"createTypes": map[string]any{}, "actions": map[string]any{}, "data": data,
		"pagination": nil, "sort": nil, "filters": map[string]any{}, "sortLinks": map[string]any{},
	})
}

// decodeBody reads an optional JSON object body.
func decodeBody(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, invalidInput("InvalidBodyContent", "body is not a JSON object")
	}
	return out, nil
}
