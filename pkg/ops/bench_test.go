package ops

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// bigStatus is 100 converged clusters of 20 nodes: 2,000 nodes.
func bigStatus() reconcile.Status {
	st := reconcile.Status{Passes: 1, LastObserved: fixedNow()}
	for c := range 100 {
		cs := reconcile.ClusterStatus{Name: fmt.Sprintf("c%d", c), Members: 20, Conditions: conds("Ready", "True", "Converged")}
		var names []mesh.NodeName
		for n := range 20 {
			names = append(names, mesh.NodeName(fmt.Sprintf("svc%d@10.42.%d.%d", c, c, n+2)))
		}
		for _, n := range names {
			peers := mesh.NewPeerSet(names...).Minus(mesh.PeerSet{n})
			cs.Nodes = append(cs.Nodes, reconcile.NodeStatus{Node: n, State: "running", HealthState: "healthy", Member: true,
				Desired: peers, Observed: &mesh.NodeStatus{Node: n, Connected: peers, Managed: peers},
				LastPush:   &reconcile.PushResult{Action: reconcile.ActionSetPeers, Result: "ok", At: fixedNow()},
				Conditions: conds("Ready", "True", "Converged")})
		}
		st.Clusters = append(st.Clusters, cs)
	}
	return st
}

func benchmarkPath(b *testing.B, path string) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	st := bigStatus()
	for _, c := range st.Clusters {
		m.Cluster(c.Name, c.Members, true)
	}
	s, err := NewServer(Options{Status: func() reconcile.Status { return st }, Ready: func() (bool, []string) { return true, nil },
		Registry: reg, Secrets: []string{"token-a", "token-b", "access", "secret"}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	var size int
	start := time.Now()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/op-body")
	b.Logf("%s, 100 clusters of 20 nodes: %d bytes, %v per request", path, size, time.Since(start)/time.Duration(b.N))
}

// BenchmarkStatus2000Nodes: /status of 100 clusters x 20 nodes, redaction
// included.
func BenchmarkStatus2000Nodes(b *testing.B) { benchmarkPath(b, PathStatus) }

// BenchmarkMetrics100Clusters: /metrics with 100 clusters' gauges.
func BenchmarkMetrics100Clusters(b *testing.B) { benchmarkPath(b, PathMetrics) }
