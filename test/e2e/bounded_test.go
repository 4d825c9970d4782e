//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/reconcile"
	"github.com/drover-mesh/drover/test/harness"
)

// The bounded-degree scenario: 12 hello nodes started with
// -kernel connect_all false in a cluster of topology boundedDegree,
// degree 3. Every node's nodes() must be its overlay peers, the union of
// all views connected and no node above degree 3; a kill -9 of a VM must
// not split the others, and the overlay must be whole again once the
// container is back; a scale down must settle to the smaller overlay. A
// second cluster of the same topology whose nodes keep OTP's default
// connect_all true must get no peers, with the reason in the status.

const (
	boundedService = "bounded"   // connect_all false: the overlay
	refusedService = "boundedca" // connect_all true (OTP's default): refused
	boundedDegree  = 3
	boundedNodes   = 12
)

// boundedServices are the scenario's services of the shared stack.
func boundedServices() []ranchersim.ServiceSpec {
	return []ranchersim.ServiceSpec{
		service(boundedService, map[string]string{"HELLO_CONNECT_ALL": "false"}),
		service(refusedService, nil),
	}
}

// boundedExtra is the config of the scenario's clusters (appended to the
// cluster's entry); empty for every other cluster.
func boundedExtra(cluster string) string {
	if cluster == boundedService || cluster == refusedService {
		return fmt.Sprintf("    topology: boundedDegree\n    degree: %d\n", boundedDegree)
	}
	return ""
}

func testBoundedDegree(t *testing.T, e *env) {
	s := e.service(t, boundedService)
	s.scale(t, boundedNodes)
	ips, took := s.convergeOverlay(t, boundedNodes)
	t.Logf("bounded degree %d: %d nodes hold their overlay after %s", boundedDegree, len(ips), took)

	// kill -9 of one VM: the other 11 stay in one component all along
	// (the overlay survives any single failure), and the overlay is whole
	// again once Rancher restarts the container.
	ctx := context.Background()
	_, views, err := s.members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := harness.Members(views)[0]
	rest := slices.DeleteFunc(slices.Clone(ips), func(ip string) bool { return ip == victim.IP })
	watch := keepConnected(rest)
	start := time.Now()
	s.killVM(t, victim)
	after, _ := s.convergeOverlay(t, boundedNodes)
	samples, splits := watch.finish()
	if !slices.Contains(after, victim.IP) {
		t.Errorf("the restarted container %s is not a member: %v", victim.IP, after)
	}
	if len(splits) > 0 {
		t.Errorf("the other nodes split while %s was down:\n%s", victim.IP, lines(splits))
	}
	t.Logf("kill -9 of %s: the overlay was whole again %s after the kill; the other 11 stayed connected (%d samples)",
		victim.IP, time.Since(start), samples)

	// Scale down: 5 of 12 stop (SIGTERM) at once; the other 7 settle to
	// their own overlay. Nodes that stop by themselves leave at once, so
	// the others may be apart for the moment until the controller links
	// them: counted, not a failure.
	_, views, err = s.members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members := harness.Members(views)
	slices.SortFunc(members, func(a, b ranchersim.ContainerView) int { return int(a.CreateIndex - b.CreateIndex) })
	var stay []string
	for _, m := range members[:7] { // the simulator, like Cattle, stops the highest create indexes
		stay = append(stay, m.IP)
	}
	watch = keepConnected(stay)
	s.scale(t, 7)
	left, took := s.convergeOverlay(t, 7)
	samples, splits = watch.finish()
	t.Logf("scale %d -> 7: %v hold their overlay after %s; %d of %d samples saw the staying nodes apart",
		boundedNodes, left, took, len(splits), samples)

	testRefused(t, e)
}

// testRefused runs a bounded cluster whose nodes keep connect_all true:
// the controller refuses them peers, says why, and logs each refusal once.
func testRefused(t *testing.T, e *env) {
	s := e.service(t, refusedService)
	s.scale(t, 2)
	ctx := context.Background()
	var ips []string
	err := harness.Eventually(ctx, convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		var err error
		if ips, _, err = s.members(ctx); err != nil {
			return err
		}
		if len(ips) != 2 {
			return fmt.Errorf("members %v, want 2", ips)
		}
		r, err := ops.FetchReport(ctx, http.DefaultClient, e.controller().OpsURL)
		if err != nil {
			return err
		}
		cs, ok := r.Status.Cluster(refusedService)
		if !ok {
			return fmt.Errorf("no status for %s", refusedService)
		}
		refused := 0
		for _, n := range cs.Nodes {
			if n.Refused {
				refused++
			}
		}
		c, _ := reconcile.FindCondition(cs.Conditions, reconcile.ConditionConverged)
		if refused != 2 || c.Reason != reconcile.ReasonConnectAllEnabled || !strings.Contains(c.Message, "-kernel connect_all false") {
			return fmt.Errorf("%d nodes refused, Converged %+v", refused, c)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the connect_all true nodes were not refused: %v", err)
	}
	time.Sleep(2 * driftInterval) // two drift passes more: a window, not a wait for a condition
	for _, ip := range ips {
		st, err := harness.AgentStatus(ctx, ip)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Flags.ConnectAll || len(st.Managed) != 0 || len(st.Connected) != 0 || st.Revision != 0 {
			t.Errorf("%s: connect_all %v, managed %v, connected %v, revision %d; want no peer set at all",
				ip, st.Flags.ConnectAll, st.Managed, st.Connected, st.Revision)
		}
	}
	log := e.controller().Log()
	for _, ip := range ips {
		if n := countLines(log, "refusing a bounded topology", "node="+harness.NodeName(ip)+" "); n != 1 {
			t.Errorf("the refusal of %s is logged %d times, want once", ip, n)
		}
	}
	t.Logf("connect_all true under boundedDegree: %v refused, no peers pushed, logged once each", ips)
}

func countLines(log string, subs ...string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(l, s) }) {
			n++
		}
	}
	return n
}

