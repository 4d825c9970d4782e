package nodeapitest

import (
	"bytes"
	"crypto/tls"
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
	// HTTPClient sends the requests. Default: a client with a 10s timeout
	// (verifying with TLS for an https:// BaseURL).
	HTTPClient *http.Client
	// TLS is how the suite's raw connections (and the default HTTPClient)
	// verify an https:// agent, with a client certificate if the agent
	// requires one. Default: the system pool.
	TLS *tls.Config
	// Source and OtherSource are two local IP addresses to dial the agent
	// from, for the per-source connection cap: a source over the cap must
	// not keep the agent from answering another. Defaults for an agent on
	// a loopback address: 127.0.0.1 and 127.0.0.2. Without OtherSource
	// (an agent elsewhere) that check is skipped.
	Source, OtherSource string
	// MaxConnsPerSource is the agent's cap of connections per source.
	// Default nodeapi.DefaultMaxConnsPerSource.
	MaxConnsPerSource int
	// HeadTimeout is the agent's deadline for a whole request head.
	// Default nodeapi.DefaultHeadTimeout.
	HeadTimeout time.Duration
}

// conformanceCase is one request the agent must refuse.
type conformanceCase struct {
	name     string
	method   string
	path     string
	auth     string // Authorization header; "" for none
	body     []byte
	wantCode string
	// echo, when set, is the byte that the request repeats at length: the
	// answer must not hold more than nodeapi.MaxQuoteBytes of it in a row.
	echo byte
}

