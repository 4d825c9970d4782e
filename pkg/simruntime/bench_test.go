package simruntime_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// BenchmarkStartStop starts and gracefully stops one container's agent.
func BenchmarkStartStop(b *testing.B) {
	rt, err := simruntime.New(simruntime.Options{Token: token, Port: 4999})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	c := simruntime.Container{ID: "1i1", IP: "127.42.251.1", Stack: "demo", Service: "hello"}
	for b.Loop() {
		if err := rt.StartContainer(b.Context(), c, nil); err != nil {
			b.Fatal(err)
		}
		if err := rt.Stop(b.Context(), c.ID, time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullMesh starts n agents and pushes every one its full peer
// set over HTTP, one pass per iteration.
func BenchmarkFullMesh(b *testing.B) {
	const n = 200
	rt, err := simruntime.New(simruntime.Options{Token: token, Port: 4998})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	client, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return token }})
	if err != nil {
		b.Fatal(err)
	}
	var eps []mesh.Endpoint
	var all []mesh.NodeName
	for i := range n {
		c := simruntime.Container{ID: fmt.Sprint("1i", i), IP: fmt.Sprintf("127.42.252.%d", i+1), Stack: "demo", Service: "hello"}
		if err := rt.StartContainer(b.Context(), c, nil); err != nil {
			b.Fatal(err)
		}
		eps = append(eps, mesh.Endpoint{Node: mesh.NodeName(rt.NodeName(c)), URL: rt.URL(c.IP)})
		all = append(all, mesh.NodeName(rt.NodeName(c)))
	}
	set := mesh.NewPeerSet(all...)
	rev := uint64(0)
	for b.Loop() {
		rev++
		for _, ep := range eps {
			if _, err := client.SetPeers(b.Context(), ep, rev, set.Minus(mesh.PeerSet{ep.Node})); err != nil {
				b.Fatal(err)
			}
		}
	}
	if got := len(rt.Mesh().Connected(string(eps[0].Node))); got != n-1 {
		b.Fatalf("node 0 has %d links, want %d", got, n-1)
	}
}
