package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/reconcile"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

// Tests of what changes while the controller runs: label-defined
// clusters, reloads of the config file, the standby, explain. Each runs
// the controller's command against the in-process simulator, whose
// containers are in-process Go agents (127.44.0.0/16, as wire_test).

// liveWorld is a simulator, its agents, and a running controller.
type liveWorld struct {
	t      *testing.T
	sim    *ranchersim.Sim
	rt     *simruntime.Runtime
	path   string
	base   string
	vars   func(string) (string, bool)
	stderr *syncBuffer
	stop   func()
}

// syncBuffer is a bytes.Buffer safe for the controller's log writer and
// the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLiveWorld starts a simulator with stack demo and the given services,
// writes cfg and starts the controller with extra flags.
func newLiveWorld(t *testing.T, services []ranchersim.ServiceSpec, cfg string, flags ...string) *liveWorld {
	t.Helper()
	rt, err := simruntime.New(simruntime.Options{Token: "node-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	sim := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.44.0.0/16", Runtime: simRuntime{rt}, StepDelay: 5 * time.Millisecond,
		Tick: 100 * time.Millisecond})
	if _, err := sim.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		s.StartOnCreate = true
		if _, err := sim.CreateService("demo", s); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sim.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
	w := &liveWorld{t: t, sim: sim, rt: rt, path: filepath.Join(t.TempDir(), "config.yaml"), stderr: &syncBuffer{}}
	w.write(cfg)
	w.vars = env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(),
		"CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"})
	addr := freeAddr(t)
	w.base = "http://" + addr
	o, err := parseOptions(append([]string{"--config", w.path, "--listen", addr, "--config-poll", "50ms", "-v", "1"}, flags...), w.vars, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.command(runCtx, o, io.Discard, w.stderr) }()
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("controller returned %v", err)
			}
		})
	}
	t.Cleanup(func() {
		w.stop()
		if t.Failed() {
			t.Logf("controller log:\n%s", tailString(w.stderr.String(), 8000))
		}
	})
	testwait.Eventually(t, 0, "the controller's first pass", func() bool { return w.status().Passes > 0 })
	return w
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// write replaces the config file as an editor does: a new file renamed
// over the old one.
func (w *liveWorld) write(cfg string) {
	w.t.Helper()
	tmp := w.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(tmp, w.path); err != nil {
		w.t.Fatal(err)
	}
}

func (w *liveWorld) status() reconcile.Status {
	r, err := ops.FetchReport(context.Background(), &http.Client{Timeout: 10 * time.Second}, w.base)
	if err != nil {
		return reconcile.Status{}
	}
	return r.Status
}

// meshed reports whether the running containers of a service are each
// connected to exactly the others (and want more than none).
func (w *liveWorld) meshed(service string, want int) bool {
	var names []string
	for _, c := range w.sim.Containers("demo", service) {
		if c.State != "running" {
			continue
		}
		n, ok := w.rt.Node(c.ID)
		if !ok {
			return false
		}
		names = append(names, n)
	}
	if len(names) != want {
		return false
	}
	for _, n := range names {
		if len(w.rt.Mesh().Connected(n)) != want-1 {
			return false
		}
	}
	return true
}

// connections is every node of a service with its connections.
func (w *liveWorld) connections(service string) map[string]int {
	out := map[string]int{}
	for _, c := range w.sim.Containers("demo", service) {
		if n, ok := w.rt.Node(c.ID); ok && c.State == "running" {
			out[n] = len(w.rt.Mesh().Connected(n))
		}
	}
	return out
}

const labelsOnlyConfig = `apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: live}
spec:
  defaults:
    admin: {token: {fromEnv: NODE_TOKEN}}
`

func TestLabelledServiceJoinsWithoutRestart(t *testing.T) {
	w := newLiveWorld(t, []ranchersim.ServiceSpec{
		{Name: "worker", Scale: 0, Labels: map[string]string{config.LabelCluster: "work"}},
		{Name: "typo", Scale: 1, Labels: map[string]string{config.LabelCluster: "typo", config.LabelAdminPort: "http"}},
	}, labelsOnlyConfig)
	if err := w.sim.Scale("demo", "worker", 3); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "the labelled service's 3 containers meshed", func() bool { return w.meshed("worker", 3) })
	st := w.status()
	c, ok := st.Cluster("demo/work")
	if !ok || c.Source != reconcile.SourceLabels || c.Members != 3 {
		t.Fatalf("cluster demo/work in the status: %+v (found %v)", c, ok)
	}
	bad, _ := reconcile.FindCondition(st.Conditions, reconcile.ConditionLabelsInvalid)
	if bad.Status != reconcile.ConditionTrue || !strings.Contains(bad.Message, `service demo/typo: label io.drover.admin.port: "http" must be a port number`) {
		t.Errorf("LabelsInvalid %+v", bad)
	}
	if n := strings.Count(w.stderr.String(), `label io.drover.admin.port: \"http\"`); n != 1 {
		t.Errorf("the label problem is logged %d times, want once", n)
	}
}

