package nodeapi_test

import (
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

func newClient(t *testing.T, token string) *nodeapi.Client {
	t.Helper()
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{
		Tokens: func(string) string { return token }, Logger: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func endpoint(url, node string) mesh.Endpoint {
	return mesh.Endpoint{Cluster: "test", Node: mesh.NodeName(node), URL: url}
}

func peerSet(names ...string) mesh.PeerSet {
	ns := make([]mesh.NodeName, len(names))
	for i, n := range names {
		ns[i] = mesh.NodeName(n)
	}
	return mesh.NewPeerSet(ns...)
}
