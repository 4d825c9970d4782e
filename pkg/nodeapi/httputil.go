package nodeapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/go-logr/logr"
)

// authorized reports whether r carries "Authorization: Bearer <token>"
// whose hash is want. Hashing first makes the compare constant-time in the
// token's length too.
func authorized(r *http.Request, want [sha256.Size]byte) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	got := sha256.Sum256([]byte(token))
	return token != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// allowMethod answers 405 unless r's method is one of methods.
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, &Error{Code: CodeMethodNotAllowed,
		Message: fmt.Sprintf("%s is not allowed on %s; use %s", quote(r.Method), r.URL.Path, strings.Join(methods, " or "))})
	return false
}

// readBody reads r's body, refusing one over MaxBodyBytes: from its
// Content-Length before reading, or while reading.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	tooLarge := &Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)}
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, badRequest("reading request body: " + err.Error())
	}
	return b, nil
}

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(Error{Code: CodeInternal, Message: "encoding response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", MediaType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes e with the status that goes with its code.
func writeError(w http.ResponseWriter, e *Error) {
	if e.Code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="drover"`)
	}
	writeJSON(w, statusOf(e.Code), e)
}

// recoverer turns a panic in next into a 500 internal answer, so that no
// input can take the agent down.
func recoverer(log logr.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			log.Error(fmt.Errorf("panic: %v", v), "request panicked", "path", r.URL.Path)
			writeError(w, &Error{Code: CodeInternal, Message: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}
