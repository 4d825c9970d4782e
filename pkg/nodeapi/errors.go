package nodeapi

import (
	"errors"
	"fmt"
	"net/http"
)

// APIError is a non-2xx answer from an agent or from the controller's
// announce endpoint. It never holds the token.
type APIError struct {
	// StatusCode is the HTTP status, e.g. 409.
	StatusCode int
	// Code is the Error.Code of the body, e.g. "stale_revision"; empty when
	// the body was not a protocol error.
	Code string
	// Message is the Error.Message of the body.
	Message string
	// URL is the request URL without credentials.
	URL string
}

// Error implements error.
func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = "no error code"
	}
	if e.Message == "" {
		return fmt.Sprintf("%s: status %d (%s)", e.URL, e.StatusCode, code)
	}
	return fmt.Sprintf("%s: status %d (%s): %s", e.URL, e.StatusCode, code, e.Message)
}

// Temporary reports whether retrying the same request may succeed: 5xx,
// except an exhausted atom budget, which stays exhausted.
func (e *APIError) Temporary() bool {
	return e.StatusCode >= 500 && e.Code != CodeAtomBudgetExhausted
}

// IsStaleRevision reports whether err is a 409 stale_revision answer: the
// node holds a newer revision, or a different set at the same revision.
func IsStaleRevision(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == CodeStaleRevision || e.Code == "" && e.StatusCode == http.StatusConflict)
}

// IsUnauthorized reports whether err is a 401 answer: the token is wrong.
func IsUnauthorized(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == CodeUnauthorized || e.StatusCode == http.StatusUnauthorized)
}

// statusOf is the HTTP status that goes with each error code.
func statusOf(code string) int {
	switch code {
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeBadRequest, CodeBadNodeName, CodeTooManyPeers:
		return http.StatusBadRequest
	case CodeURITooLong:
		return http.StatusRequestURITooLong
	case CodeHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	case CodeAtomBudgetExhausted:
		return http.StatusServiceUnavailable
	case CodeStaleRevision:
		return http.StatusConflict
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}
