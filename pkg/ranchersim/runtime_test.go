package ranchersim_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/looplock"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// TestMain lets the test binary play a container's process for
// ExecRuntime: an HTTP agent on CONTAINER_IP:4001.
func TestMain(m *testing.M) {
	switch os.Getenv("RANCHERTEST_HELPER") {
	case "agent":
		runAgent()
		return
	case "tls-client":
		runTLSClient()
		return
	}
	// The tests' containers bind 127.42.0.0/16 (docs/simulator.md): hold
	// it so that another test process using it waits.
	os.Exit(looplock.Run(m, "127.42"))
}

func runAgent() {
	if dir := os.Getenv("PID_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, os.Getenv("CONTAINER_ID")), []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	if os.Getenv("IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	status := http.StatusOK
	if os.Getenv("HEALTH") == "fail" {
		status = http.StatusInternalServerError
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/health", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprintln(w, os.Getenv("CONTAINER_NAME"), os.Getenv("STACK_NAME"), os.Getenv("SERVICE_NAME"))
	})
	err := http.ListenAndServe(os.Getenv("CONTAINER_IP")+":4001", mux)
	fmt.Fprintln(os.Stderr, "agent:", err)
	os.Exit(3)
}

// execSim starts a simulator whose containers are helper agents.
func execSim(t *testing.T, scale int, env map[string]string, opts ranchersim.Options,
	tune ...func(*ranchersim.HealthCheck)) (*ranchersim.Sim, string) {
	t.Helper()
	pidDir := t.TempDir()
	all := map[string]string{"RANCHERTEST_HELPER": "agent", "PID_DIR": pidDir}
	for k, v := range env {
		all[k] = v
	}
	opts.Runtime = &ranchersim.ExecRuntime{Command: []string{os.Args[0], "-test.run=^$"}}
	// Real processes bind their IPs: a /24 of its own keeps this test
	// apart from other simulators running at the same time.
	opts.IPRange = fmt.Sprintf("127.%d.%d.0/24", 100+rand.IntN(100), rand.IntN(256))
	s := ranchertest.NewServer(t, opts)
	if _, err := s.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	hc := fastHealth()
	hc.Interval = 100
	for _, f := range tune {
		f(hc)
	}
	if _, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: scale,
		Environment: all, HealthCheck: hc, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	return s, pidDir
}

func pidOf(t *testing.T, dir, id string) int {
	t.Helper()
	var pid int
	eventually(t, 30*time.Second, "pid file of "+id, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, id))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestExecRuntimeRealHealthChecksAndDeath(t *testing.T) {
	s, pids := execSim(t, 2, nil, ranchersim.Options{})
	settle(t, s)
	vs := s.Containers("demo", "hello")
	if states(vs)["running/healthy"] != 2 {
		t.Fatalf("%+v", vs)
	}
	// The process dies by itself: a Docker die event, then a restart.
	first := pidOf(t, pids, vs[0].ID)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "restart after death", func() bool {
		v := s.Containers("demo", "hello")[0]
		return v.StartCount == 2 && v.State == "running" && v.HealthState == "healthy"
	})
	if pidOf(t, pids, vs[0].ID) == first {
		t.Fatal("same process after restart")
	}
	// KillContainer kills the process through the runtime.
	second := pidOf(t, pids, vs[1].ID)
	if err := s.KillContainer(vs[1].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "killed process gone", func() bool { return !alive(second) })
	settle(t, s)
	if v := s.Containers("demo", "hello")[1]; v.StartCount != 2 || v.HealthState != "healthy" {
		t.Fatalf("after KillContainer %+v", v)
	}
}

func TestExecRuntimeUnhealthyNodeIsRecreated(t *testing.T) {
	// A node that never passes stays initializing until the timeout, then
	// it is removed and replaced (HealthcheckCleanupMonitor).
	s, _ := execSim(t, 1, map[string]string{"HEALTH": "fail"}, ranchersim.Options{},
		func(hc *ranchersim.HealthCheck) { hc.InitializingTimeout = 300 })
	eventually(t, 60*time.Second, "a replacement", func() bool {
		vs := s.Containers("demo", "hello")
		return len(vs) >= 2 && vs[0].State == "removed"
	})
}

func TestExecRuntimeStopEscalatesToSIGKILL(t *testing.T) {
	s, pids := execSim(t, 1, map[string]string{"IGNORE_TERM": "1"},
		ranchersim.Options{StopTimeout: 200 * time.Millisecond})
	settle(t, s)
	v := s.Containers("demo", "hello")[0]
	pid := pidOf(t, pids, v.ID)
	if err := s.Scale("demo", "hello", 0); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if alive(pid) {
		t.Fatal("process survived removal")
	}
	if got := s.Containers("demo", "hello")[0].State; got != "removed" {
		t.Fatalf("state %s", got)
	}
}

func TestExecRuntimeProcessesStopWhenTheTestEnds(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		s, pids := execSim(t, 1, nil, ranchersim.Options{})
		settle(t, s)
		pid = pidOf(t, pids, s.Containers("demo", "hello")[0].ID)
	})
	if alive(pid) {
		t.Fatal("container process outlived the simulator")
	}
}
