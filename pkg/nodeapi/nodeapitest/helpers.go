package nodeapitest

import (
	"net"
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// NewClient returns a nodeapi.Client that sends token to every cluster
// and logs to t.
func NewClient(t *testing.T, token string) *nodeapi.Client {
	t.Helper()
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{
		Tokens: func(string) string { return token }, Logger: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ServeAgent serves a on its own Server on a loopback port until the test
// ends and returns its base URL.
func ServeAgent(t testing.TB, a *nodeagent.Agent) string {
	t.Helper()
	srv, err := a.Server()
	if err != nil {
		t.Fatal(err)
	}
	return Serve(t, srv, "http")
}

// Serve runs srv on a loopback port until the test ends and returns its
// base URL with scheme.
func Serve(t testing.TB, srv *nodeapi.Server, scheme string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return scheme + "://" + ln.Addr().String()
}

// Endpoint is the endpoint of node at url, in cluster "test".
func Endpoint(url, node string) mesh.Endpoint {
	return mesh.Endpoint{Cluster: "test", Node: mesh.NodeName(node), URL: url}
}

// PeerSet is the peer set of names.
func PeerSet(names ...string) mesh.PeerSet {
	ns := make([]mesh.NodeName, len(names))
	for i, n := range names {
		ns[i] = mesh.NodeName(n)
	}
	return mesh.NewPeerSet(ns...)
}
