package rancherapi

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	client "github.com/rancher/go-rancher/v2"
)

// seedLarge fills the fake with one stack of services x perService
// running containers.
func (f *fakeRancher) seedLarge(services, perService int) []ClusterRef {
	f.add("stacks", client.Stack{Resource: client.Resource{Id: "1st1", Type: "stack"}, Name: "big", State: "active"})
	var refs []ClusterRef
	n := 0
	for s := 1; s <= services; s++ {
		sid, name := fmt.Sprintf("1s%d", s), fmt.Sprintf("svc%d", s)
		var ids []string
		for i := 0; i < perService; i++ {
			n++
			id := fmt.Sprintf("1i%d", n)
			ids = append(ids, id)
			f.add("containers", fakeContainer(id, sid, "1st1", "big/"+name, n))
		}
		f.add("services", client.Service{Resource: client.Resource{Id: sid, Type: "service"}, Name: name, StackId: "1st1", State: "active", Scale: int64(perService), InstanceIds: ids})
		refs = append(refs, ClusterRef{Name: name, Stack: "big", Services: []string{name}})
	}
	return refs
}

// BenchmarkSnapshotFake2000 is BenchmarkSnapshot2000 against the small
// unit-test fake: the client's own cost without the simulator's.
func BenchmarkSnapshotFake2000(b *testing.B) {
	f := newFakeRancher(b)
	refs := f.seedLarge(100, 20)
	c, err := New(context.Background(), Options{URL: f.project(), AccessKey: f.ak, SecretKey: f.sk, Clusters: refs, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	reqs := 0
	b.ResetTimer()
	for b.Loop() {
		s, err := c.Snapshot(context.Background(), false)
		if err != nil {
			b.Fatal(err)
		}
		reqs = s.Requests
	}
	b.ReportMetric(float64(reqs), "requests/op")
}
