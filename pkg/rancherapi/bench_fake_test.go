package rancherapi

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
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
// unit-test fake: the client's own cost without the simulator's. Its
// sub-benchmarks are a full list (the resync), an answer of a complete
// cache after one container changed (an event pass), and one with nothing
// changed.
func BenchmarkSnapshotFake2000(b *testing.B) {
	f := newFakeRancher(b)
	refs := f.seedLarge(100, 20)
	c, err := New(context.Background(), Options{URL: f.project(), AccessKey: f.ak, SecretKey: f.sk, Clusters: refs, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	benchSnapshots(b, c, 2000)
}

// BenchmarkSnapshotFake10000 is BenchmarkSnapshotFake2000 at 10,000
// containers in 500 services.
func BenchmarkSnapshotFake10000(b *testing.B) {
	f := newFakeRancher(b)
	refs := f.seedLarge(500, 20)
	c, err := New(context.Background(), Options{URL: f.project(), AccessKey: f.ak, SecretKey: f.sk, Clusters: refs, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	benchSnapshots(b, c, 10000)
}

// benchSnapshots runs the three sub-benchmarks on a client of an
// environment of n members. cpu-ns/op is the process's CPU time per
// operation (the fake or simulator serving a list included), which a
// loaded machine does not inflate as it does ns/op.
func benchSnapshots(b *testing.B, c *Client, n int) {
	run := func(name string, relist bool, before func()) {
		b.Run(name, func(b *testing.B) {
			reqs := 0
			cpu0 := processCPU()
			for b.Loop() {
				before()
				s, err := c.Snapshot(context.Background(), relist)
				if err != nil {
					b.Fatal(err)
				}
				reqs = s.Requests
				if got := membersOf(s); got != n {
					b.Fatalf("snapshot has %d members, want %d", got, n)
				}
			}
			b.ReportMetric(float64(reqs), "requests/op")
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
	run("relist", true, func() {})
	c.cache.connected() // as Watch does; the cache is then complete after a list
	s, err := c.Snapshot(context.Background(), true)
	if err != nil {
		b.Fatal(err)
	}
	ct, _ := c.cache.containerByID(s.Clusters[0].Services[0].Containers[0].ContainerID)
	run("event", false, func() {
		ct.StartCount++ // one container changed: a synthetic event
		c.apply(change{seq: c.cache.seq.Add(1), kind: kindContainer, id: ct.ID, ct: ct})
	})
	run("unchanged", false, func() {})
}

func membersOf(s mesh.Snapshot) int {
	n := 0
	for _, cl := range s.Clusters {
		for _, svc := range cl.Services {
			n += len(svc.Containers)
		}
	}
	return n
}

// containerByID returns a cached container, for tests.
func (c *cache) containerByID(id string) (container, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.containers.get(id)
}
