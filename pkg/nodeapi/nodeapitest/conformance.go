package nodeapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// Target is an agent under conformance test.
type Target struct {
	// BaseURL is the agent's base URL, e.g. "http://127.0.0.1:4001".
	BaseURL string
	// Token is the agent's bearer token.
	Token string
	// IgnoreConnected skips comparing the connected list before and after
	// each refused request, for agents whose links change on their own.
	IgnoreConnected bool
	// HTTPClient sends the requests. Default: a client with a 10s timeout.
	HTTPClient *http.Client
}

// conformanceCase is one request the agent must refuse.
type conformanceCase struct {
	name     string
	method   string
	path     string
	auth     string // Authorization header; "" for none
	body     []byte
	wantCode string
}

// RunConformance checks that the agent at tg follows the refusal rules of
// protocol v1 (docs/nodeapi.md): 401 without or with a wrong token, 404,
// 405, 413, 400 bad_request and bad_node_name, 409 stale_revision, each
// with a JSON error body, and that after each the agent still answers and
// its state (revision, managed set, leaving, connected) is untouched.
// It applies one peer set first when the agent has no revision yet or is
// leaving: the agent's current managed set at the next revision.
func RunConformance(t *testing.T, tg Target) {
	t.Helper()
	if tg.BaseURL == "" || len(tg.Token) < 2 {
		t.Fatal("conformance: Target needs a BaseURL and a token of at least 2 characters")
	}
	if tg.HTTPClient == nil {
		tg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	c := conformer{tg: tg}
	t.Run("health needs no token", func(t *testing.T) { c.expectHealth(t) })
	before := c.prepare(t)
	for _, tc := range conformanceCases(tg.Token, before) {
		t.Run(tc.name, func(t *testing.T) {
			c.expectRefusal(t, tc)
			c.expectUnchanged(t, before)
		})
	}
	t.Run("same revision and same set is a no-op", func(t *testing.T) {
		body := peersJSON(before.Revision, before.Managed)
		resp, b := c.do(t, http.MethodPut, nodeapi.PathPeers, "Bearer "+tg.Token, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200; body %s", resp.StatusCode, b)
		}
		c.expectUnchanged(t, before)
	})
}

// conformanceCases lists the refusals. cur is the agent's state: bodies
// that would pass if a rule were missing use revision cur.Revision+1, so a
// wrongly accepted request changes the state and is caught.
func conformanceCases(token string, cur nodeapi.Status) []conformanceCase {
	rev, next := cur.Revision, cur.Revision+1
	good := peersJSON(next, cur.Managed)
	leave := []byte(fmt.Sprintf(`{"revision":%d}`, next))
	bearer := "Bearer " + token
	cases := []conformanceCase{
		{"status without token", "GET", nodeapi.PathStatus, "", nil, nodeapi.CodeUnauthorized},
		{"status with wrong token", "GET", nodeapi.PathStatus, "Bearer wrong-" + token, nil, nodeapi.CodeUnauthorized},
		{"status with token prefix only", "GET", nodeapi.PathStatus, "Bearer " + token[:len(token)-1], nil, nodeapi.CodeUnauthorized},
		{"status with basic scheme", "GET", nodeapi.PathStatus, "Basic " + token, nil, nodeapi.CodeUnauthorized},
		{"status with empty bearer", "GET", nodeapi.PathStatus, "Bearer ", nil, nodeapi.CodeUnauthorized},
		{"peers without token", "PUT", nodeapi.PathPeers, "", good, nodeapi.CodeUnauthorized},
		{"peers with wrong token", "PUT", nodeapi.PathPeers, "Bearer x" + token, good, nodeapi.CodeUnauthorized},
		{"leave without token", "POST", nodeapi.PathLeave, "", leave, nodeapi.CodeUnauthorized},
		{"leave with wrong token", "POST", nodeapi.PathLeave, "Bearer nope", leave, nodeapi.CodeUnauthorized},
		{"unknown path", "GET", "/v1/nope", bearer, nil, nodeapi.CodeNotFound},
		{"unknown version", "GET", "/v2/status", bearer, nil, nodeapi.CodeNotFound},
		{"POST status", "POST", nodeapi.PathStatus, bearer, good, nodeapi.CodeMethodNotAllowed},
		{"GET peers", "GET", nodeapi.PathPeers, bearer, nil, nodeapi.CodeMethodNotAllowed},
		{"DELETE peers", "DELETE", nodeapi.PathPeers, bearer, nil, nodeapi.CodeMethodNotAllowed},
		{"GET leave", "GET", nodeapi.PathLeave, bearer, nil, nodeapi.CodeMethodNotAllowed},
		{"oversized peers body", "PUT", nodeapi.PathPeers, bearer, oversized(next), nodeapi.CodeTooLarge},
		{"oversized leave body", "POST", nodeapi.PathLeave, bearer, oversized(next), nodeapi.CodeTooLarge},
		{"stale: lower revision", "PUT", nodeapi.PathPeers, bearer, peersJSON(rev-1, cur.Managed), nodeapi.CodeStaleRevision},
		{"stale: same revision, other set", "PUT", nodeapi.PathPeers, bearer,
			peersJSON(rev, append(slices.Clone(cur.Managed), "conformance-other@127.0.0.254")), nodeapi.CodeStaleRevision},
		{"stale: leave at lower revision", "POST", nodeapi.PathLeave, bearer, fmt.Appendf(nil, `{"revision":%d}`, rev-1), nodeapi.CodeStaleRevision},
		{"stale: leave at the revision of a peer set", "POST", nodeapi.PathLeave, bearer, fmt.Appendf(nil, `{"revision":%d}`, rev), nodeapi.CodeStaleRevision},
	}
	for i, body := range malformedBodies(next) {
		cases = append(cases, conformanceCase{fmt.Sprintf("malformed peers body %d: %.40s", i, body), "PUT", nodeapi.PathPeers, bearer, []byte(body), nodeapi.CodeBadRequest})
	}
	for i, body := range []string{``, `{`, `{}`, `{"revision":"1"}`, `{"revision":-1}`, fmt.Sprintf(`{"revision":%d,"force":true}`, next)} {
		cases = append(cases, conformanceCase{fmt.Sprintf("malformed leave body %d: %.40s", i, body), "POST", nodeapi.PathLeave, bearer, []byte(body), nodeapi.CodeBadRequest})
	}
	for _, name := range badNodeNames() {
		body := peersJSON(next, append(slices.Clone(cur.Managed), name))
		cases = append(cases, conformanceCase{fmt.Sprintf("bad node name %.40q", name), "PUT", nodeapi.PathPeers, bearer, body, nodeapi.CodeBadNodeName})
	}
	return cases
}

// malformedBodies are peer-set bodies that are not valid JSON or have the
// wrong shape.
func malformedBodies(next uint64) []string {
	return []string{
		``, `{`, `not json`, `[]`, `null`, `"peers"`, `{"revision":1,"peers":[]`,
		fmt.Sprintf(`{"revision":"%d","peers":[]}`, next),
		fmt.Sprintf(`{"revision":%d,"peers":"a@127.0.0.1"}`, next),
		fmt.Sprintf(`{"revision":%d,"peers":[1]}`, next),
		fmt.Sprintf(`{"revision":%d,"peers":{"a@127.0.0.1":true}}`, next),
		`{"revision":-1,"peers":[]}`,
		`{"revision":1.5,"peers":[]}`,
		fmt.Sprintf(`{"revision":%d}`, next),
		`{"peers":[]}`,
		fmt.Sprintf(`{"revision":%d,"peers":[],"extra":1}`, next),
		fmt.Sprintf(`{"revision":%d,"peers":[]}{"revision":%d,"peers":[]}`, next, next),
		fmt.Sprintf(`{"revision":%d,"peers":[]} x`, next),
	}
}

// badNodeNames are names that are not name@host.
func badNodeNames() []string {
	return []string{"nohost", "@127.0.0.1", "name@", "a@b@c", "", "a b@127.0.0.1", "a@127.0.0.1 ",
		"a@host/x", "a\u00e9@127.0.0.1", strings.Repeat("n", 300) + "@127.0.0.1"}
}

// peersJSON is a SetPeersRequest body.
func peersJSON(rev uint64, peers []string) []byte {
	if peers == nil {
		peers = []string{}
	}
	b, _ := json.Marshal(nodeapi.SetPeersRequest{Revision: rev, Peers: peers})
	return b
}

// oversized is a well-formed body one byte over MaxBodyBytes.
func oversized(rev uint64) []byte {
	head := fmt.Sprintf(`{"revision":%d,"peers":[],"pad":"`, rev)
	pad := nodeapi.MaxBodyBytes + 1 - len(head) - 2
	return []byte(head + strings.Repeat("x", pad) + `"}`)
}

// conformer sends the suite's requests.
type conformer struct{ tg Target }

func (c conformer) do(t *testing.T, method, path, auth string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimSuffix(c.tg.BaseURL, "/")+path, rd)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", nodeapi.MediaType)
	}
	resp, err := c.tg.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 2*nodeapi.MaxBodyBytes))
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, b
}
