package nodeapitest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

func newClient(t *testing.T, timeout time.Duration) *nodeapi.Client {
	t.Helper()
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return nodeapitest.DefaultToken }, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pushFullMesh sends every node all the others at revision rev.
func pushFullMesh(t *testing.T, c *nodeapi.Client, eps []mesh.Endpoint, rev uint64) {
	t.Helper()
	for _, ep := range eps {
		var peers []mesh.NodeName
		for _, o := range eps {
			if o.Node != ep.Node {
				peers = append(peers, o.Node)
			}
		}
		if _, err := c.SetPeers(t.Context(), ep, rev, mesh.NewPeerSet(peers...)); err != nil {
			t.Fatalf("pushing to %s: %v", ep.Node, err)
		}
	}
}

func others(nodes []*nodeapitest.Node, self int) []string {
	var out []string
	for i, n := range nodes {
		if i != self {
			out = append(out, n.Name())
		}
	}
	slices.Sort(out)
	return out
}

func TestFakeNodesShareOneMesh(t *testing.T) {
	nodes, eps := nodeapitest.StartNodes(t, 3, nodeapitest.Options{})
	c := newClient(t, 0)
	pushFullMesh(t, c, eps, 1)
	for i, n := range nodes {
		if got, want := n.Connected(), others(nodes, i); !slices.Equal(got, want) {
			t.Errorf("%s connected = %v, want %v", n.Name(), got, want)
		}
		if got := n.Changes(); len(got) != 1 || got[0].Revision != 1 || len(got[0].Peers) != 2 {
			t.Errorf("%s changes = %+v", n.Name(), got)
		}
	}
	// A link made by one side shows on both: node0 dropping node1 from its
	// set removes the link from node1's view too.
	if _, err := c.SetPeers(t.Context(), eps[0], 2, mesh.NewPeerSet(eps[2].Node)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetPeers(t.Context(), eps[1], 2, mesh.NewPeerSet(eps[2].Node)); err != nil {
		t.Fatal(err)
	}
	if got := nodes[1].Connected(); !slices.Equal(got, []string{nodes[2].Name()}) {
		t.Errorf("node1 connected = %v, want only node2", got)
	}
}

func TestFakeNodeDown(t *testing.T) {
	nodes, eps := nodeapitest.StartNodes(t, 3, nodeapitest.Options{})
	c := newClient(t, 0)
	pushFullMesh(t, c, eps, 1)
	before := len(nodes[2].Calls())
	nodes[2].SetFault(nodeapitest.FaultDown)
	for i := range 2 {
		if got := nodes[i].Connected(); slices.Contains(got, nodes[2].Name()) {
			t.Errorf("%s still sees the down node: %v", nodes[i].Name(), got)
		}
	}
	_, err := c.Status(t.Context(), eps[2])
	var apiErr *nodeapi.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("status of a down node: %v, want a network error", err)
	}
	if n := len(nodes[2].Calls()); n != before {
		t.Errorf("status calls recorded as peer calls: %d, want %d", n, before)
	}
	nodes[2].SetFault(nodeapitest.FaultNone)
	pushFullMesh(t, c, eps, 2)
	if got, want := nodes[0].Connected(), others(nodes, 0); !slices.Equal(got, want) {
		t.Errorf("after recovery node0 connected = %v, want %v", got, want)
	}
}

func TestFakeNodeError(t *testing.T) {
	n := nodeapitest.StartNode(t, nodeapitest.Options{})
	n.SetFault(nodeapitest.FaultError)
	_, err := newClient(t, 0).SetPeers(t.Context(), n.Endpoint(), 1, nil)
	var apiErr *nodeapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err = %v, want 500", err)
	}
	calls := n.Calls()
	if len(calls) != 1+nodeapi.DefaultMaxRetries || calls[0].StatusCode != 0 || calls[0].Revision != 1 {
		t.Errorf("calls = %+v, want %d failed attempts", calls, 1+nodeapi.DefaultMaxRetries)
	}
	if len(n.Changes()) != 0 || n.Status().Revision != 0 {
		t.Errorf("a failing node applied something: %+v", n.Changes())
	}
}

func TestFakeNodeHangAndRestart(t *testing.T) {
	n := nodeapitest.StartNode(t, nodeapitest.Options{})
	c := newClient(t, 100*time.Millisecond)
	if _, err := c.SetPeers(t.Context(), n.Endpoint(), 4, nil); err != nil {
		t.Fatal(err)
	}
	n.SetFault(nodeapitest.FaultHang)
	if _, err := c.Status(t.Context(), n.Endpoint()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("status of a hanging node: %v, want a deadline error", err)
	}
	n.Restart()
	st, err := c.Status(t.Context(), n.Endpoint())
	if err != nil || st.Revision != 0 {
		t.Errorf("after restart: err %v, status %+v, want revision 0", err, st)
	}
	if got := n.Calls(); got[0].StatusCode != 200 || got[0].Revision != 4 {
		t.Errorf("calls = %+v", got)
	}
}

func TestFakeNodeConformance(t *testing.T) {
	nodes, eps := nodeapitest.StartNodes(t, 3, nodeapitest.Options{})
	pushFullMesh(t, newClient(t, 0), eps, 1)
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: nodes[0].URL(), Token: nodes[0].Token()})
}
