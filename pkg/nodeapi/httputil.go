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

// Authorized reports whether r carries "Authorization: Bearer <token>"
// whose hash is want. Hashing first makes the compare constant-time in the
// token's length too.
func Authorized(r *http.Request, want [sha256.Size]byte) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	got := sha256.Sum256([]byte(token))
	return token != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// AllowMethod answers 405 unless r's method is one of methods.
func AllowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	WriteError(w, &Error{Code: CodeMethodNotAllowed,
		Message: fmt.Sprintf("%s is not allowed on %s; use %s", quote(r.Method), r.URL.Path, strings.Join(methods, " or "))})
	return false
}

// ReadBody reads r's body, refusing one over MaxBodyBytes: from its
// Content-Length before reading, or while reading.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
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

// WriteJSON writes v as the JSON body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
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

// WriteError writes e with the status that goes with its code.
func WriteError(w http.ResponseWriter, e *Error) {
	if e.Code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="drover"`)
	}
	WriteJSON(w, statusOf(e.Code), e)
}

// Recoverer turns a panic in next into a 500 internal answer, so that no
// input can take the agent down.
func Recoverer(log logr.Logger, next http.Handler) http.Handler {
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
			WriteError(w, &Error{Code: CodeInternal, Message: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}
