package ranchersim_test

import (
	"context"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// settleTimeout is generous: the machine may be loaded.
const settleTimeout = 60 * time.Second

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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
