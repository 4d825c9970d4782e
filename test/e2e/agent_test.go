//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
)

// The BEAM agent end to end: real hello releases in network namespaces,
// driven through the Go client, checked with nodes() inside each VM.
// Run as root: go test -tags e2e ./test/e2e/ -run Agent
// Each test uses its own 10.42.2xx.0/24 range so that it can run next to
// other e2e tests.

const agentToken = "e2e-agent-token"

// agentCluster is a set of hello nodes and a client for their agents.
type agentCluster struct {
	nodes  []*helloNode
	client *nodeapi.Client
}

func newAgentCluster(t *testing.T, n, third int, env []string) *agentCluster {
	t.Helper()
	release := buildHello(t)
	meta := serveMetadata(t)
	client, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return agentToken }})
	if err != nil {
		t.Fatal(err)
	}
	c := &agentCluster{client: client}
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("10.42.%d.%d", third, i)
		c.nodes = append(c.nodes, startHello(t, release, ip, helloOptions{Metadata: meta, Token: agentToken, Env: env}))
	}
	return c
}

func endpoint(n *helloNode) mesh.Endpoint {
	return mesh.Endpoint{Cluster: "hello", Node: mesh.NodeName(n.Name), URL: n.URL}
}

func names(nodes []*helloNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}

// push sends every target the peer set of members (itself included, as a
// controller does: the agent ignores its own name), in parallel.
func (c *agentCluster) push(t *testing.T, rev uint64, targets, members []*helloNode) {
	t.Helper()
	set := mesh.NewPeerSet()
	for _, m := range members {
		set = mesh.NewPeerSet(append(set, mesh.NodeName(m.Name))...)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, n := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, errs[i] = c.client.SetPeers(ctx, endpoint(n), rev, set)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pushing revision %d to %s: %v", rev, targets[i].Name, err)
		}
	}
}

// want maps a node to the peers it must see.
type want func(n *helloNode) []string

// othersOf: every member but n; nobody for a node that is not a member.
func othersOf(members []*helloNode) want {
	return func(n *helloNode) []string {
		if !slices.Contains(members, n) {
			return nil
		}
		return slices.DeleteFunc(names(members), func(s string) bool { return s == n.Name })
	}
}

// waitStatus polls every agent's status until connected matches w and
// returns how long that took (the figure the docs quote).
func (c *agentCluster) waitStatus(t *testing.T, w want) time.Duration {
	t.Helper()
	start := time.Now()
	testwait.EventuallyNil(t, 60*time.Second, func() error {
		for _, n := range c.nodes {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			st, err := c.client.Status(ctx, endpoint(n))
			cancel()
			if err != nil {
				return err
			}
			got := slices.Sorted(slices.Values(st.Connected.Strings()))
			if !slices.Equal(got, w(n)) {
				return fmt.Errorf("%s: agent reports %v, want %v", n.Name, got, w(n))
			}
		}
		return nil
	})
	return time.Since(start)
}

// expectVMs checks nodes() inside every VM (rpc), the ground truth.
func (c *agentCluster) expectVMs(t *testing.T, w want) {
	t.Helper()
	testwait.EventuallyNil(t, 60*time.Second, func() error {
		for _, n := range c.nodes {
			got, err := n.nodes(t)
			if err != nil {
				return err
			}
			if !slices.Equal(got, w(n)) && !(len(got) == 0 && len(w(n)) == 0) {
				return fmt.Errorf("%s: nodes() = %v, want %v", n.Name, got, w(n))
			}
		}
		return nil
	})
}

