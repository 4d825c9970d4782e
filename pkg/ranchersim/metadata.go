package ranchersim

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is rancher-metadata's HTTP side (rancher-api.md §5, §9.7;
// rancher-metadata main.go): GET and HEAD only; / lists the versions;
// /<version>[/<key>...] walks the answers, arrays by index or by an
// element's name or uuid, map keys exactly then case-insensitively; the
// text format by default, JSON with Accept: application/json; "self"
// chosen by the caller's IP (X-Forwarded-For with XFF); the long poll
// ?wait=true&value=<old>[&maxWait=<s>] on any key. Answers come from the
// current reload's snapshot (metadata_reload.go).

// Long-poll limits of rancher-metadata.
const (
	defaultMaxWait = 60 * time.Second
	capMaxWait     = 120 * time.Second
	pollWake       = 5 * time.Second
)

// MetadataHandler serves rancher-metadata; "self" is chosen by the IP of
// r.RemoteAddr, or by X-Forwarded-For when MetadataOptions.XFF is set.
func (s *Sim) MetadataHandler() http.Handler {
	return http.HandlerFunc(s.serveMetadata)
}

func (s *Sim) serveMetadata(w http.ResponseWriter, r *http.Request) {
	jsonOut := wantsJSON(r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		metadataError(w, jsonOut, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.faults.metadataDown() {
		http.Error(w, "metadata down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	parts, err := metadataPath(r.URL.EscapedPath())
	if err != nil {
		metadataError(w, jsonOut, err.Error(), http.StatusBadRequest)
		return
	}
	if len(parts) == 0 {
		root := map[string]any{}
		for _, v := range metadataVersions {
			root[v] = "/" + v
		}
		respondMetadata(w, jsonOut, root)
		return
	}
	version := parts[0]
	if !contains(metadataVersions, version) {
		metadataError(w, jsonOut, "Invalid version", http.StatusNotFound)
		return
	}
	caller := s.meta.callerIP(r)
	q := r.URL.Query()
	lookup := func() (any, bool, <-chan struct{}) {
		snap, reloaded := s.meta.current()
		if len(parts) == 2 && strings.EqualFold(parts[1], "version") {
			return snap.version, true, reloaded // no need to render the answers
		}
		v, ok := walk(snap.tree(version).answersFor(caller), parts[1:])
		return v, ok, reloaded
	}
	var val any
	var ok bool
	if q.Get("wait") == "true" && q.Has("value") {
		val, ok = s.longPoll(r, lookup, q)
	} else {
		val, ok, _ = lookup()
	}
	if !ok {
		metadataError(w, jsonOut, "Not found", http.StatusNotFound)
		return
	}
	respondMetadata(w, jsonOut, val)
}

// callerIP is rancher-metadata's requestIp: X-Forwarded-For as it is when
// XFF is on and the header is set, else the connection's address.
func (m *metadataServer) callerIP(r *http.Request) string {
	if m.xff {
		if xff := strings.TrimSpace(r.Header.Get("X-Forwarded-For")); xff != "" {
			return xff
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return ip
}

// longPoll answers once the value differs from value (as fmt.Sprint
// prints it), or after maxWait seconds (default 60, at most 120; a
// negative value answers at once) with what there is. It re-reads at
// every reload and every 5 s.
func (s *Sim) longPoll(r *http.Request, lookup func() (any, bool, <-chan struct{}), q url.Values) (any, bool) {
	maxWait := defaultMaxWait
	if n, err := strconv.Atoi(q.Get("maxWait")); err == nil && n != 0 {
		maxWait = min(time.Duration(n)*time.Second, capMaxWait)
	}
	start := time.Now()
	wake := time.NewTicker(pollWake)
	defer wake.Stop()
	for {
		val, ok, reloaded := lookup()
		left := maxWait - time.Since(start)
		if left < 0 || (ok && fmt.Sprint(val) != q.Get("value")) {
			return val, ok
		}
		deadline := time.NewTimer(left)
		select {
		case <-reloaded:
		case <-wake.C:
		case <-deadline.C:
		case <-r.Context().Done():
			deadline.Stop()
			return val, ok
		case <-s.ctx.Done():
			deadline.Stop()
			return val, ok
		}
		deadline.Stop()
	}
}

// metadataPath splits the escaped path after the version into unescaped
// keys, as rancher-metadata does (trailing slashes ignored,
// query-unescaping: "+" is a space).
func metadataPath(escaped string) ([]string, error) {
	p := strings.TrimRight(strings.TrimPrefix(escaped, "/"), "/")
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		u, err := url.QueryUnescape(seg)
		if err != nil {
			return nil, fmt.Errorf("invalid escape in path segment %d", i+1)
		}
		parts[i] = u
	}
	return parts, nil
}

// walk follows keys through maps (exact, then case-insensitive) and arrays
// (by index, or by an element's name or uuid).
func walk(v any, keys []string) (any, bool) {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[k]
			if !ok {
				next, ok = foldKey(x, k)
			}
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			next, ok := arrayElem(x, k)
			if !ok {
				return nil, false
			}
			v = next
		default:
			return nil, false
		}
	}
	return v, true
}

// foldKey finds a key case-insensitively; the smallest such key wins, so
// that the answer does not depend on map order.
func foldKey(m map[string]any, k string) (any, bool) {
	best, found := "", false
	for mk := range m {
		if strings.EqualFold(mk, k) && (!found || mk < best) {
			best, found = mk, true
		}
	}
	if !found {
		return nil, false
	}
	return m[best], true
}

func arrayElem(a []any, k string) (any, bool) {
	if i, err := strconv.Atoi(k); err == nil {
		if i >= 0 && i < len(a) {
			return a[i], true
		}
		return nil, false
	}
	for _, exact := range []bool{true, false} {
		for _, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			for _, f := range []string{"name", "uuid"} {
				name, _ := m[f].(string)
				if name != "" && ((exact && name == k) || (!exact && strings.EqualFold(name, k))) {
					return e, true
				}
			}
		}
	}
	return nil, false
}

// wantsJSON is rancher-metadata's content negotiation reduced to what
// matters: JSON when the Accept header asks for it.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// metadataError answers rancher-metadata's error: the message as text, or
// {"code","message","type":"error"} in JSON.
func metadataError(w http.ResponseWriter, jsonOut bool, msg string, status int) {
	if !jsonOut {
		http.Error(w, msg, status)
		return
	}
	body, _ := json.Marshal(map[string]any{"code": status, "message": msg, "type": "error"})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// respondMetadata writes JSON or rancher-metadata's text format.
func respondMetadata(w http.ResponseWriter, jsonOut bool, v any) {
	if jsonOut {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(metadataText(v)))
}

// metadataText renders a value as rancher-metadata's text format: scalars
// as they are (null as nothing), maps as sorted key lines ("key/" for
// nested values), arrays as "index=name" lines for objects with a name
// (or uuid), else "index/" or "index".
func metadataText(v any) string {
	var b strings.Builder
	switch x := v.(type) {
	case nil:
	case string:
		b.WriteString(x)
	case map[string]any:
		lines := make([]string, 0, len(x))
		for k, vv := range x {
			if isContainerValue(vv) {
				lines = append(lines, url.QueryEscape(k)+"/\n")
			} else {
				lines = append(lines, url.QueryEscape(k)+"\n")
			}
		}
		sort.Strings(lines)
		b.WriteString(strings.Join(lines, ""))
	case []any:
		for i, vv := range x {
			if name, ok := elemName(vv); ok {
				fmt.Fprintf(&b, "%d=%s\n", i, url.QueryEscape(name))
			} else if isContainerValue(vv) {
				fmt.Fprintf(&b, "%d/\n", i)
			} else {
				fmt.Fprintf(&b, "%d\n", i)
			}
		}
	default:
		fmt.Fprint(&b, x)
	}
	return b.String()
}

// elemName is the name (or else uuid) of an array element that is an
// object with one.
func elemName(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	for _, k := range []string{"name", "uuid"} {
		if s, ok := m[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

func isContainerValue(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
