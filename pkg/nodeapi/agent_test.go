package nodeapi_test

import (
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

// TestGoAgentConformance runs the shared refusal suite against the Go
// agent holding two live links.
func TestGoAgentConformance(t *testing.T) {
	m := nodeapi.NewMemoryMesh(nodeapi.MemoryMeshOptions{})
	m.Connector("b@127.0.0.2")
	m.Connector("c@127.0.0.3")
	a, err := nodeapi.NewAgent(nodeapi.AgentOptions{
		Node: "a@127.0.0.1", Token: "s3cret-token", Connector: m.Connector("a@127.0.0.1"), Logger: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	c := newClient(t, "s3cret-token")
	if _, err := c.SetPeers(t.Context(), endpoint(srv.URL, "a@127.0.0.1"), 3, peerSet("b@127.0.0.2", "c@127.0.0.3")); err != nil {
		t.Fatal(err)
	}
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: srv.URL, Token: "s3cret-token"})
	if got := m.Connected("b@127.0.0.2"); len(got) != 1 || got[0] != "a@127.0.0.1" {
		t.Errorf("b's links after the suite = %v, want [a@127.0.0.1]", got)
	}
}
