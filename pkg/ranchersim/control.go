package ranchersim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// This file is the control API of the standalone simulator, under /_sim/
// on the API listener, with the API's basic auth. Bodies are JSON:
//
//	GET  /_sim/state                       stacks, services, containers
//	GET  /_sim/containers?stack=&service=  []ContainerView
//	GET  /_sim/requests                    API request counts
//	GET  /_sim/process                     the simulator process's ProcessStats
//	POST /_sim/stacks         {"name"}
//	POST /_sim/services       {"stack", "name", "scale", "labels", "environment", "healthCheck", "startOnCreate"}
//	POST /_sim/scale          {"stack", "service", "scale"}
//	POST /_sim/upgrade        {"stack", "service", "batchSize", "startFirst", "intervalMillis"}
//	POST /_sim/finishupgrade  {"stack", "service"}
//	POST /_sim/rollback       {"stack", "service"}
//	POST /_sim/restart        {"stack", "service", "batchSize", "intervalMillis"}
//	POST /_sim/kill           {"id"}
//	POST /_sim/fail-health    {"id", "failing"}
//	POST /_sim/fault          {"kind": "api-status"|"api-hang"|"drop-websockets"|"delay-events"|
//	                           "drop-events"|"metadata-down"|"cut-off-host"|"clear",
//	                           "code", "durationMillis", "on", "hostId"}
//	POST /_sim/wait-settled   {"timeoutMillis"}  (504 when it does not settle in time)
//	POST /_sim/flush-events

// controlRequest is the union of every control body.
type controlRequest struct {
	Stack          string `json:"stack"`
	Service        string `json:"service"`
	Scale          int    `json:"scale"`
	BatchSize      int    `json:"batchSize"`
	StartFirst     bool   `json:"startFirst"`
	IntervalMillis int64  `json:"intervalMillis"`
	ID             string `json:"id"`
	Failing        bool   `json:"failing"`
	Kind           string `json:"kind"`
	Code           int    `json:"code"`
	DurationMillis int64  `json:"durationMillis"`
	On             bool   `json:"on"`
	HostID         string `json:"hostId"`
	TimeoutMillis  int64  `json:"timeoutMillis"`
	ServiceSpec
}

func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeUnauthorized(w)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/_sim/")
	if r.Method == http.MethodGet {
		s.serveControlGet(w, r, name)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" not allowed")
		return
	}
	var req controlRequest
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidBodyContent", err.Error())
			return
		}
	}
	result, err := s.controlAction(r.Context(), name, req)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

func (s *Sim) serveControlGet(w http.ResponseWriter, r *http.Request, name string) {
	switch name {
	case "state":
		writeJSON(w, http.StatusOK, s.stateView())
	case "containers":
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, nonNilViews(s.Containers(q.Get("stack"), q.Get("service"))))
	case "requests":
		writeJSON(w, http.StatusOK, s.Requests())
	case "process":
		writeJSON(w, http.StatusOK, s.Process())
	default:
		writeError(w, http.StatusNotFound, "NotFound", "no control endpoint "+name)
	}
}

func nonNilViews(v []ContainerView) []ContainerView {
	if v == nil {
		return []ContainerView{}
	}
	return v
}

var okResult = map[string]any{"ok": true}

// controlAction runs one POST control request.
func (s *Sim) controlAction(ctx context.Context, name string, req controlRequest) (any, error) {
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	var err error
	switch name {
	case "stacks":
		var id string
		id, err = s.CreateStack(req.Name)
		return map[string]any{"id": id}, err
	case "services":
		var id string
		spec := req.ServiceSpec
		spec.Scale = req.Scale // the outer "scale" field shadows the spec's
		id, err = s.CreateService(req.Stack, spec)
		return map[string]any{"id": id}, err
	case "scale":
		err = s.Scale(req.Stack, req.Service, req.Scale)
	case "upgrade":
		err = s.Upgrade(req.Stack, req.Service, req.BatchSize, req.StartFirst, ms(req.IntervalMillis))
	case "finishupgrade":
		err = s.FinishUpgrade(req.Stack, req.Service)
	case "rollback":
		err = s.Rollback(req.Stack, req.Service)
	case "restart":
		err = s.Restart(req.Stack, req.Service, req.BatchSize, ms(req.IntervalMillis))
	case "kill":
		err = s.KillContainer(req.ID)
	case "fail-health":
		err = s.FailHealth(req.ID, req.Failing)
	case "fault":
		err = s.controlFault(req, ms(req.DurationMillis))
	case "flush-events":
		s.FlushEvents()
	case "wait-settled":
		wctx, cancel := context.WithTimeout(ctx, max(ms(req.TimeoutMillis), time.Millisecond))
		defer cancel()
		if err = s.WaitSettled(wctx); err != nil {
			err = &apiError{status: http.StatusGatewayTimeout, code: "Timeout", msg: err.Error()}
		}
	default:
		err = notFound("control endpoint " + name)
	}
	return okResult, err
}

func (s *Sim) controlFault(req controlRequest, d time.Duration) error {
	f := s.faults
	switch req.Kind {
	case "api-status":
		f.APIStatus(req.Code, d)
	case "api-hang":
		f.APIHang(d)
	case "drop-websockets":
		f.DropWebsockets()
	case "delay-events":
		f.DelayEvents(d)
	case "drop-events":
		f.DropEvents(req.On)
	case "metadata-down":
		f.MetadataDown(d)
	case "cut-off-host":
		f.CutOffHost(req.HostID, req.On)
	case "clear":
		f.Clear()
	default:
		return invalidInput("InvalidOption", "unknown fault kind "+req.Kind)
	}
	return nil
}

// stateView is the whole truth, for GET /_sim/state.
func (s *Sim) stateView() map[string]any {
	s.mu.Lock()
	type svcView struct {
		ID, Name, State, HealthState string
		Scale                        int64
		stack                        string
	}
	var svcs []svcView
	for _, svc := range s.sortedServicesLocked() {
		if st := s.stacks[svc.stackID]; st != nil {
			svcs = append(svcs, svcView{svc.id, svc.name, svc.state, svc.healthState, svc.scale, st.name})
		}
	}
	project, hosts := s.projectID, []any{}
	for _, h := range s.sortedHostsLocked() {
		hosts = append(hosts, map[string]any{"id": h.id, "name": h.name, "cut": h.cut})
	}
	s.mu.Unlock()
	stacks := map[string][]any{}
	for _, v := range svcs {
		stacks[v.stack] = append(stacks[v.stack], map[string]any{
			"id": v.ID, "name": v.Name, "state": v.State, "healthState": v.HealthState, "scale": v.Scale,
			"containers": nonNilViews(s.Containers(v.stack, v.Name)),
		})
	}
	return map[string]any{"projectId": project, "hosts": hosts, "stacks": stacks}
}
