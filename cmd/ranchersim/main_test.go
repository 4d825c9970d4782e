package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"
)

// sim is a running ranchersim subprocess.
type sim struct {
	lines          map[string]string // "api", "schemas", "access-key", ...
	cmd            *exec.Cmd
	stdout         *safeBuffer
	access, secret string
	done           chan error
	http           *http.Client // for the API and control calls (TLS: trusting the test CA)
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSim builds the command and runs it on free 127.0.0.1 ports.
func startSim(t *testing.T, extra ...string) *sim {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ranchersim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := append([]string{"--api", "127.0.0.1:0", "--metadata", "127.0.0.1:0", "--dns", "127.0.0.1:0",
		"--fixture", "../../config/sim/demo.yaml", "--events", "exact", "--ip-range", "127.42.0.0/16"}, extra...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &safeBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sim{lines: map[string]string{}, cmd: cmd, stdout: &safeBuffer{}, done: make(chan error, 1),
		http: http.DefaultClient}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("ranchersim stderr:\n%s", stderr.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			_, _ = s.stdout.Write([]byte(line + "\n"))
			if line == "ranchersim: ready" {
				once.Do(func() { close(ready) })
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("no ready line; stdout:\n%s\nstderr:\n%s", s.stdout.String(), stderr.String())
	}
	for _, l := range strings.Split(s.stdout.String(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(l, "ranchersim: "), " "); ok {
			s.lines[k] = v
		}
	}
	s.access, s.secret = s.lines["access-key"], s.lines["secret-key"]
	return s
}

func (s *sim) control(t *testing.T, method, name string, body any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.lines["api"]+"/_sim/"+name, rd)
	req.SetBasicAuth(s.access, s.secret)
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, name, resp.StatusCode, b)
	}
	return b
}

// api sends an API request (path under the project) and decodes the
// answer.
func (s *sim) api(t *testing.T, method, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, strings.TrimSuffix(s.lines["schemas"], "/schemas")+path, nil)
	req.SetBasicAuth(s.access, s.secret)
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *sim) settle(t *testing.T) {
	t.Helper()
	s.control(t, http.MethodPost, "wait-settled", map[string]any{"timeoutMillis": 60000})
}