const twoClustersConfig = `apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: live}
spec:
  defaults:
    admin: {token: {fromEnv: NODE_TOKEN}}
  clusters:
  - {name: hello, stack: demo, services: [hello]}
`

func TestReloadAppliesGoodFilesAndKeepsTheLastGoodOne(t *testing.T) {
	w := newLiveWorld(t, []ranchersim.ServiceSpec{{Name: "hello", Scale: 2}, {Name: "other", Scale: 2}}, twoClustersConfig)
	testwait.Eventually(t, 0, "hello meshed", func() bool { return w.meshed("hello", 2) })
	if w.meshed("other", 2) {
		t.Fatal("a cluster that is not configured is meshed")
	}

	w.write(twoClustersConfig + "  - {name: other, stack: demo, services: [other]}\n")
	testwait.Eventually(t, 0, "the added cluster meshed without a restart", func() bool { return w.meshed("other", 2) })

	w.write("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: live}\nspec:\n  clusters:\n  - {name: hello, stack: demo, services: [hello], admin: {port: 99999}}\n")
	testwait.Eventually(t, 0, "ConfigInvalid", func() bool {
		c, _ := reconcile.FindCondition(w.status().Conditions, reconcile.ConditionConfigInvalid)
		return c.Status == reconcile.ConditionTrue
	})
	st := w.status()
	for _, cs := range st.Clusters {
		c, _ := reconcile.FindCondition(cs.Conditions, reconcile.ConditionConfigInvalid)
		if c.Status != reconcile.ConditionTrue || !strings.Contains(c.Message, "admin.port: must be between 1 and 65535") ||
			!strings.Contains(c.Message, "admin.token: is required") {
			t.Errorf("cluster %s: ConfigInvalid %+v, want every error", cs.Name, c)
		}
		if cs.Unmanaged {
			t.Errorf("a bad file unmanaged cluster %s", cs.Name)
		}
	}
	if len(st.Config.Errors) < 2 || st.Config.Failed != 1 {
		t.Errorf("config status %+v", st.Config)
	}
	time.Sleep(300 * time.Millisecond) // several polls of the same bad file; not a threshold
	if n := strings.Count(w.stderr.String(), "config reload failed"); n != 1 {
		t.Errorf("the bad file is logged %d times, want once", n)
	}
	_, metrics := get(w.base + "/metrics")
	for _, want := range []string{`drover_config_reloads_total{result="error"} 1`, `drover_config_reloads_total{result="ok"} 1`,
		"drover_config_last_reload_successful 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	testwait.Eventually(t, 0, "/readyz: ready, with the failed reload noted", func() bool {
		code, body := get(w.base + "/readyz")
		return code == http.StatusOK && strings.Contains(body, "config: the last reload failed")
	})
	if !w.meshed("hello", 2) || !w.meshed("other", 2) {
		t.Errorf("a bad file changed the mesh: %v %v", w.connections("hello"), w.connections("other"))
	}

	// A good file without "other": it is left as it is, unmanaged.
	w.write(twoClustersConfig)
	testwait.Eventually(t, 0, "other unmanaged", func() bool { c, _ := w.status().Cluster("other"); return c.Unmanaged })
	if c, _ := reconcile.FindCondition(w.status().Conditions, reconcile.ConditionConfigInvalid); c.Status != reconcile.ConditionFalse {
		t.Errorf("a good file left ConfigInvalid %+v", c)
	}
	if err := w.sim.Scale("demo", "other", 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.sim.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // passes run; none may touch other's nodes; not a threshold
	nc, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return "node-token" }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.sim.Containers("demo", "other") {
		if c.State != "running" {
			continue
		}
		st, err := nc.Status(context.Background(), mesh.Endpoint{Cluster: "other", URL: w.rt.URL(c.IP)})
		if err != nil || len(st.Managed) != 1 {
			t.Errorf("%s of the removed cluster manages %v (%v): the controller changed it after the scale-down", c.IP, st.Managed, err)
		}
	}
	log := w.stderr.String()
	_, after, found := strings.Cut(log, "reason=LeftConfiguration")
	if !found {
		t.Fatal("no LeftConfiguration in the log")
	}
	for _, line := range strings.Split(after, "\n") {
		if strings.Contains(line, "cluster=other") && (strings.Contains(line, `msg="pushed peers"`) || strings.Contains(line, `msg="told node to leave"`)) {
			t.Errorf("the controller changed a node of the removed cluster: %s", line)
		}
	}
}

