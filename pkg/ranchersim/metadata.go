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

// This file is rancher-metadata (rancher-api.md §5): versions, path walking
// with name/uuid array lookup, the text format by default and JSON with
// Accept: application/json, "self" chosen by the caller's IP, and the long
// poll ?wait=true&value=...&maxWait=....

// metadataVersions are the served API versions; latest is 2016-07-29.
var metadataVersions = []string{"2015-07-25", "2015-12-19", "2016-07-29", "latest"}

// Long-poll limits of rancher-metadata.
const (
	defaultMaxWait = 60 * time.Second
	capMaxWait     = 120 * time.Second
	pollWake       = 5 * time.Second
)

// MetadataHandler serves rancher-metadata; "self" is chosen by the IP of
// r.RemoteAddr.
func (s *Sim) MetadataHandler() http.Handler {
	return http.HandlerFunc(s.serveMetadata)
}

func (s *Sim) serveMetadata(w http.ResponseWriter, r *http.Request) {
	jsonOut := strings.Contains(r.Header.Get("Accept"), "application/json")
	if s.faults.metadataDown() {
		http.Error(w, "metadata down", http.StatusServiceUnavailable)
		return
	}
	parts := splitPath(r.URL.Path)
	if len(parts) == 0 {
		if jsonOut {
			respondMetadata(w, jsonOut, toAnyList(metadataVersions))
		} else {
			_, _ = w.Write([]byte(strings.Join(metadataVersions, "\n") + "\n"))
		}
		return
	}
	version := parts[0]
	if !contains(metadataVersions, version) {
		metadataNotFound(w, jsonOut)
		return
	}
	callerIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	q := r.URL.Query()
	lookup := func() (any, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		only := ""
		if len(parts) > 1 {
			only = parts[1]
		}
		return walk(s.metadataRootLocked(version, callerIP, only), parts[1:])
	}
	val, ok := lookup()
	if q.Get("wait") == "true" && q.Has("value") {
		val, ok = s.longPoll(r, lookup, val, ok, q)
	}
	if !ok {
		metadataNotFound(w, jsonOut)
		return
	}
	respondMetadata(w, jsonOut, val)
}

// longPoll waits until the answer differs from value, or maxWait passes.
func (s *Sim) longPoll(r *http.Request, lookup func() (any, bool), val any, ok bool, q url.Values) (any, bool) {
	maxWait := defaultMaxWait
	if n, err := strconv.Atoi(q.Get("maxWait")); err == nil && n > 0 {
		maxWait = min(time.Duration(n)*time.Second, capMaxWait)
	}
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	wake := time.NewTicker(pollWake)
	defer wake.Stop()
	for !ok || fmt.Sprint(val) == q.Get("value") {
		select {
		case <-s.waitChange():
		case <-wake.C:
		case <-deadline.C:
			return lookup()
		case <-r.Context().Done():
			return lookup()
		case <-s.ctx.Done():
			return lookup()
		}
		val, ok = lookup()
	}
	return val, ok
}

func splitPath(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		out = append(out, seg)
	}
	return out
}

// walk follows keys through maps (exact, then case-insensitive) and arrays
// (by index, or by an element's name or uuid).
func walk(v any, keys []string) (any, bool) {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[k]
			if !ok {
				for mk, mv := range x {
					if strings.EqualFold(mk, k) {
						next, ok = mv, true
						break
					}
				}
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
				if (exact && name == k) || (!exact && strings.EqualFold(name, k)) {
					return e, true
				}
			}
		}
	}
	return nil, false
}

func metadataNotFound(w http.ResponseWriter, jsonOut bool) {
	if jsonOut {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 404, "message": "Not found", "type": "error"})
		return
	}
	http.Error(w, "Not found", http.StatusNotFound)
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
// as they are, maps as sorted key lines ("key/" for nested values), arrays
// as "index=name" lines (or "index/" and "index").
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
			if m, ok := vv.(map[string]any); ok {
				if name, ok := m["name"].(string); ok {
					fmt.Fprintf(&b, "%d=%s\n", i, url.QueryEscape(name))
					continue
				}
			}
			if isContainerValue(vv) {
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
