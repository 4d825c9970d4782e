package ops

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// explainStatus is sampleStatus with what explain reads: the clusters'
// origin and rule, the nodes' containers, a held node, a standby's plan, a
// backoff, an unmanaged cluster.
func explainStatus() reconcile.Status {
	st := sampleStatus()
	hello := &st.Clusters[0]
	hello.Source, hello.Stack, hello.Services, hello.Labelled = reconcile.SourceFile, "demo", []string{"hello", "worker"}, []string{"worker"}
	hello.Membership = config.Membership{States: []string{"running"}, HealthStates: []string{"healthy", "updating-healthy", ""}}
	for i := range hello.Nodes {
		n := &hello.Nodes[i]
		n.ContainerName = "demo-hello-" + string(rune('1'+i))
		n.ContainerID = "1i" + string(rune('2'+i))
		n.Service = "hello"
		n.IP = strings.TrimPrefix(string(n.Node), "hello@")
	}
	a := &hello.Nodes[0]
	a.Observed.Failed = map[mesh.NodeName]string{nodeC: "connect failed: timeout"}
	a.BackoffUntil = fixedNow().Add(4 * time.Second)
	a.Plan = &reconcile.PlannedChange{Action: reconcile.ActionSetPeers, Reason: reconcile.ReasonPeersChanged, Revision: 9,
		Peers: mesh.NewPeerSet(nodeB, nodeC), Added: mesh.NewPeerSet(nodeC), NotSentBecause: reconcile.RoleStandby}
	a.Conditions = append(a.Conditions, reconcile.Condition{Type: reconcile.ConditionDegraded, Status: "True", Reason: "BackingOff", Message: "calls held back"})
	c := &hello.Nodes[2]
	c.Held = true
	st.Leadership = reconcile.LeadershipStatus{Role: reconcile.RoleStandby, Self: "drover-drover-2", Holder: "drover-drover-1",
		Reason: "drover-drover-1 has the lowest createIndex", Since: fixedNow().Add(-time.Hour)}
	st.Conditions = []reconcile.Condition{{Type: reconcile.ConditionConfigInvalid, Status: "True", Reason: "ReloadFailed",
		Message: "spec.clusters[0].admin.port: must be between 1 and 65535"}}
	gone := reconcile.ClusterStatus{Name: "prod/app", Source: reconcile.SourceLabels, Stack: "prod", Services: []string{"app"},
		Unmanaged: true, UnmanagedSince: fixedNow().Add(-10 * time.Minute),
		Membership: config.Membership{States: []string{"running"}, HealthStates: []string{"healthy"}},
		Nodes:      []reconcile.NodeStatus{{Node: "app@10.42.9.9", IP: "10.42.9.9", State: "running", HealthState: "healthy", Member: true}}}
	st.Clusters = append(st.Clusters, gone)
	return st
}

func TestExplainSaysWhyANodeIsOrIsNotAMember(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"a member, by node name, with what it lacks", string(nodeA), []string{
			"node hello@127.42.0.2: cluster hello (from the config file; stack demo; services hello, worker; joined by label: worker; policy sync)\n",
			"  container: demo-hello-1 (1i2), service hello, IP 127.42.0.2, state running, health healthy\n",
			"  member: yes: state running and health healthy count under the cluster's rule\n",
			"  rule: state in [running] and health in [healthy, updating-healthy, none]\n",
			"  desired peers (2): hello@127.42.0.3, hello@127.42.0.4\n",
			"    connected (2): hello@127.42.0.3, hello@127.42.0.5\n",
			"    managed (2): hello@127.42.0.3, hello@127.42.0.4\n",
			"  missing links (desired, not connected): hello@127.42.0.4\n",
			"  extra links (connected, not desired): hello@127.42.0.5\n",
			"    connect to hello@127.42.0.4 failed: connect failed: timeout\n",
			"  last push: set-peers ok, revision 7, reason -, 3s ago, took 600µs\n",
			"  planned, not sent (standby): set-peers revision 9, reason peers-changed, peers (2) hello@127.42.0.3, hello@127.42.0.4; adds hello@127.42.0.4; removes none\n",
			"  backoff: calls held back after failures until 2024-05-01T12:00:04Z (in 4s)\n",
			"  node conditions: Ready=False (Pending), Converged=False (Pending), Degraded=False, Degraded=True (BackingOff: calls held back)\n",
			"  cluster Ready: NodesPending\n",
			"role: standby since 60m ago (this controller drover-drover-2, leader drover-drover-1): drover-drover-1 has the lowest createIndex\n",
			"this controller stands by",
			"controller ConfigInvalid: ReloadFailed: spec.clusters[0].admin.port: must be between 1 and 65535\n",
		}},
		{"a container that is not healthy, by IP", "127.42.0.6", []string{
			"node hello@127.42.0.6: cluster hello",
			"  member: no: its health unhealthy is not one of [healthy, updating-healthy, none] (a new container is a member once Rancher's health check says healthy)\n",
			"  observed: the node never answered a status read",
			"  last push: none since the controller started\n",
		}},
		{"a stopping container, by container name", "demo-hello-4", []string{
			"node hello@127.42.0.5:",
			"  member: no: its state stopping is not one of [running]; it is told to leave while it holds peers, and its peers drop it\n",
			"  last push: leave ok, revision 8",
			"  observed: revision 7, leaving yes, OTP 25, connect_all true\n",
		}},
		{"a held removal, by container id", "1i4", []string{
			"node hello@127.42.0.4:",
			"  member: held: Rancher no longer reports it a member, but more than maxDropPercent",
		}},
		{"a node of an unmanaged cluster", "10.42.9.9", []string{
			"node app@10.42.9.9: cluster prod/app (defined by the io.drover.cluster labels of its services; stack prod; services app; policy -)\n",
			"  the cluster is UNMANAGED since 10m ago: it left the configuration",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Explain(&b, Report{Status: explainStatus(), Ready: true}, tt.query, fixedNow()); err != nil {
				t.Fatal(err)
			}
			if missing := containsAll(b.String(), tt.want...); len(missing) > 0 {
				t.Errorf("the explanation lacks %q; got:\n%s", missing, b.String())
			}
		})
	}
}

func TestExplainAnUnknownNodeNamesTheClosest(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"hello@127.42.0.7", []string{`"hello@127.42.0.7": no such node among the 7 nodes`, "closest: hello@127.42.0.2, hello@127.42.0.3, hello@127.42.0.4, hello@127.42.0.5, hello@127.42.0.6"}},
		{"demo-helo-1", []string{"closest: demo-hello-1"}},
		{"127.42.0", []string{"closest: 127.42.0.2, 127.42.0.3"}},
		{"127.42.0.9", []string{"(a container without an IP", "closest: 127.42.0.2"}},
		{"zzzzzzzzzzzzzzzz", []string{"no such node", "give a node name"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var b strings.Builder
			err := Explain(&b, Report{Status: explainStatus()}, tt.query, fixedNow())
			if err == nil {
				t.Fatalf("explained %q:\n%s", tt.query, b.String())
			}
			if b.Len() > 0 {
				t.Errorf("printed %q for an unknown node", b.String())
			}
			if !errors.Is(err, ErrUnknownNode) {
				t.Errorf("error %v does not wrap ErrUnknownNode", err)
			}
			if missing := containsAll(err.Error(), tt.want...); len(missing) > 0 {
				t.Errorf("error %q lacks %q", err, missing)
			}
		})
	}
}
