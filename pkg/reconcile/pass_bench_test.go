package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// benchNodes answers from a map: converged nodes that accept every push.
type benchNodes struct {
	mu sync.Mutex
	st map[mesh.NodeName]mesh.NodeStatus
}

func (f *benchNodes) Status(_ context.Context, ep mesh.Endpoint) (mesh.NodeStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st[ep.Node], nil
}

func (f *benchNodes) SetPeers(_ context.Context, ep mesh.Endpoint, rev uint64, peers mesh.PeerSet) (mesh.NodeStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := mesh.NodeStatus{Node: ep.Node, Revision: rev, Managed: peers, Connected: peers}
	f.st[ep.Node] = s
	return s, nil
}

func (f *benchNodes) Leave(_ context.Context, ep mesh.Endpoint, rev uint64) (mesh.NodeStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := mesh.NodeStatus{Node: ep.Node, Revision: rev, Leaving: true}
	f.st[ep.Node] = s
	return s, nil
}

type benchObserver struct{ snap mesh.Snapshot }

func (o *benchObserver) Snapshot(context.Context, bool) (mesh.Snapshot, error) { return o.snap, nil }

// toggle turns one container of cluster k unhealthy, or healthy again, as
// an event-fed cache would: a new value for that cluster, with a new
// generation.
func (o *benchObserver) toggle(k int) {
	snap := o.snap
	snap.Clusters = slices.Clone(snap.Clusters)
	c := &snap.Clusters[k]
	c.Services = slices.Clone(c.Services)
	c.Services[0].Containers = slices.Clone(c.Services[0].Containers)
	ct := &c.Services[0].Containers[5]
	if ct.HealthState == "healthy" {
		ct.HealthState = "unhealthy"
	} else {
		ct.HealthState = "healthy"
	}
	if c.Generation != 0 {
		c.Generation++
	}
	o.snap = snap
}

// benchWorld is a converged controller over n clusters of 20 nodes.
func benchWorld(b *testing.B, n int) (*Controller, *benchObserver) {
	var clusters []config.Cluster
	obs := &benchObserver{}
	nodes := &benchNodes{st: map[mesh.NodeName]mesh.NodeStatus{}}
	for k := range n {
		name := fmt.Sprintf("c%d", k)
		clusters = append(clusters, testCluster(name, name))
		svc := mesh.Service{Name: name, ID: "1s" + name}
		for i := range 20 {
			svc.Containers = append(svc.Containers, mesh.Member{ContainerID: fmt.Sprintf("1i%d", k*20+i), Service: name,
				ServiceID: svc.ID, IP: fmt.Sprintf("10.%d.%d.%d", 42+k/250, k%250, i+2), State: "running", HealthState: "healthy"})
		}
		obs.snap.Clusters = append(obs.snap.Clusters, mesh.Cluster{Name: name, Stack: "demo", Services: []mesh.Service{svc},
			Generation: uint64(k + 1)})
	}
	c, err := New(Options{Observer: obs, Nodes: nodes, Clusters: clusters, StatusTimeout: time.Minute, CallTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.RunOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := c.RunOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c, obs
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per op (all goroutines) to the benchmark.
func reportCPU(b *testing.B, start time.Duration, ops int) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(max(ops, 1)), "cpu-ms/op")
}

func benchFullPass(b *testing.B, clusters int) {
	c, _ := benchWorld(b, clusters)
	b.ReportAllocs()
	b.ResetTimer()
	t0, ops := cpuTime(), 0
	for b.Loop() {
		if err := c.RunOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	reportCPU(b, t0, ops)
}

// BenchmarkFullPass2000 is a drift pass over 2,000 converged nodes in 100
// clusters: every status re-read, nothing to push.
func BenchmarkFullPass2000(b *testing.B) { benchFullPass(b, 100) }

// BenchmarkFullPass10000 is the same over 10,000 nodes in 500 clusters.
func BenchmarkFullPass10000(b *testing.B) { benchFullPass(b, 500) }

// BenchmarkEventPass2000 is an event-triggered pass over 2,000 converged
// nodes in 100 clusters after one container changed: it turns unhealthy
// (it leaves, its 19 peers drop it) or healthy again (it rejoins).
func BenchmarkEventPass2000(b *testing.B) { benchEventPass(b, true) }

// BenchmarkEventPass2000UnknownGenerations is the same with an observer
// that does not know generations (0): every cluster is recomputed, from
// cached statuses.
func BenchmarkEventPass2000UnknownGenerations(b *testing.B) { benchEventPass(b, false) }

func benchEventPass(b *testing.B, generations bool) {
	c, obs := benchWorld(b, 100)
	if !generations {
		for i := range obs.snap.Clusters {
			obs.snap.Clusters[i].Generation = 0
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0, ops := cpuTime(), 0
	for b.Loop() {
		obs.toggle(37)
		if err := eventPass(c); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	reportCPU(b, t0, ops)
}

// BenchmarkResyncPass10000 is a resync pass over 10,000 converged nodes
// in 500 clusters whose Rancher data did not change: what the loop costs
// beside the observer's re-list (every cluster keeps its generation, no
// status is read, nothing is pushed).
func BenchmarkResyncPass10000(b *testing.B) {
	c, _ := benchWorld(b, 500)
	b.ReportAllocs()
	b.ResetTimer()
	t0, ops := cpuTime(), 0
	for b.Loop() {
		if _, err := c.runPass(context.Background(), work{Kind: KindResync, Reasons: []Kind{KindResync}, Relist: true}); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	reportCPU(b, t0, ops)
}
