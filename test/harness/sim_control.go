package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// This file is the typed client of the simulator's control API (/_sim/).

// State returns GET /_sim/state: stacks, services and containers.
func (s *Sim) State(ctx context.Context) (map[string]any, error) {
	var st map[string]any
	err := s.do(ctx, http.MethodGet, "/_sim/state", nil, &st)
	return st, err
}

// StateView is GET /_sim/state, typed.
type StateView struct {
	ProjectID string `json:"projectId"`
	// Stacks are the services of every stack by stack name.
	Stacks map[string][]ServiceView `json:"stacks"`
}

// ServiceView is one service of StateView, with its containers in every
// state (removed ones too), sorted by create index.
type ServiceView struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	State       string                     `json:"state"`
	HealthState string                     `json:"healthState"`
	Scale       int64                      `json:"scale"`
	Containers  []ranchersim.ContainerView `json:"containers"`
}

// StateView returns GET /_sim/state decoded into a StateView.
func (s *Sim) StateView(ctx context.Context) (StateView, error) {
	var st StateView
	err := s.do(ctx, http.MethodGet, "/_sim/state", nil, &st)
	return st, err
}

// Containers returns the containers of a service (every state), sorted by
// create index: the truth.
func (s *Sim) Containers(ctx context.Context, stack, service string) ([]ranchersim.ContainerView, error) {
	var views []ranchersim.ContainerView
	q := url.Values{"stack": {stack}, "service": {service}}
	err := s.do(ctx, http.MethodGet, "/_sim/containers?"+q.Encode(), nil, &views)
	return views, err
}

// Requests returns the API request counts by "METHOD /path-pattern".
func (s *Sim) Requests(ctx context.Context) (map[string]int, error) {
	var counts map[string]int
	err := s.do(ctx, http.MethodGet, "/_sim/requests", nil, &counts)
	return counts, err
}

// ProcessStats returns GET /_sim/process: the simulator process's
// goroutines and heap (it hosts the Go agents of the go runtime).
func (s *Sim) ProcessStats(ctx context.Context) (ranchersim.ProcessStats, error) {
	var st ranchersim.ProcessStats
	err := s.do(ctx, http.MethodGet, "/_sim/process", nil, &st)
	return st, err
}

// ServiceRef names a service.
type ServiceRef struct {
	Stack   string `json:"stack"`
	Service string `json:"service"`
}

// CreateService creates (and activates, when spec.StartOnCreate) a service.
func (s *Sim) CreateService(ctx context.Context, stack string, spec ranchersim.ServiceSpec) error {
	body := struct {
		Stack string `json:"stack"`
		ranchersim.ServiceSpec
	}{stack, spec}
	return s.Control(ctx, "services", body, nil)
}

// Scale sets a service's scale.
func (s *Sim) Scale(ctx context.Context, ref ServiceRef, n int) error {
	return s.Control(ctx, "scale", struct {
		ServiceRef
		Scale int `json:"scale"`
	}{ref, n}, nil)
}

// Upgrade starts an in-service upgrade (new containers replace the old in
// batches; with startFirst the new start before the old stop).
func (s *Sim) Upgrade(ctx context.Context, ref ServiceRef, batch int, startFirst bool, interval time.Duration) error {
	return s.Control(ctx, "upgrade", struct {
		ServiceRef
		BatchSize      int   `json:"batchSize"`
		StartFirst     bool  `json:"startFirst"`
		IntervalMillis int64 `json:"intervalMillis"`
	}{ref, batch, startFirst, interval.Milliseconds()}, nil)
}

// FinishUpgrade removes the old containers of an upgraded service.
func (s *Sim) FinishUpgrade(ctx context.Context, ref ServiceRef) error {
	return s.Control(ctx, "finishupgrade", ref, nil)
}

// Rollback rolls an upgraded service back.
func (s *Sim) Rollback(ctx context.Context, ref ServiceRef) error {
	return s.Control(ctx, "rollback", ref, nil)
}

// Restart is a rolling restart in batches.
func (s *Sim) Restart(ctx context.Context, ref ServiceRef, batch int, interval time.Duration) error {
	return s.Control(ctx, "restart", struct {
		ServiceRef
		BatchSize      int   `json:"batchSize"`
		IntervalMillis int64 `json:"intervalMillis"`
	}{ref, batch, interval.Milliseconds()}, nil)
}

// Kill kills a container outside Rancher (its VM dies; Rancher restarts
// it).
func (s *Sim) Kill(ctx context.Context, id string) error {
	return s.Control(ctx, "kill", map[string]string{"id": id}, nil)
}

// FailHealth forces a container's health checks to fail (or not).
func (s *Sim) FailHealth(ctx context.Context, id string, failing bool) error {
	return s.Control(ctx, "fail-health", map[string]any{"id": id, "failing": failing}, nil)
}

// Fault is a fault to inject (see ranchersim's control API).
type Fault struct {
	// Kind is api-status, api-hang, drop-websockets, delay-events,
	// drop-events, metadata-down, cut-off-host or clear.
	Kind     string
	Code     int
	Duration time.Duration
	On       bool
	HostID   string
}

// Inject injects a fault.
func (s *Sim) Inject(ctx context.Context, f Fault) error {
	return s.Control(ctx, "fault", map[string]any{"kind": f.Kind, "code": f.Code,
		"durationMillis": f.Duration.Milliseconds(), "on": f.On, "hostId": f.HostID}, nil)
}

// ClearFaults ends every fault.
func (s *Sim) ClearFaults(ctx context.Context) error { return s.Inject(ctx, Fault{Kind: "clear"}) }

// FlushEvents publishes pending Cattle-mode events now.
func (s *Sim) FlushEvents(ctx context.Context) error { return s.Control(ctx, "flush-events", nil, nil) }

// WaitSettled waits until no lifecycle work is pending (every container in
// a resting state and health state), at most timeout.
func (s *Sim) WaitSettled(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+controlTimeout)
	defer cancel()
	return s.Control(ctx, "wait-settled", map[string]int64{"timeoutMillis": timeout.Milliseconds()}, nil)
}

// Members returns the containers that are members under the default
// membership rule: running, with health state healthy, updating-healthy
// or none (no health check).
func Members(views []ranchersim.ContainerView) []ranchersim.ContainerView {
	var out []ranchersim.ContainerView
	for _, v := range views {
		if v.State != "running" {
			continue
		}
		switch v.HealthState {
		case "healthy", "updating-healthy", "", "none":
			out = append(out, v)
		}
	}
	return out
}

// ServiceState returns a service's state (active, upgrading, upgraded,
// restarting, ...) from GET /_sim/state.
func (s *Sim) ServiceState(ctx context.Context, ref ServiceRef) (string, error) {
	var st struct {
		Stacks map[string][]struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"stacks"`
	}
	if err := s.do(ctx, http.MethodGet, "/_sim/state", nil, &st); err != nil {
		return "", err
	}
	for _, svc := range st.Stacks[ref.Stack] {
		if svc.Name == ref.Service {
			return svc.State, nil
		}
	}
	return "", fmt.Errorf("no service %s/%s in the simulator", ref.Stack, ref.Service)
}
