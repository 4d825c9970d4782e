package rancherapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	client "github.com/rancher/go-rancher/v2"
)

// terminalError marks an error that retrying cannot fix: a rejected key, a
// URL that is not a Rancher API, a configured stack or service that does
// not exist. The caller must stop or wait for a config change.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// transientError marks an error that may go away by itself: 5xx, timeouts,
// refused connections, an answer that was cut short or inconsistent.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func terminal(err error) error  { return &terminalError{err} }
func transient(err error) error { return &transientError{err} }

// IsTerminal reports whether err is one that retrying cannot fix: 401 or
// 403, a URL that is not a Rancher API, a configured stack or service that
// does not exist.
func IsTerminal(err error) bool {
	var t *terminalError
	return errors.As(err, &t)
}

// IsTransient reports whether err may go away on a later attempt: 5xx,
// timeouts, connection errors, partial or inconsistent answers.
func IsTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// credentialsHint is the one place that names the variables to set.
const credentialsHint = "check CATTLE_ACCESS_KEY and CATTLE_SECRET_KEY " +
	"(or RANCHER_ACCESS_KEY and RANCHER_SECRET_KEY): the key must be an API key of this " +
	"Rancher environment, and CATTLE_URL (or RANCHER_URL) must point at that environment"

// classify wraps err from a request to url (already redacted) in the
// terminal or transient class, with a message that says what to check.
// what is a short lowercase phrase such as "listing containers".
func classify(what, url string, err error) error {
	if err == nil {
		return nil
	}
	if IsTerminal(err) || IsTransient(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var apiErr *client.ApiError
	if errors.As(err, &apiErr) {
		return classifyStatus(what, url, apiErr.StatusCode, apiErr.Status)
	}
	if tlsErr := classifyTLS(what, url, err); tlsErr != nil {
		return tlsErr
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return transient(fmt.Errorf("%s: rancher at %s did not answer in time: %w", what, url, err))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || strings.Contains(err.Error(), "connection") || strings.Contains(err.Error(), "EOF") {
		return transient(fmt.Errorf("%s: cannot reach rancher at %s (check the URL and that Rancher is up): %w", what, url, err))
	}
	// A body that does not decode, or an unexpected client error: most often
	// a proxy or a server cut short; retrying is the safe choice.
	return transient(fmt.Errorf("%s: unexpected answer from rancher at %s: %w", what, url, err))
}

// tlsHint is the one place that says how to make a certificate trusted.
const tlsHint = "give the CA bundle that signed Rancher's certificate with --rancher-ca-file (or RANCHER_CA_FILE), " +
	"or add it to the system pool (SSL_CERT_FILE / SSL_CERT_DIR)"

// classifyTLS returns a terminal error when err is a TLS failure that
// retrying cannot fix: a certificate this client does not trust, one for
// another name, or a server that does not speak TLS. Nil otherwise.
func classifyTLS(what, url string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return terminal(fmt.Errorf("%s: rancher at %s presented a certificate signed by an authority this controller does not trust: %s", what, url, tlsHint))
	case errors.As(err, &hostname):
		return terminal(fmt.Errorf("%s: rancher at %s presented a certificate for another name (%s): use the name the certificate was issued for in CATTLE_URL (or RANCHER_URL)", what, url, hostname.Error()))
	case errors.As(err, &invalid):
		return terminal(fmt.Errorf("%s: rancher at %s presented an invalid certificate (%s): renew it, or check this host's clock", what, url, invalid.Error()))
	case errors.As(err, &verify):
		return terminal(fmt.Errorf("%s: rancher at %s presented a certificate that does not verify (%w): %s", what, url, verify.Err, tlsHint))
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return terminal(fmt.Errorf("%s: rancher at %s does not speak TLS: use http:// in CATTLE_URL (or RANCHER_URL), or point it at Rancher's HTTPS port", what, url))
	}
	return nil
}

// classifyStatus turns an HTTP status into a classified error.
func classifyStatus(what, url string, code int, status string) error {
	switch {
	case code == http.StatusUnauthorized:
		return terminal(fmt.Errorf("%s: rancher at %s rejected the API key (%s): %s", what, url, status, credentialsHint))
	case code == http.StatusForbidden:
		return terminal(fmt.Errorf("%s: rancher at %s refused access (%s): the API key lacks permission on this environment; %s", what, url, status, credentialsHint))
	case code == http.StatusNotFound:
		return terminal(fmt.Errorf("%s: rancher at %s answered 404: check that CATTLE_URL (or RANCHER_URL) is a Rancher 1.6 API URL such as http://rancher:8080/v2-beta/projects/1a5", what, url))
	case code == http.StatusTooManyRequests || code >= 500 || code == http.StatusRequestTimeout:
		return transient(fmt.Errorf("%s: rancher at %s answered %s; will retry", what, url, status))
	default:
		return transient(fmt.Errorf("%s: rancher at %s answered %s", what, url, status))
	}
}

// partialf builds a transient error for an incomplete or inconsistent answer.
func partialf(format string, args ...any) error {
	return transient(fmt.Errorf(format, args...))
}

// scrub removes the secrets from an error's text, as a last line of
// defence: no message built here contains them, but a server could echo
// them back. Secrets shorter than 4 bytes are not scrubbed (they would
// garble every message and protect nothing).
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var found []string
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(err.Error(), s) {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return err
	}
	return &scrubbedError{err: err, secrets: found}
}

type scrubbedError struct {
	err     error
	secrets []string
}

func (e *scrubbedError) Error() string {
	s := e.err.Error()
	for _, secret := range e.secrets {
		s = strings.ReplaceAll(s, secret, "REDACTED")
	}
	return s
}
func (e *scrubbedError) Unwrap() error { return e.err }
