package ranchersim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// settleTimeout is generous: the machine may be loaded.
const settleTimeout = 60 * time.Second

func settle(t *testing.T, s *ranchersim.Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := s.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
}

// newClient builds the unmodified go-rancher v2 client from a URL.
func newClient(t *testing.T, s *ranchersim.Sim, url string) *client.RancherClient {
	t.Helper()
	c, err := client.NewRancherClient(&client.ClientOpts{
		Url: url, AccessKey: s.AccessKey(), SecretKey: s.SecretKey(), Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("NewRancherClient(%s): %v", url, err)
	}
	return c
}

// demo starts a simulator with stack demo and service hello at scale.
func demo(t *testing.T, opts ranchersim.Options, scale int, hc *ranchersim.HealthCheck) *ranchersim.Sim {
	t.Helper()
	if opts.IPRange == "" {
		opts.IPRange = "127.42.0.0/16"
	}
	s := ranchertest.NewServer(t, opts)
	if _, err := s.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: scale,
		Labels: map[string]string{"app": "hello"}, HealthCheck: hc, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	return s
}

// fastHealth is a health check that passes quickly with NoopRuntime.
func fastHealth() *ranchersim.HealthCheck {
	return &ranchersim.HealthCheck{Port: 4001, RequestLine: "GET /v1/health HTTP/1.0",
		Interval: 50, ResponseTimeout: 1000, HealthyThreshold: 2, UnhealthyThreshold: 2,
		InitializingTimeout: 30000, ReinitializingTimeout: 30000}
}

func states(cs []ranchersim.ContainerView) map[string]int {
	out := map[string]int{}
	for _, c := range cs {
		out[c.State+"/"+c.HealthState]++
	}
	return out
}

// call sends an API request with the simulator's keys and decodes the
// JSON answer. path is relative to the project's v2-beta URL unless it
// starts with /v1 or /v2-beta.
func call(t *testing.T, s *ranchersim.Sim, method, path string, body any) (int, map[string]any) {
	t.Helper()
	url := s.URL() + "/v2-beta/projects/" + s.ProjectID() + path
	if strings.HasPrefix(path, "/v1") || strings.HasPrefix(path, "/v2-beta") {
		url = s.URL() + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.AccessKey(), s.SecretKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: undecodable answer %q", method, path, b)
		}
	}
	return resp.StatusCode, out
}

// wantError checks a Cattle error answer.
func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantCode, msgPart string) {
	t.Helper()
	if status != wantStatus || body["type"] != "error" || body["code"] != wantCode ||
		body["status"] != float64(wantStatus) || !strings.Contains(fmt.Sprint(body["message"]), msgPart) {
		t.Errorf("%s: %d %v, want %d %s with %q in the message", what, status, body, wantStatus, wantCode, msgPart)
	}
}

// data returns a collection answer's data.
func data(body map[string]any) []map[string]any {
	list, _ := body["data"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// actionNames returns the names in a resource's actions map, sorted.
func actionNames(res map[string]any) string {
	acts, _ := res["actions"].(map[string]any)
	var names []string
	for n := range acts {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}
