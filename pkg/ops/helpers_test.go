package ops

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// Node names of the fixture.
const (
	nodeA = mesh.NodeName("hello@127.42.0.2") // converged with b, missing c
	nodeB = mesh.NodeName("hello@127.42.0.3")
	nodeC = mesh.NodeName("hello@127.42.0.4") // joined; a has not connected yet
	nodeD = mesh.NodeName("hello@127.42.0.5") // leaving (SIGTERM), still connected to a
	nodeE = mesh.NodeName("hello@127.42.0.6") // unhealthy: out of the mesh, never answered
)

// fixedNow dates the fixture.
func fixedNow() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }

func conds(pairs ...string) []reconcile.Condition {
	var out []reconcile.Condition
	for i := 0; i+2 < len(pairs); i += 3 {
		out = append(out, reconcile.Condition{Type: pairs[i], Status: pairs[i+1], Reason: pairs[i+2],
			LastTransitionTime: fixedNow().Add(-time.Minute)})
	}
	return out
}

// sampleStatus is a cluster that is not converged: a lacks its link to
// the new member c, d is leaving and still connected to a, e is unhealthy
// and never answered; plus a converged second cluster.
func sampleStatus() reconcile.Status {
	now := fixedNow()
	observed := func(connected ...mesh.NodeName) *mesh.NodeStatus {
		return &mesh.NodeStatus{Connected: mesh.NewPeerSet(connected...), Revision: 7, OTPRelease: "25", ConnectAll: true}
	}
	a := reconcile.NodeStatus{Node: nodeA, ContainerID: "1i2", URL: "http://127.42.0.2:4001", State: "running",
		HealthState: "healthy", Member: true, Desired: mesh.NewPeerSet(nodeB, nodeC), Observed: observed(nodeB, nodeD),
		LastPush: &reconcile.PushResult{Action: reconcile.ActionSetPeers, Revision: 7, Result: "ok",
			At: now.Add(-3 * time.Second), Latency: 600 * time.Microsecond},
		Conditions: conds("Ready", "False", "Pending", "Converged", "False", "Pending", "Degraded", "False", "Reachable")}
	a.Observed.Managed = mesh.NewPeerSet(nodeB, nodeC)
	b := reconcile.NodeStatus{Node: nodeB, URL: "http://127.42.0.3:4001", State: "running", HealthState: "healthy",
		Member: true, Desired: mesh.NewPeerSet(nodeA, nodeC), Observed: observed(nodeA, nodeC),
		Conditions: conds("Ready", "True", "Converged")}
	c := reconcile.NodeStatus{Node: nodeC, URL: "http://127.42.0.4:4001", State: "running", HealthState: "healthy",
		Member: true, Desired: mesh.NewPeerSet(nodeA, nodeB), Observed: observed(nodeB),
		Conditions: conds("Ready", "False", "Pending")}
	d := reconcile.NodeStatus{Node: nodeD, URL: "http://127.42.0.5:4001", State: "stopping", HealthState: "healthy",
		Leaving: true, Observed: observed(nodeA), LastPush: &reconcile.PushResult{Action: reconcile.ActionLeave,
			Revision: 8, Result: "ok", At: now.Add(-time.Second), Latency: time.Millisecond},
		Conditions: conds("Ready", "False", "Pending")}
	d.Observed.Leaving = true
	e := reconcile.NodeStatus{Node: nodeE, URL: "http://127.42.0.6:4001", State: "running", HealthState: "unhealthy",
		Conditions: conds("Ready", "True", "Converged")}
	other := reconcile.ClusterStatus{Name: "other", Policy: "sync", Topology: "fullMesh", Members: 1,
		Conditions: conds("Ready", "True", "Converged", "Converged", "True", "Converged", "Stale", "False", "Observed"),
		Nodes: []reconcile.NodeStatus{{Node: "other@127.42.1.2", State: "running", Member: true,
			Observed: observed(), Conditions: conds("Ready", "True", "Converged")}}}
	hello := reconcile.ClusterStatus{Name: "hello", Policy: "sync", Topology: "fullMesh", Members: 3,
		Conditions: conds("Ready", "False", "NodesPending", "Converged", "False", "NodesPending",
			"Stale", "False", "Observed", "Degraded", "False", "AllReachable"),
		Nodes: []reconcile.NodeStatus{a, b, c, d, e}}
	hello.Conditions[1].Message = "2 of 5 nodes not converged"
	return reconcile.Status{Passes: 12, LastObserved: now.Add(-2 * time.Second),
		LastPass: reconcile.PassStatus{Start: now.Add(-2 * time.Second), Duration: 3 * time.Millisecond, Result: "ok", Changes: 1},
		Clusters: []reconcile.ClusterStatus{hello, other}}
}

// fakeStream is a StreamInfo with settable values.
type fakeStream struct {
	connected  atomic.Bool
	reconnects atomic.Int64
}

func (f *fakeStream) StreamConnected() bool { return f.connected.Load() }
func (f *fakeStream) Reconnects() int64     { return f.reconnects.Load() }

// startServer serves opts on a loopback port until the test ends and
// returns its base URL.
func startServer(t *testing.T, opts Options) string {
	t.Helper()
	if opts.Logger.GetSink() == nil {
		opts.Logger = testr.New(t)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// fetch GETs url and returns the status code and body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func containsAll(s string, subs ...string) []string {
	var missing []string
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			missing = append(missing, sub)
		}
	}
	return missing
}

// dtoFamily is a gathered metric family.
type dtoFamily = dto.MetricFamily
