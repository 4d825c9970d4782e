package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

type simRuntime struct{ *simruntime.Runtime }

func (r simRuntime) Start(ctx context.Context, c ranchersim.ContainerSpec, exited func(error)) error {
	return r.StartContainer(ctx, simruntime.Container{ID: c.ID, Name: c.Name, IP: c.IP, Stack: c.Stack, Service: c.Service}, exited)
}

const testConfig = `apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: test}
spec:
  clusters:
  - name: hello
    stack: demo
    services: [hello]
    admin: {token: {fromEnv: NODE_TOKEN}}
`

// startSim starts a simulator with stack demo, service hello of scale 3,
// each container an in-process agent.
func startSim(t *testing.T) (*ranchersim.Sim, *simruntime.Runtime, string) {
	t.Helper()
	rt, err := simruntime.New(simruntime.Options{Token: "node-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	sim := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.44.0.0/16", Runtime: simRuntime{rt}, StepDelay: 5 * time.Millisecond})
	return sim, rt, seedDemo(t, sim, 3)
}

// seedDemo creates stack demo with service hello of the given scale, waits
// until the simulator settled, and writes testConfig to a file.
func seedDemo(t *testing.T, sim *ranchersim.Sim, scale int) string {
	t.Helper()
	if _, err := sim.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: scale, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sim.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOnceConvergesThenPushesNothing(t *testing.T) {
	sim, rt, path := startSim(t)
	vars := env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(),
		"CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"})
	var out, errb bytes.Buffer
	if code := run([]string{"--once", "--config", path}, vars, &out, &errb); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if n := strings.Count(errb.String(), "pushed peers"); n != 3 {
		t.Errorf("first pass logged %d pushes, want 3:\n%s", n, errb.String())
	}
	for _, c := range sim.Containers("demo", "hello") {
		name, _ := rt.Node(c.ID)
		if got := rt.Mesh().Connected(name); len(got) != 2 {
			t.Errorf("%s connected to %v", name, got)
		}
	}
	errb.Reset()
	if code := run([]string{"--once", "--config", path}, vars, &out, &errb); code != exitOK {
		t.Fatalf("second run: exit %d:\n%s", code, errb.String())
	}
	if strings.Contains(errb.String(), "pushed peers") {
		t.Errorf("second pass pushed:\n%s", errb.String())
	}
	if strings.Contains(errb.String(), "node-token") || strings.Contains(errb.String(), sim.SecretKey()) {
		t.Errorf("a secret leaked into the log")
	}
}

func TestDryRunPushesNothing(t *testing.T) {
	sim, rt, path := startSim(t)
	vars := env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(),
		"CATTLE_SECRET_KEY": sim.SecretKey(), "NODE_TOKEN": "node-token"})
	var out, errb bytes.Buffer
	if code := run([]string{"--once", "--dry-run", "--config", path}, vars, &out, &errb); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if n := strings.Count(errb.String(), "dry run: would change node"); n != 3 {
		t.Errorf("dry run logged %d planned changes, want 3:\n%s", n, errb.String())
	}
	for _, c := range sim.Containers("demo", "hello") {
		name, _ := rt.Node(c.ID)
		if got := rt.Mesh().Connected(name); len(got) != 0 {
			t.Errorf("dry run connected %s to %v", name, got)
		}
	}
}

func TestBadRancherKeyExitsOneWithOneMessage(t *testing.T) {
	sim, _, path := startSim(t)
	vars := env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(),
		"CATTLE_SECRET_KEY": "wrong-secret", "NODE_TOKEN": "node-token"})
	var out, errb bytes.Buffer
	if code := run([]string{"--listen", "", "--config", path}, vars, &out, &errb); code != exitRuntime {
		t.Fatalf("exit %d, want %d:\n%s", code, exitRuntime, errb.String())
	}
	if n := strings.Count(errb.String(), "controller: "); n != 1 || strings.Contains(errb.String(), "wrong-secret") {
		t.Errorf("want one message without the secret:\n%s", errb.String())
	}
}

func TestMissingNodeTokenIsAUsageError(t *testing.T) {
	sim, _, path := startSim(t)
	vars := env(map[string]string{"CATTLE_URL": sim.URL(), "CATTLE_ACCESS_KEY": sim.AccessKey(), "CATTLE_SECRET_KEY": sim.SecretKey()})
	var out, errb bytes.Buffer
	if code := run([]string{"--once", "--config", path}, vars, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "NODE_TOKEN") {
		t.Errorf("exit %d, want 2 naming NODE_TOKEN:\n%s", code, errb.String())
	}
}
