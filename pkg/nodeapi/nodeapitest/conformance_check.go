package nodeapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

func (c conformer) expectHealth(t *testing.T) {
	t.Helper()
	resp, b := c.do(t, http.MethodGet, nodeapi.PathHealth, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", nodeapi.PathHealth, resp.StatusCode, b)
	}
}

// status reads the agent's status with the right token.
func (c conformer) status(t *testing.T) nodeapi.Status {
	t.Helper()
	resp, b := c.do(t, http.MethodGet, nodeapi.PathStatus, "Bearer "+c.tg.Token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", nodeapi.PathStatus, resp.StatusCode, b)
	}
	var st nodeapi.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("GET %s: decoding %s: %v", nodeapi.PathStatus, b, err)
	}
	return st
}

// prepare makes sure the agent has applied a peer set (revision >= 1, not
// leaving) and returns its status.
func (c conformer) prepare(t *testing.T) nodeapi.Status {
	t.Helper()
	st := c.status(t)
	if st.Revision > 0 && !st.Leaving {
		return st
	}
	body := peersJSON(st.Revision+1, st.Managed)
	resp, b := c.do(t, http.MethodPut, nodeapi.PathPeers, "Bearer "+c.tg.Token, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preparing: PUT %s: status %d, want 200; body %s", nodeapi.PathPeers, resp.StatusCode, b)
	}
	return c.status(t)
}

// expectRefusal sends tc and checks the status code, the media type and the
// strict JSON error body.
func (c conformer) expectRefusal(t *testing.T, tc conformanceCase) {
	t.Helper()
	resp, b := c.do(t, tc.method, tc.path, tc.auth, tc.body)
	if want := wantStatus(tc.wantCode); resp.StatusCode != want {
		t.Errorf("%s %s: status %d, want %d; body %.200s", tc.method, tc.path, resp.StatusCode, want, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, nodeapi.MediaType) {
		t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.path, ct, nodeapi.MediaType)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e nodeapi.Error
	if err := dec.Decode(&e); err != nil {
		t.Errorf("%s %s: error body %.200q is not {\"code\",\"message\"}: %v", tc.method, tc.path, b, err)
		return
	}
	if e.Code != tc.wantCode || e.Message == "" {
		t.Errorf("%s %s: error %+v, want code %q and a message", tc.method, tc.path, e, tc.wantCode)
	}
	if strings.Contains(string(b), c.tg.Token) {
		t.Errorf("%s %s: error body echoes the token", tc.method, tc.path)
	}
	if tc.echo != 0 {
		expectNoEcho(t, b, tc.echo)
	}
}

// expectNoEcho fails when b holds more than nodeapi.MaxQuoteBytes of c in
// a row: the answer echoes a long input.
func expectNoEcho(t *testing.T, b []byte, c byte) {
	t.Helper()
	if run := strings.Repeat(string(c), nodeapi.MaxQuoteBytes+1); strings.Contains(string(b), run) {
		t.Errorf("the answer (%d bytes) quotes more than %d bytes of the input: %.200s", len(b), nodeapi.MaxQuoteBytes, b)
	}
}

// expectUnchanged checks that the agent still answers and that its state
// is the baseline's. A change is reported once, then undone (the baseline's
// managed set pushed at the next revision) and the baseline moved, so that
// one missing rule does not fail every later check.
func (c conformer) expectUnchanged(t *testing.T) {
	t.Helper()
	c.expectHealth(t)
	before := *c.base
	now := c.status(t)
	if now.Node != before.Node || now.Revision != before.Revision || now.Leaving != before.Leaving ||
		!sameSet(now.Managed, before.Managed) {
		t.Errorf("state changed: before node=%s revision=%d leaving=%v managed=%s; now node=%s revision=%d leaving=%v managed=%s",
			before.Node, before.Revision, before.Leaving, summary(before.Managed), now.Node, now.Revision, now.Leaving, summary(now.Managed))
		c.restore(t, now)
		return
	}
	if !c.tg.IgnoreConnected && !sameSet(now.Connected, before.Connected) {
		t.Errorf("connected changed: before %s, now %s", summary(before.Connected), summary(now.Connected))
	}
}

// restore pushes the baseline's managed set at the revision after now's
// and makes the result the new baseline.
func (c conformer) restore(t *testing.T, now nodeapi.Status) {
	t.Helper()
	resp, b := c.do(t, http.MethodPut, nodeapi.PathPeers, "Bearer "+c.tg.Token, peersJSON(now.Revision+1, c.base.Managed))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("restoring the managed set: status %d, body %.200s", resp.StatusCode, b)
	}
	*c.base = c.status(t)
	t.Logf("restored the managed set %s at revision %d for the checks that follow", summary(c.base.Managed), c.base.Revision)
}

// summary prints a list of names, shortened when long.
func summary(names []string) string {
	if len(names) <= 8 {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v ... (%d in all)", names[:5], len(names))
}

// wantStatus is the HTTP status docs/nodeapi.md gives each code.
func wantStatus(code string) int {
	switch code {
	case nodeapi.CodeUnauthorized:
		return http.StatusUnauthorized
	case nodeapi.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case nodeapi.CodeBadRequest, nodeapi.CodeBadNodeName, nodeapi.CodeTooManyPeers:
		return http.StatusBadRequest
	case nodeapi.CodeURITooLong:
		return http.StatusRequestURITooLong
	case nodeapi.CodeHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	case nodeapi.CodeAtomBudgetExhausted:
		return http.StatusServiceUnavailable
	case nodeapi.CodeStaleRevision:
		return http.StatusConflict
	case nodeapi.CodeNotFound:
		return http.StatusNotFound
	case nodeapi.CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case nodeapi.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