func TestStandaloneSimulatorWithGoRancher(t *testing.T) {
	s := startSim(t, "--step-delay", "5ms")
	for _, k := range []string{"api", "schemas", "access-key", "secret-key", "metadata", "dns"} {
		if s.lines[k] == "" {
			t.Fatalf("no %s line in:\n%s", k, s.stdout.String())
		}
	}
	if !strings.HasSuffix(s.lines["schemas"], "/v2-beta/projects/1a5/schemas") {
		t.Fatalf("schemas line %q", s.lines["schemas"])
	}
	c, err := client.NewRancherClient(&client.ClientOpts{Url: s.lines["schemas"], AccessKey: s.access,
		SecretKey: s.secret, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewRancherClient(&client.ClientOpts{Url: s.lines["schemas"], AccessKey: "no", SecretKey: "no"}); err == nil {
		t.Fatal("wrong keys accepted")
	}
	// Subscribe first, as a controller does, then list and scale.
	schema, _ := c.GetSchemas().CheckSchema("subscribe")
	conn, _, err := c.Websocket(strings.Replace(schema.Links["collection"], "http", "ws", 1)+"?eventNames=resource.change", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	events := make(chan map[string]any, 1000)
	go func() {
		defer close(events)
		for {
			var ev map[string]any
			if err := conn.ReadJSON(&ev); err != nil {
				return
			}
			events <- ev
		}
	}()
	if ev := <-events; ev["name"] != "ping" {
		t.Fatalf("first event %v", ev)
	}
	stacks, err := c.Stack.List(&client.ListOpts{Filters: map[string]interface{}{"name": "demo"}})
	if err != nil || len(stacks.Data) != 1 {
		t.Fatalf("stacks %v %v", stacks, err)
	}
	svcs, err := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"stackId": stacks.Data[0].Id, "name": "hello"}})
	if err != nil || len(svcs.Data) != 1 {
		t.Fatalf("services %v %v", svcs, err)
	}
	svc := &svcs.Data[0]
	page, err := c.Container.List(&client.ListOpts{Filters: map[string]interface{}{"limit": 2, "name_prefix": "demo-hello-"}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(page.Data)
	if page, err = page.Next(); err != nil || page == nil {
		t.Fatalf("Next: %v %v", page, err)
	}
	if n+len(page.Data) != 3 {
		t.Fatalf("paged %d containers, want 3", n+len(page.Data))
	}
	if got, err := c.Container.ById("1i777777"); got != nil || err != nil {
		t.Fatalf("ById unknown: %v %v", got, err)
	}
	if svc, err = c.Service.Update(svc, map[string]interface{}{"scale": 4}); err != nil || svc.Scale != 4 {
		t.Fatalf("update: %v %v", svc, err)
	}
	s.settle(t)
	list, err := c.Container.List(&client.ListOpts{Filters: map[string]interface{}{"state": "running"}})
	if err != nil || len(list.Data) != 4 {
		t.Fatalf("running after scale 4: %d %v", len(list.Data), err)
	}
	inst, err := c.Container.ActionRestart(&list.Data[0])
	if err != nil || inst.Id != list.Data[0].Id {
		t.Fatalf("container restart: %v %v", inst, err)
	}
	s.settle(t)
	svc, _ = c.Service.ById(svc.Id)
	if _, err := c.Service.ActionRestart(svc, &client.ServiceRestart{RollingRestartStrategy: client.RollingRestartStrategy{BatchSize: 2}}); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	// Events decode into the go-rancher structs.
	seen := 0
	deadline := time.After(60 * time.Second)
	for seen < 4 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream closed")
			}
			if ev["resourceType"] != "container" {
				continue
			}
			b, _ := json.Marshal(ev["data"].(map[string]any)["resource"])
			var ct client.Container
			if err := json.Unmarshal(b, &ct); err != nil {
				t.Fatal(err)
			}
			if ct.State == "running" && ct.CreateIndex == 4 {
				seen = 4
			}
		case <-deadline:
			t.Fatal("no running event for the 4th container")
		}
	}
	// Control API: state and requests.
	var views []map[string]any
	_ = json.Unmarshal(s.control(t, http.MethodGet, "containers?stack=demo&service=hello", nil), &views)
	if len(views) != 4 {
		t.Fatalf("control containers %d", len(views))
	}
	var reqs map[string]int
	_ = json.Unmarshal(s.control(t, http.MethodGet, "requests", nil), &reqs)
	if reqs["PUT /services/{id}"] != 1 || reqs["GET /subscribe"] != 1 {
		t.Fatalf("requests %v", reqs)
	}
	// Metadata answers on its own listener.
	resp, err := http.Get(s.lines["metadata"] + "/latest/stacks/demo/services/hello/containers")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(b), "=demo-hello-") != 4 {
		t.Fatalf("metadata containers: %q", b)
	}
}

func TestStandaloneFaultsAndCleanShutdown(t *testing.T) {
	s := startSim(t)
	s.control(t, http.MethodPost, "fault", map[string]any{"kind": "api-status", "code": 503, "durationMillis": 3600000})
	_, err := client.NewRancherClient(&client.ClientOpts{Url: s.lines["schemas"], AccessKey: s.access, SecretKey: s.secret})
	if apiErr := (*client.ApiError)(nil); !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("err %v, want 503", err)
	}
	s.control(t, http.MethodPost, "fault", map[string]any{"kind": "clear"})
	if _, err := client.NewRancherClient(&client.ClientOpts{Url: s.lines["schemas"], AccessKey: s.access, SecretKey: s.secret}); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(s.stdout.String(), "ranchersim: stopped") {
		t.Fatalf("stdout:\n%s", s.stdout.String())
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--events", "sometimes"}, {"--runtime", "exec"}, {"extra"},
		{"--fixture", "/nonexistent.yaml"}, {"--shape", "noContainerServiceRefs,olderThanOld"},
		{"--tls-cert", "cert.pem"}, {"--api-latency", "-1s"}, {"--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"},
		{"--runtime", "exec", "--exec", "/nonexistent/agent --flag"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitUsage {
			t.Errorf("%v: exit %d, stderr %s", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != exitOK || !strings.Contains(errOut.String(), "-fixture") {
		t.Errorf("--help: %d %s", code, errOut.String())
	}
}
