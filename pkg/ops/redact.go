package ops

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// redacted replaces a secret in every response.
const redacted = "REDACTED"

// redact buffers each response of next and replaces every secret, and the
// user information of every URL, before sending it. Secrets are matched
// longest first, so one that contains another is removed whole.
//
// more, if set, gives secrets known only later (the tokens of a reloaded
// config); it is called for each response.
func redact(next http.Handler, secrets []string, more func() []string) http.Handler {
	fixed := patterns(secrets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		olds := fixed
		if more != nil {
			olds = patterns(append(slices.Clone(secrets), more()...))
		}
		rec := &bufferedWriter{header: w.Header(), code: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.buf.Bytes()
		for _, old := range olds {
			if bytes.Contains(body, old) { // ReplaceAll copies even without a match
				body = bytes.ReplaceAll(body, old, []byte(redacted))
			}
		}
		body = stripUserinfo(body)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.code)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// patterns are the byte strings that redact replaces for secrets, longest
// first.
func patterns(secrets []string) [][]byte {
	var olds [][]byte
	for _, s := range secrets {
		if s == "" {
			continue
		}
		olds = append(olds, []byte(s))
		// Its form inside a JSON string, when that differs (quotes,
		// backslashes, <, >, & are escaped).
		if enc, err := json.Marshal(s); err == nil && string(enc[1:len(enc)-1]) != s {
			olds = append(olds, enc[1:len(enc)-1])
		}
	}
	slices.SortFunc(olds, func(a, b []byte) int { return len(b) - len(a) })
	return olds
}

// bufferedWriter holds a response until the redactor has seen it. Headers
// go to the real writer's map, which is sent only at WriteHeader there.
type bufferedWriter struct {
	header http.Header
	code   int
	wrote  bool
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.buf.Write(p)
}

// stripUserinfo replaces the user information of every URL in b, e.g.
// "http://key:secret@rancher:8080/" becomes "http://REDACTED@rancher:8080/".
// b is returned as it is when it holds none.
func stripUserinfo(b []byte) []byte {
	var out []byte // nil until the first change
	done := 0      // b[:done] is already in out
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("://"))
		if j < 0 {
			break
		}
		i += j + 3
		end := bytes.IndexAny(b[i:], "/?#@ \t\r\n\"'<>\\`")
		if end > 0 && b[i+end] == '@' {
			out = append(append(out, b[done:i]...), redacted...)
			done = i + end
			i = done
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}