func TestAgentMesh(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name  string
		third int
		env   []string
		// leaveFirst: the removed node leaves (global:disconnect/0) before
		// the others get sets without it. Under prevent_overlapping_partitions
		// a removed node that is still connected reports every lost link
		// to the others, whose global then disconnects healthy pairs: the
		// mesh falls apart (measured; docs/agent.md).
		leaveFirst bool
	}{
		{"otp 25 defaults", 201, nil, true},
		{"connect_all false", 202, []string{"HELLO_CONNECT_ALL=false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) { testAgentMesh(t, tc.third, tc.env, tc.leaveFirst) })
	}
}

func testAgentMesh(t *testing.T, third int, env []string, leaveFirst bool) {
	c := newAgentCluster(t, 5, third, env)
	all := c.nodes

	c.push(t, 1, all, all)
	t.Logf("full mesh of 5: agents report it after %s", c.waitStatus(t, othersOf(all)))
	c.expectVMs(t, othersOf(all))

	// Remove the fifth node: the four others get sets without it, at once.
	four := all[:4]
	if leaveFirst {
		c.leave(t, all[4], 2)
	}
	c.push(t, 2, four, four)
	t.Logf("removal: agents report it after %s", c.waitStatus(t, othersOf(four)))
	c.expectVMs(t, othersOf(four))

	// Back to five, then the third node leaves.
	c.push(t, 3, all, all)
	c.waitStatus(t, othersOf(all))
	leaver := all[2]
	c.leave(t, leaver, 4)
	rest := slices.DeleteFunc(slices.Clone(all), func(n *helloNode) bool { return n == leaver })
	t.Logf("leave: agents report it after %s", c.waitStatus(t, othersOf(rest)))
	c.expectVMs(t, othersOf(rest))
}

// leave makes n leave at rev and checks its answer.
func (c *agentCluster) leave(t *testing.T, n *helloNode, rev uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.client.Leave(ctx, endpoint(n), rev)
	if err != nil {
		t.Fatalf("leave of %s: %v", n.Name, err)
	}
	if !st.Leaving || len(st.Managed) != 0 {
		t.Errorf("after leave of %s: leaving=%v managed=%v, want true and []", n.Name, st.Leaving, st.Managed)
	}
}

// TestAgentConformance runs the protocol's refusal suite against a BEAM
// agent in a meshed node: every refusal leaves the node and its mesh as
// they were.
func TestAgentConformance(t *testing.T) {
	requireRoot(t)
	c := newAgentCluster(t, 2, 203, nil)
	c.push(t, 1, c.nodes, c.nodes)
	c.waitStatus(t, othersOf(c.nodes))
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: c.nodes[0].URL, Token: agentToken})
	c.expectVMs(t, othersOf(c.nodes))
}

// TestAgentHelloBootsFromMetadata boots the release the way the recipe
// does (name from rancher-metadata) and stops it with SIGTERM: the node
// leaves its peers at once and the VM exits well within Docker's 10 s.
func TestAgentHelloBootsFromMetadata(t *testing.T) {
	requireRoot(t)
	c := newAgentCluster(t, 3, 204, nil)
	n := c.nodes[0]
	out, err := n.rpc(t, "IO.puts(node())")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != "hello@10.42.204.1" {
		t.Errorf("node() = %q, want hello@10.42.204.1 (from metadata)", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.client.Status(ctx, endpoint(n))
	if err != nil {
		t.Fatal(err)
	}
	if st.Node != "hello@10.42.204.1" || st.OTPRelease == "" || !st.ConnectAll {
		t.Errorf("status = %+v", st)
	}

	c.push(t, 1, c.nodes, c.nodes)
	c.waitStatus(t, othersOf(c.nodes))
	type result struct {
		took  time.Duration
		clean bool
	}
	stopped := make(chan result, 1)
	go func() {
		took, clean := n.stop(t, 10*time.Second)
		stopped <- result{took, clean}
	}()
	c.nodes = c.nodes[1:]
	t.Logf("SIGTERM: node out of its peers' view after %s", c.waitStatus(t, othersOf(c.nodes)))
	r := <-stopped
	if !r.clean {
		t.Fatalf("the VM did not exit within 10 s of SIGTERM")
	}
	t.Logf("SIGTERM: VM exited after %s", r.took)
	if !strings.Contains(n.log.String(), "left the cluster") {
		t.Errorf("no leave in the node's log:\n%s", n.log)
	}
}
