package nodeapi_test

import (
	"fmt"
	"testing"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeagent"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

func benchAgent(b *testing.B) (*nodeapi.Client, mesh.Endpoint) {
	b.Helper()
	a, err := nodeagent.NewAgent(nodeagent.AgentOptions{Node: "a@127.0.0.1", Token: secret})
	if err != nil {
		b.Fatal(err)
	}
	url := nodeapitest.ServeAgent(b, a)
	c, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return secret }})
	if err != nil {
		b.Fatal(err)
	}
	return c, mesh.Endpoint{Node: "a@127.0.0.1", URL: url}
}

// BenchmarkClientStatus is one status round trip over loopback HTTP.
func BenchmarkClientStatus(b *testing.B) {
	c, ep := benchAgent(b)
	for b.Loop() {
		if _, err := c.Status(b.Context(), ep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetPeers pushes a new peer set of the given size each time
// (half of it changes), so every push is applied.
func BenchmarkSetPeers(b *testing.B) {
	for _, size := range []int{20, nodeapi.MaxPeers} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			c, ep := benchAgent(b)
			sets := [2]mesh.PeerSet{}
			for k := range sets {
				var names []mesh.NodeName
				for i := range size {
					names = append(names, mesh.NodeName(fmt.Sprintf("hello@10.42.%d.%d", (i+k*size/2)/250, (i+k*size/2)%250)))
				}
				sets[k] = mesh.NewPeerSet(names...)
			}
			rev := uint64(0)
			for b.Loop() {
				rev++
				if _, err := c.SetPeers(b.Context(), ep, rev, sets[rev%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
