package reconcile

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// These tests run the controller against the in-process Rancher simulator,
// the real rancherapi and nodeapi clients, and one in-process Go agent per
// simulated container (simruntime), on 127.43.0.0/16 (loopback; each package that starts agents has its own range, since go test runs packages in parallel).

const integrationToken = "integration-token"

// simRuntime adapts simruntime to the simulator's Runtime contract.
type simRuntime struct{ *simruntime.Runtime }

func (r simRuntime) Start(ctx context.Context, c ranchersim.ContainerSpec, exited func(error)) error {
	return r.StartContainer(ctx, simruntime.Container{ID: c.ID, Name: c.Name, IP: c.IP, Stack: c.Stack, Service: c.Service}, exited)
}

// countingRecorder counts pushes, for idempotency checks.
type countingRecorder struct {
	noopRecorder
	pushes atomic.Int64
}

func (r *countingRecorder) Push(Action, string, time.Duration) { r.pushes.Add(1) }

// world is one simulated Rancher environment with a running controller.
type world struct {
	t        *testing.T
	sim      *ranchersim.Sim
	rt       *simruntime.Runtime
	rancher  *rancherapi.Client
	nodes    *nodeapi.Client
	cluster  config.Cluster
	recorder *countingRecorder
	ctl      *Controller
	stop     func()
}

