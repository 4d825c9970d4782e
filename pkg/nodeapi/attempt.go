package nodeapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cenkalti/backoff/v4"
)

// drainLimit caps how much of an unread body is drained to reuse the
// connection; beyond it the connection is dropped instead.
const drainLimit = 64 << 10

// attempt is one call of the client: everything needed to send the same
// request again.
type attempt struct {
	c      *Client
	http   *http.Client
	method string
	url    *url.URL
	token  string
	body   []byte
	out    *Status // the decoded answer; nil when not wanted
}

// do sends the request once. Network errors and 5xx answers are returned
// as they are (retried); everything else is backoff.Permanent.
func (a *attempt) do(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.c.timeout)
	defer cancel()
	var body io.Reader
	if a.body != nil {
		body = bytes.NewReader(a.body) // a fresh reader per attempt
	}
	req, err := http.NewRequestWithContext(ctx, a.method, a.url.String(), body)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("Accept", MediaType)
	if a.body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return a.scrub(err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		_ = resp.Body.Close()
	}()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return a.scrub(fmt.Errorf("reading response: %w", err))
	}
	if len(b) > MaxBodyBytes {
		return backoff.Permanent(fmt.Errorf("%s: response body exceeds %d bytes", a.url.Redacted(), MaxBodyBytes))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.apiError(resp.StatusCode, b)
	}
	if a.out == nil {
		return nil
	}
	st, err := DecodeStatus(b)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("%s: decoding response: %w", a.url.Redacted(), err))
	}
	*a.out = st
	return nil
}

// apiError builds the typed error of a non-2xx answer; only 5xx is
// retried.
func (a *attempt) apiError(status int, body []byte) error {
	e := &APIError{StatusCode: status, URL: a.url.Redacted()}
	if wire, ok := decodeError(body); ok {
		e.Code, e.Message = wire.Code, a.redact(wire.Message)
	}
	if e.Temporary() {
		return e
	}
	return backoff.Permanent(e)
}

// scrub makes sure a transport error does not carry the token.
func (a *attempt) scrub(err error) error {
	if a.token == "" || !strings.Contains(err.Error(), a.token) {
		return err
	}
	return errors.New(a.redact(err.Error()))
}

func (a *attempt) redact(s string) string {
	if a.token == "" {
		return s
	}
	return strings.ReplaceAll(s, a.token, "REDACTED")
}