// RunConformance checks that the agent at tg follows the refusal rules and
// limits of protocol v1 (docs/nodeapi.md), and that after each refusal the
// agent still answers and its state (revision, managed set, leaving,
// connected) is untouched:
//
//   - 401 without or with a wrong token, 404, 405 (on /v1/health before
//     any token check), 413, 400 bad_request (case-variant and unknown
//     field names included), bad_node_name, too_many_peers, 409
//     stale_revision, each with a strict JSON error body that quotes at
//     most nodeapi.MaxQuoteBytes of any long input;
//   - over raw connections: a request line over nodeapi.MaxLineBytes gets
//     414, a header line over it or a head over nodeapi.MaxHeadBytes 431,
//     each with a JSON body and then a close; lines just under the limits
//     are served; a Content-Length that is not plain digits gets 400;
//   - connections: a source over its cap cannot keep health and an
//     authenticated push from being answered for another source, and a
//     client sending one header line every second is closed at the head
//     deadline;
//   - when the agent reports atom_budget in its status, refused requests
//     keep atoms_created within it.
//
// It applies one peer set first when the agent has no revision yet or is
// leaving: the agent's current managed set at the next revision.
func RunConformance(t *testing.T, tg Target) {
	t.Helper()
	if tg.BaseURL == "" || len(tg.Token) < 2 {
		t.Fatal("conformance: Target needs a BaseURL and a token of at least 2 characters")
	}
	c := newConformer(t, tg)
	t.Run("health needs no token", func(t *testing.T) { c.expectHealth(t) })
	before := c.prepare(t)
	*c.base = before
	for _, tc := range conformanceCases(tg.Token, before) {
		t.Run(tc.name, func(t *testing.T) {
			c.expectRefusal(t, tc)
			c.expectUnchanged(t)
		})
	}
	t.Run("same revision and same set is a no-op", func(t *testing.T) {
		body := peersJSON(c.base.Revision, c.base.Managed)
		resp, b := c.do(t, http.MethodPut, nodeapi.PathPeers, "Bearer "+tg.Token, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200; body %s", resp.StatusCode, b)
		}
		c.expectUnchanged(t)
	})
	c.runTransport(t)
	c.runConnections(t)
	c.runAtomBudget(t)
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
		{name: "status without token", method: "GET", path: nodeapi.PathStatus, wantCode: nodeapi.CodeUnauthorized},
		{name: "status with wrong token", method: "GET", path: nodeapi.PathStatus, auth: "Bearer wrong-" + token, wantCode: nodeapi.CodeUnauthorized},
		{name: "status with token prefix only", method: "GET", path: nodeapi.PathStatus, auth: "Bearer " + token[:len(token)-1], wantCode: nodeapi.CodeUnauthorized},
		{name: "status with basic scheme", method: "GET", path: nodeapi.PathStatus, auth: "Basic " + token, wantCode: nodeapi.CodeUnauthorized},
		{name: "status with empty bearer", method: "GET", path: nodeapi.PathStatus, auth: "Bearer ", wantCode: nodeapi.CodeUnauthorized},
		{name: "peers without token", method: "PUT", path: nodeapi.PathPeers, body: good, wantCode: nodeapi.CodeUnauthorized},
		{name: "peers with wrong token", method: "PUT", path: nodeapi.PathPeers, auth: "Bearer x" + token, body: good, wantCode: nodeapi.CodeUnauthorized},
		{name: "leave without token", method: "POST", path: nodeapi.PathLeave, body: leave, wantCode: nodeapi.CodeUnauthorized},
		{name: "leave with wrong token", method: "POST", path: nodeapi.PathLeave, auth: "Bearer nope", body: leave, wantCode: nodeapi.CodeUnauthorized},
		{name: "POST health without token: 405 before auth", method: "POST", path: nodeapi.PathHealth, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "PUT health with wrong token: 405 before auth", method: "PUT", path: nodeapi.PathHealth, auth: "Bearer nope", body: good, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "DELETE health without token: 405 before auth", method: "DELETE", path: nodeapi.PathHealth, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "unknown path", method: "GET", path: "/v1/nope", auth: bearer, wantCode: nodeapi.CodeNotFound},
		{name: "unknown version", method: "GET", path: "/v2/status", auth: bearer, wantCode: nodeapi.CodeNotFound},
		{name: "POST status", method: "POST", path: nodeapi.PathStatus, auth: bearer, body: good, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "GET peers", method: "GET", path: nodeapi.PathPeers, auth: bearer, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "DELETE peers", method: "DELETE", path: nodeapi.PathPeers, auth: bearer, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "GET leave", method: "GET", path: nodeapi.PathLeave, auth: bearer, wantCode: nodeapi.CodeMethodNotAllowed},
		{name: "oversized peers body", method: "PUT", path: nodeapi.PathPeers, auth: bearer, body: oversized(next), wantCode: nodeapi.CodeTooLarge},
		{name: "oversized leave body", method: "POST", path: nodeapi.PathLeave, auth: bearer, body: oversized(next), wantCode: nodeapi.CodeTooLarge},
		{name: "stale: lower revision", method: "PUT", path: nodeapi.PathPeers, auth: bearer, body: peersJSON(rev-1, cur.Managed), wantCode: nodeapi.CodeStaleRevision},
		{name: "stale: same revision, other set", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: peersJSON(rev, append(slices.Clone(cur.Managed), "conformance-other@127.0.0.254")), wantCode: nodeapi.CodeStaleRevision},
		{name: "stale: leave at lower revision", method: "POST", path: nodeapi.PathLeave, auth: bearer, body: fmt.Appendf(nil, `{"revision":%d}`, rev-1), wantCode: nodeapi.CodeStaleRevision},
		{name: "stale: leave at the revision of a peer set", method: "POST", path: nodeapi.PathLeave, auth: bearer, body: fmt.Appendf(nil, `{"revision":%d}`, rev), wantCode: nodeapi.CodeStaleRevision},
		{name: "1001 peers: too_many_peers", method: "PUT", path: nodeapi.PathPeers, auth: bearer, body: peersJSON(next, manyPeers(nodeapi.MaxPeers+1)), wantCode: nodeapi.CodeTooManyPeers},
		{name: "10000 peers: too_many_peers", method: "PUT", path: nodeapi.PathPeers, auth: bearer, body: peersJSON(next, manyPeers(10000)), wantCode: nodeapi.CodeTooManyPeers},
	}
	for i, body := range malformedBodies(next) {
		cases = append(cases, conformanceCase{name: fmt.Sprintf("malformed peers body %d: %.40s", i, body), method: "PUT", path: nodeapi.PathPeers,
			auth: bearer, body: []byte(body), wantCode: nodeapi.CodeBadRequest})
	}
	for i, body := range []string{``, `{`, `{}`, `{"revision":"1"}`, `{"revision":-1}`, fmt.Sprintf(`{"revision":%d,"force":true}`, next),
		fmt.Sprintf(`{"Revision":%d}`, next), fmt.Sprintf(`{"REVISION":%d}`, next)} {
		cases = append(cases, conformanceCase{name: fmt.Sprintf("malformed leave body %d: %.40s", i, body), method: "POST", path: nodeapi.PathLeave,
			auth: bearer, body: []byte(body), wantCode: nodeapi.CodeBadRequest})
	}
	for _, name := range badNodeNames() {
		body := peersJSON(next, append(slices.Clone(cur.Managed), name))
		cases = append(cases, conformanceCase{name: fmt.Sprintf("bad node name %.40q", name), method: "PUT", path: nodeapi.PathPeers,
			auth: bearer, body: body, wantCode: nodeapi.CodeBadNodeName})
	}
	return append(cases, echoCases(bearer, next, cur.Managed)...)
}