// overlayOf is what every member must see: its overlay peers among ips.
func overlayOf(ips []string) map[string][]string {
	names := make([]mesh.NodeName, len(ips))
	for i, ip := range ips {
		names[i] = mesh.NodeName(harness.NodeName(ip))
	}
	o := reconcile.BoundedDegree(names, boundedDegree)
	want := map[string][]string{}
	for _, ip := range ips {
		want[ip] = o[mesh.NodeName(harness.NodeName(ip))].Strings()
	}
	return want
}

// convergeOverlay waits until the service has want members and every
// member's agent reports exactly its overlay peers, then checks nodes()
// inside every VM: each is the node's overlay, the union graph of the
// views is connected, symmetric and within the degree.
func (s *svc) convergeOverlay(t *testing.T, want int) ([]string, time.Duration) {
	t.Helper()
	ips, took := s.awaitMesh(t, want, 0, overlayOf)
	err := harness.Eventually(context.Background(), convergeTimeout, time.Second, func(ctx context.Context) error {
		views, err := vmViews(ctx, s.e.build.Release, ips)
		if err != nil {
			return err
		}
		return checkUnion(views, overlayOf(ips))
	})
	if err != nil {
		t.Fatalf("%s: nodes() inside the VMs: %v", s.ref.Service, err)
	}
	return ips, took
}

// vmViews reads nodes() inside every VM of ips, rpcParallel at a time.
func vmViews(ctx context.Context, release string, ips []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ips))
	var mu sync.Mutex
	var errs []string
	sem := make(chan struct{}, rpcParallel)
	var wg sync.WaitGroup
	for _, ip := range ips {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := harness.RPCView(release)(ctx, ip)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", ip, err))
				return
			}
			out[ip] = got
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("rpc: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// checkUnion checks the nodes' own views: each equals its overlay peers,
// every link is seen from both ends, no node exceeds the degree, and the
// union graph is connected.
func checkUnion(views, want map[string][]string) error {
	var bad []string
	adj := map[string][]string{}
	for ip, got := range views {
		if !slices.Equal(got, want[ip]) {
			bad = append(bad, fmt.Sprintf("%s sees %v, want %v", ip, got, want[ip]))
		}
		if len(got) > boundedDegree {
			bad = append(bad, fmt.Sprintf("%s holds %d peers, above degree %d", ip, len(got), boundedDegree))
		}
		for _, p := range got {
			peerIP := strings.TrimPrefix(p, "hello@")
			if !slices.Contains(views[peerIP], harness.NodeName(ip)) {
				bad = append(bad, fmt.Sprintf("%s sees %s, but not the other way round", ip, p))
			}
			adj[ip] = append(adj[ip], peerIP)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	if !together(adj, keys(views)) {
		return fmt.Errorf("the union of the nodes' views is not connected: %v", views)
	}
	return nil
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// together reports whether all of nodes are in one component of adj.
func together(adj map[string][]string, nodes []string) bool {
	if len(nodes) == 0 {
		return true
	}
	seen := map[string]bool{nodes[0]: true}
	queue := []string{nodes[0]}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range adj[v] {
			if !seen[w] {
				seen[w] = true
				queue = append(queue, w)
			}
		}
	}
	for _, n := range nodes {
		if !seen[n] {
			return false
		}
	}
	return true
}

// keepConnected starts sampling the nodes of ips: each sample in which
// they are not in one component of the union of their views (or one
// cannot be read) is recorded as lost.
func keepConnected(ips []string) *sampler {
	return startSampler(func(s *sampler) {
		adj := map[string][]string{}
		var failed []string
		for _, ip := range ips {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			got, err := harness.StatusView(ctx, ip)
			cancel()
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", ip, err))
				continue
			}
			for _, p := range got {
				adj[ip] = append(adj[ip], strings.TrimPrefix(p, "hello@"))
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.samples++
		switch {
		case len(failed) > 0:
			s.lost = append(s.lost, time.Now().Format("15:04:05.000")+" "+strings.Join(failed, "; "))
		case !together(adj, ips):
			s.lost = append(s.lost, fmt.Sprintf("%s apart: %v", time.Now().Format("15:04:05.000"), adj))
		}
	})
}