// startWorld creates stack demo, service hello of scale n with a health
// check on the agent, and starts a controller; announce adds the fast path.
func startWorld(t *testing.T, n int, announce, healthCheck bool) *world {
	t.Helper()
	w := &world{t: t, recorder: &countingRecorder{}}
	var ctlRef atomic.Pointer[Controller]
	annURL := ""
	if announce {
		srv := httptest.NewServer(nodeapi.AnnounceHandler(nodeapi.AnnounceOptions{Token: integrationToken,
			OnAnnounce: func(a nodeapi.Announcement) {
				if c := ctlRef.Load(); c != nil {
					c.Announce(a.Event, a.IP)
				}
			}}))
		t.Cleanup(srv.Close)
		annURL = srv.URL
	}
	rt, err := simruntime.New(simruntime.Options{Token: integrationToken, AnnounceURL: annURL, AnnounceToken: integrationToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	w.rt = rt
	w.sim = ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.43.0.0/16", EventMode: ranchersim.EventsCattle,
		Tick: 200 * time.Millisecond, StepDelay: 5 * time.Millisecond, Runtime: simRuntime{rt}, StopTimeout: time.Second})
	if _, err := w.sim.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	spec := ranchersim.ServiceSpec{Name: "hello", Scale: n, StartOnCreate: true}
	if healthCheck {
		spec.HealthCheck = &ranchersim.HealthCheck{Port: 4001, RequestLine: "GET /v1/health HTTP/1.0", Interval: 100,
			ResponseTimeout: 500, HealthyThreshold: 1, UnhealthyThreshold: 2}
	}
	if _, err := w.sim.CreateService("demo", spec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.rancher, err = rancherapi.New(ctx, rancherapi.Options{URL: w.sim.SchemasURL(), AccessKey: w.sim.AccessKey(),
		SecretKey: w.sim.SecretKey(), Clusters: []rancherapi.ClusterRef{{Name: "hello", Stack: "demo", Services: []string{"hello"}}},
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.nodes, err = nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return integrationToken }, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.cluster = testCluster("hello", "hello")
	w.startController(announce, &ctlRef)
	return w
}

// startController starts a fresh controller (no memory of earlier ones).
func (w *world) startController(announce bool, ref *atomic.Pointer[Controller]) {
	opts := Options{Observer: w.rancher, Watcher: w.rancher, Nodes: w.nodes, Clusters: []config.Cluster{w.cluster},
		ResyncInterval: 5 * time.Second, DriftInterval: time.Second, MinEventGap: 20 * time.Millisecond,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 400 * time.Millisecond, ConfirmDelay: 100 * time.Millisecond,
		IsStaleRevision: nodeapi.IsStaleRevision, Logger: testr.New(w.t), Recorder: w.recorder}
	if announce {
		opts.Lookup = w.rancher
	}
	ctl, err := New(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	if ref != nil {
		ref.Store(ctl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = ctl.Run(ctx) })
	w.ctl = ctl
	w.stop = func() { cancel(); wg.Wait() }
	w.t.Cleanup(w.stop)
}

// members are the node names of the containers Rancher counts as members.
func (w *world) members() mesh.PeerSet {
	var out []mesh.NodeName
	for _, c := range w.sim.Containers("demo", "hello") {
		if IsMember(w.cluster.Membership, mesh.Member{State: c.State, HealthState: c.HealthState}) {
			out = append(out, mesh.NodeName("hello@"+c.IP))
		}
	}
	return mesh.NewPeerSet(out...)
}

// converged reports whether every member manages and is connected to
// exactly the other members.
func (w *world) converged() bool {
	members := w.members()
	for _, n := range members {
		ip := string(n)[len("hello@"):]
		st, err := w.nodes.Status(context.Background(), mesh.Endpoint{Cluster: "hello", Node: n, URL: w.rt.URL(ip)})
		want := members.Minus(mesh.PeerSet{n})
		if err != nil || !st.Managed.Equal(want) || !st.Connected.Equal(want) {
			return false
		}
	}
	return len(members) > 0
}

func (w *world) waitConverged(what string, size int) {
	w.t.Helper()
	testwait.Eventually(w.t, 30*time.Second, fmt.Sprintf("%s: %d members converged", what, size), func() bool { return len(w.members()) == size && w.converged() })
}

func (w *world) settle() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.sim.WaitSettled(ctx); err != nil {
		w.t.Fatal(err)
	}
}

func TestIntegrationScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("integration scenarios start a simulator and agents")
	}
	scenarios := []struct {
		name          string
		noHealthCheck bool // a health check would turn a cut-off node unhealthy
		run           func(t *testing.T, w *world)
	}{
		{"scale up", false, func(t *testing.T, w *world) {
			must(t, w.sim.Scale("demo", "hello", 5))
			w.waitConverged("scale up", 5)
		}},
		{"scale down", false, func(t *testing.T, w *world) {
			must(t, w.sim.Scale("demo", "hello", 2))
			w.settle()
			w.waitConverged("scale down", 2)
		}},
		{"upgrade with startFirst", false, func(t *testing.T, w *world) {
			must(t, w.sim.Upgrade("demo", "hello", 1, true, 50*time.Millisecond))
			w.settle()
			must(t, w.sim.FinishUpgrade("demo", "hello"))
			w.settle()
			w.waitConverged("upgrade", 3)
		}},
		{"rolling restart", false, func(t *testing.T, w *world) {
			must(t, w.sim.Restart("demo", "hello", 1, 50*time.Millisecond))
			w.settle()
			w.waitConverged("restart", 3)
		}},
		{"health failure and recreate", false, func(t *testing.T, w *world) {
			sick := w.sim.Containers("demo", "hello")[0]
			must(t, w.sim.FailHealth(sick.ID, true))
			testwait.Eventually(t, 30*time.Second, "sick container out", func() bool { return !w.members().Contains(mesh.NodeName("hello@" + sick.IP)) })
			w.settle()
			w.waitConverged("recreate", 3)
		}},
		{"container killed outside Rancher", false, func(t *testing.T, w *world) {
			must(t, w.sim.KillContainer(w.sim.Containers("demo", "hello")[1].ID))
			w.settle()
			w.waitConverged("restarted container", 3)
		}},
		{"controller restarted in the middle of a scale", false, func(t *testing.T, w *world) {
			must(t, w.sim.Scale("demo", "hello", 6))
			time.Sleep(30 * time.Millisecond) // let the scale begin; not a threshold
			w.stop()
			w.startController(false, nil)
			w.settle()
			w.waitConverged("after restart", 6)
		}},
		{"Rancher API down during a scale down", false, func(t *testing.T, w *world) {
			// The API and its event stream are one server: the stream drops
			// too, so the observer's cache is no longer complete and every
			// pass lists, and fails, until the API answers again.
			w.sim.Faults().APIStatus(503, 2*time.Second)
			w.sim.Faults().DropWebsockets()
			must(t, w.sim.Scale("demo", "hello", 2))
			w.settle()
			gone := w.sim.Containers("demo", "hello")[2]
			// Nothing is removed while Rancher cannot be read.
			for _, c := range w.sim.Containers("demo", "hello")[:2] {
				st, err := w.nodes.Status(context.Background(), mesh.Endpoint{Cluster: "hello", Node: mesh.NodeName("hello@" + c.IP), URL: w.rt.URL(c.IP)})
				if err != nil || !st.Managed.Contains(mesh.NodeName("hello@"+gone.IP)) {
					t.Errorf("during the outage %s manages %v (err %v), want %s kept", c.IP, st.Managed, err, gone.IP)
				}
			}
			w.waitConverged("after the outage", 2)
		}},
		{"websocket dropped during a burst", false, func(t *testing.T, w *world) {
			must(t, w.sim.Scale("demo", "hello", 6))
			for range 3 {
				w.sim.Faults().DropWebsockets()
				time.Sleep(20 * time.Millisecond) // spread the drops over the burst; not a threshold
			}
			w.settle()
			w.waitConverged("after drops", 6)
		}},
		{"one node's admin endpoint down", true, func(t *testing.T, w *world) {
			c := w.sim.Containers("demo", "hello")[0]
			must(t, w.rt.Isolate(context.Background(), c.ID, true))
			must(t, w.sim.Scale("demo", "hello", 4))
			w.settle()
			testwait.Eventually(t, 30*time.Second, "degraded while a node is cut off", func() bool {
				cs, _ := w.ctl.Status().Cluster("hello")
				dc, _ := FindCondition(cs.Conditions, ConditionDegraded)
				return dc.Status == ConditionTrue
			})
			must(t, w.rt.Isolate(context.Background(), c.ID, false))
			w.waitConverged("healed node", 4)
		}},
	}
	for _, sc := range scenarios {
		for _, announce := range []bool{false, true} {
			mode := "events only"
			if announce {
				mode = "announcements and events"
			}
			t.Run(sc.name+"/"+mode, func(t *testing.T) {
				w := startWorld(t, 3, announce, !sc.noHealthCheck)
				w.settle()
				w.waitConverged("start", 3)
				sc.run(t, w)
				// Idempotency: a pass right after a pass pushes nothing.
				w.settle()
				testwait.Eventually(t, 30*time.Second, "converged before the idempotency check", w.converged)
				w.checkIdempotent()
			})
		}
	}
}

// checkIdempotent checks that a pass right after a pass pushes nothing.
func (w *world) checkIdempotent() {
	w.t.Helper()
	_ = w.ctl.RunOnce(context.Background())
	before := w.recorder.pushes.Load()
	if err := w.ctl.RunOnce(context.Background()); err != nil {
		w.t.Errorf("RunOnce: %v", err)
	}
	if got := w.recorder.pushes.Load() - before; got != 0 {
		w.t.Errorf("a pass right after a pass pushed %d times", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Safety rule 6: the admin endpoint of a node that the controller drives
// refuses anything unauthenticated, oversized or malformed, and its mesh is
// untouched. The suite is pkg/nodeapi's, shared with the BEAM agent; here
// it runs against an agent the controller has just converged.
func TestAdminEndpointRefusesBadRequests(t *testing.T) {
	w := startWorld(t, 2, false, false)
	w.settle()
	w.waitConverged("start", 2)
	w.stop() // no pass may change the node during the suite
	c := w.sim.Containers("demo", "hello")[0]
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: w.rt.URL(c.IP), Token: integrationToken})
	if !w.converged() {
		t.Errorf("refused requests changed the mesh")
	}
}