// echoCases are refusals of long inputs: the answer must quote at most
// nodeapi.MaxQuoteBytes of them.
func echoCases(bearer string, next uint64, managed []string) []conformanceCase {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	managedJSON, _ := json.Marshal(nonNilStrings(managed))
	return []conformanceCase{
		{name: "long unknown field name is not echoed", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"revision":%d,"peers":%s,"%s":1}`, next, managedJSON, long('q', 512<<10)), wantCode: nodeapi.CodeBadRequest, echo: 'q'},
		{name: "long revision string is not echoed", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"revision":"%s","peers":[]}`, long('r', 100<<10)), wantCode: nodeapi.CodeBadRequest, echo: 'r'},
		{name: "long number body is not echoed", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: []byte(long('1', 100<<10)), wantCode: nodeapi.CodeBadRequest, echo: '1'},
		{name: "long unterminated string is not echoed", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"revision":%d,"peers":["%s`, next, long('z', 100<<10)), wantCode: nodeapi.CodeBadRequest, echo: 'z'},
		{name: "long bad node name is not echoed", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: peersJSON(next, append(slices.Clone(managed), long('w', 200)+"@"+long('w', 40)+"!")), wantCode: nodeapi.CodeBadNodeName, echo: 'w'},
		{name: "long unknown path is not echoed", method: "GET", path: "/v1/" + long('p', 6000), auth: bearer, wantCode: nodeapi.CodeNotFound, echo: 'p'},
		{name: "long wrong token is not echoed", method: "GET", path: nodeapi.PathStatus, auth: "Bearer " + long('t', 6000), wantCode: nodeapi.CodeUnauthorized, echo: 't'},
		{name: "long method is not echoed", method: long('M', 1000), path: nodeapi.PathPeers, auth: bearer, wantCode: nodeapi.CodeMethodNotAllowed, echo: 'M'},
		{name: "case-variant field Revision", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"Revision":%d,"peers":%s}`, next, managedJSON), wantCode: nodeapi.CodeBadRequest},
		{name: "case-variant field Peers", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"revision":%d,"Peers":%s}`, next, managedJSON), wantCode: nodeapi.CodeBadRequest},
		{name: "case-variant fields in capitals", method: "PUT", path: nodeapi.PathPeers, auth: bearer,
			body: fmt.Appendf(nil, `{"REVISION":%d,"PEERS":%s}`, next, managedJSON), wantCode: nodeapi.CodeBadRequest},
	}
}

// manyPeers returns n distinct valid node names that no test node has.
func manyPeers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cp%d@10.254.%d.%d", i, i/250, i%250+1)
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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
		fmt.Sprintf(`{"revision":%d,"peers":[null]}`, next),
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

func (c conformer) do(t *testing.T, method, path, auth string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return c.doWith(t, c.tg.HTTPClient, method, path, auth, body)
}

// doWith sends one request with client and reads the answer.
func (c conformer) doWith(t *testing.T, client *http.Client, method, path, auth string, body []byte) (*http.Response, []byte) {
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
	resp, err := client.Do(req)
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