func TestRestartNeededNamesTheSettings(t *testing.T) {
	load := func(yaml string) *config.File {
		f, err := config.Load([]byte("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: x}\nspec:\n" + yaml +
			"  clusters:\n  - {name: a, stack: s, services: [a], admin: {token: {fromEnv: T}}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	running := load("  controller: {announce: {listen: ':4100', token: {fromEnv: A}}}\n")
	got := restartNeeded(running, load("  controller: {driftInterval: 5s, announce: {listen: ':4200', token: {fromEnv: B}}}\n"))
	want := []string{"spec.controller.driftInterval: running 10s, the file says 5s",
		`spec.controller.announce.listen: running ":4100", the file says ":4200"`, "spec.controller.announce.token: changed"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("restartNeeded = %q, want %q", got, want)
	}
	if got := restartNeeded(running, running); len(got) != 0 {
		t.Errorf("the same file needs a restart for %q", got)
	}
}

const helloConfig = `apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: live}
spec:
  clusters:
  - {name: hello, stack: demo, services: [hello], admin: {token: {fromEnv: NODE_TOKEN}}}
`

func TestStandbyPushesNothingThenTakesOver(t *testing.T) {
	ctlService := ranchersim.ServiceSpec{Name: "drover", Scale: 2,
		HealthCheck: &ranchersim.HealthCheck{Port: 4001, Interval: 100, ResponseTimeout: 100, HealthyThreshold: 1, UnhealthyThreshold: 1, Strategy: "none"}}
	w := newLiveWorld(t, []ranchersim.ServiceSpec{{Name: "hello", Scale: 2}, ctlService}, helloConfig,
		"--leader-election", "rancher", "--self-container", "demo/drover/demo-drover-2")
	testwait.Eventually(t, 0, "a standby", func() bool {
		return w.status().Leadership.Role == reconcile.RoleStandby && w.status().Leadership.Holder != ""
	})
	testwait.Eventually(t, 0, "the standby's plan", func() bool {
		c, ok := w.status().Cluster("hello")
		return ok && len(c.Nodes) == 2 && c.Nodes[0].Plan != nil && c.Nodes[0].Plan.NotSentBecause == reconcile.RoleStandby
	})
	if got := w.connections("hello"); len(got) != 2 || got[w.nodeOf("hello", 0)] != 0 {
		t.Fatalf("the standby changed nodes: %v", got)
	}
	testwait.Eventually(t, 0, "/readyz of the standby: ready, as standby", func() bool {
		code, body := get(w.base + "/readyz")
		return code == http.StatusOK && strings.Contains(body, "standby: demo-drover-1 leads")
	})
	if _, metrics := get(w.base + "/metrics"); !strings.Contains(metrics, "drover_leader 0") {
		t.Error("/metrics: drover_leader is not 0 on the standby")
	}

	leader := w.sim.Containers("demo", "drover")[0]
	start := time.Now()
	if err := w.sim.FailHealth(leader.ID, true); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "the takeover", func() bool { return w.status().Leadership.Role == reconcile.RoleLeader })
	testwait.Eventually(t, 0, "hello meshed by the new leader", func() bool { return w.meshed("hello", 2) })
	t.Logf("takeover: leader and mesh converged %s after the leader turned unhealthy", time.Since(start))
	if l := w.status().Leadership; l.Holder != "demo-drover-2" || !strings.Contains(l.Reason, "lowest createIndex") {
		t.Errorf("leadership after the takeover %+v", l)
	}
	if err := w.sim.FailHealth(leader.ID, false); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "standing by again once the lower createIndex is healthy", func() bool { return w.status().Leadership.Role == reconcile.RoleStandby })
}

// nodeOf is the node name of a service's i-th container.
func (w *liveWorld) nodeOf(service string, i int) string {
	cs := w.sim.Containers("demo", service)
	if i >= len(cs) {
		return ""
	}
	n, _ := w.rt.Node(cs[i].ID)
	return n
}

func TestExplainCommandAgainstARunningController(t *testing.T) {
	w := newLiveWorld(t, []ranchersim.ServiceSpec{{Name: "hello", Scale: 2}}, helloConfig)
	testwait.Eventually(t, 0, "hello meshed", func() bool { return w.meshed("hello", 2) })
	ip := w.sim.Containers("demo", "hello")[0].IP
	var out bytes.Buffer
	testwait.Eventually(t, 0, "explain of a converged member", func() bool {
		out.Reset()
		return run([]string{"explain", ip, "--addr", w.base}, w.vars, &out, &out) == exitOK &&
			strings.Contains(out.String(), "missing links (desired, not connected): none")
	})
	for _, want := range []string{"cluster hello (from the config file; stack demo; services hello; policy sync)",
		"member: yes: state running and health none (no health check) count", "desired peers (1): ", "last push: set-peers ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	code := run([]string{"explain", "--addr", w.base, ip + "9"}, w.vars, &out, &out)
	if code != exitRuntime || !strings.Contains(out.String(), "no such node") || !strings.Contains(out.String(), "closest: "+ip) {
		t.Errorf("explain of an unknown node: exit %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"explain", "--addr", w.base}, w.vars, &out, &out); code != exitUsage || !strings.Contains(out.String(), "explain needs one node") {
		t.Errorf("explain without a node: exit %d:\n%s", code, out.String())
	}
}
