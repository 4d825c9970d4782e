//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/reconcile"
	"github.com/drover-mesh/drover/test/harness"
)

// Scenarios of what changes while the controller runs (issue 16): a
// cluster that labels define, and edits of the config file. The
// controller is the shared one; its process must stay the same.

// status reads the running controller's /status.
func (e *env) status(ctx context.Context) (reconcile.Status, error) {
	r, err := ops.FetchReport(ctx, &http.Client{Timeout: 10 * time.Second}, e.controller().OpsURL)
	return r.Status, err
}

// waitStatus waits until the controller's status satisfies ok.
func (e *env) waitStatus(t *testing.T, what string, ok func(reconcile.Status) error) {
	t.Helper()
	err := harness.Eventually(context.Background(), convergeTimeout, 200*time.Millisecond, func(ctx context.Context) error {
		st, err := e.status(ctx)
		if err != nil {
			return err
		}
		return ok(st)
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// writeConfig replaces the running controller's config file as an editor
// does (a new file renamed over the old one); the controller sees it.
func (e *env) writeConfig(t *testing.T, content string) {
	t.Helper()
	path := e.controller().ConfigPath
	if err := os.WriteFile(path+".new", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// sameProcess fails the test when the controller is not the one that ran
// before the scenario: nothing may need a restart.
func (e *env) sameProcess(t *testing.T, pid int) {
	t.Helper()
	p := e.controller().Process()
	if exited, _ := p.Exited(); exited || p.PID() != pid {
		t.Fatalf("the controller restarted (pid %d, was %d, exited %v)", p.PID(), pid, exited)
	}
}

func testLabelledService(t *testing.T, e *env) {
	pid := e.controller().Process().PID()
	s := e.service(t, "labelled")
	name := e2eStack + "/" + labelledCluster
	for _, n := range []int{3} {
		s.scale(t, n)
		ips, took := s.converge(t, n)
		t.Logf("labelled service 0 -> %d (no config change, no restart): %v converged in %s", n, ips, took)
	}
	e.waitStatus(t, "cluster "+name+" from labels", func(st reconcile.Status) error {
		c, ok := st.Cluster(name)
		if !ok || c.Source != reconcile.SourceLabels || c.Members != 3 {
			return fmt.Errorf("cluster %s: %+v (present %v)", name, c, ok)
		}
		return nil
	})
	e.sameProcess(t, pid)
}

// reloadCluster is the cluster the reload scenario adds to the file.
const reloadCluster = "reload"

func testConfigReload(t *testing.T, e *env) {
	ctx := context.Background()
	pid := e.controller().Process().PID()
	s := e.service(t, reloadCluster)
	original := e.config.YAML()
	t.Cleanup(func() { e.writeConfig(t, original) })
	s.scale(t, 2)
	s.waitTruth(t, "two running, healthy containers", func(views []ranchersim.ContainerView) error {
		if n := len(harness.Members(views)); n != 2 {
			return fmt.Errorf("%d members: %s", n, describe(views))
		}
		return nil
	})
	ips, _, err := s.members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range ips {
		if peers, err := harness.StatusView(ctx, ip); err != nil || len(peers) > 0 {
			t.Fatalf("%s of a service no cluster names has peers %v (%v)", ip, peers, err)
		}
	}

	// An edit that adds the cluster applies without a restart.
	added := e.config
	added.Clusters = append(slices.Clone(added.Clusters), harness.ClusterConfig{Name: reloadCluster, Stack: e2eStack, Services: []string{reloadCluster}})
	start := time.Now()
	e.writeConfig(t, added.YAML())
	ips, _ = s.converge(t, 2)
	t.Logf("config edit adding cluster %s: %v converged %s after the write", reloadCluster, ips, time.Since(start))
	e.sameProcess(t, pid)

	// A broken file keeps the mesh and the configuration in effect.
	e.writeConfig(t, added.YAML()+"  - name: Broken\n    admin: {port: 99999}\n")
	e.waitStatus(t, "ConfigInvalid", func(st reconcile.Status) error {
		c, _ := reconcile.FindCondition(st.Conditions, reconcile.ConditionConfigInvalid)
		if c.Status != reconcile.ConditionTrue {
			return fmt.Errorf("ConfigInvalid %+v", c)
		}
		for _, cs := range st.Clusters {
			if k, _ := reconcile.FindCondition(cs.Conditions, reconcile.ConditionConfigInvalid); !cs.Unmanaged && k.Status != reconcile.ConditionTrue {
				return fmt.Errorf("cluster %s: ConfigInvalid %+v", cs.Name, k)
			}
		}
		return nil
	})
	st, err := e.status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("broken file: ConfigInvalid with %d errors: %s", len(st.Config.Errors), strings.Join(st.Config.Errors, "; "))
	if c, ok := st.Cluster(reloadCluster); !ok || c.Unmanaged {
		t.Errorf("a broken file changed the clusters in effect: %s is %+v", reloadCluster, c)
	}
	if v, err := e.controller().Metric(ctx, "drover_config_reloads_total", map[string]string{"result": "error"}); err != nil || v != 1 {
		t.Errorf("drover_config_reloads_total{result=error} = %v (%v), want 1", v, err)
	}
	s.checkVMs(t, ips)
	e.sameProcess(t, pid)

	// A good file without the cluster: it is left exactly as it is.
	e.writeConfig(t, original)
	e.waitStatus(t, reloadCluster+" unmanaged", func(st reconcile.Status) error {
		c, _ := st.Cluster(reloadCluster)
		if !c.Unmanaged {
			return fmt.Errorf("cluster %s is managed", reloadCluster)
		}
		if k, _ := reconcile.FindCondition(st.Conditions, reconcile.ConditionConfigInvalid); k.Status != reconcile.ConditionFalse {
			return fmt.Errorf("ConfigInvalid %+v after a good file", k)
		}
		return nil
	})
	watch := keepPeers(harness.Expected(ips))
	time.Sleep(2 * driftInterval) // two drift passes run; none may touch the cluster (a window, not a wait)
	samples, lost := watch.finish()
	if len(lost) > 0 || samples == 0 {
		t.Errorf("the removed cluster's nodes lost links (%d samples):\n%s", samples, lines(lost))
	}
	s.checkVMs(t, ips)
	t.Logf("cluster %s removed from the file: its nodes kept their links through two drift passes (%d samples, nodes() checked on each)", reloadCluster, samples)
	e.sameProcess(t, pid)
}
