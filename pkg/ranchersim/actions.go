package ranchersim

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// This file applies API writes: actions, PUT, DELETE and POST create.

// serveAction runs a resource action. It must be in the resource's
// actions map for its current state.
// UNCONFIRMED: Cattle's answer to an action not valid in the current
// state; chosen: 422 with code InvalidAction.
func (s *Sim) serveAction(r *http.Request, typ, id, action string) error {
	body, err := decodeBody(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var available []string
	switch typ {
	case typeContainer, "instance":
		available = containerActions(s.containers[id].state)
	case typeService:
		available = serviceActions(s.services[id].state)
	case typeStack:
		if action == "remove" {
			return s.removeStackLocked(s.stacks[id])
		}
	}
	if !contains(available, action) {
		return invalidInput("InvalidAction", fmt.Sprintf("action %s is not available on %s %s", action, typ, id))
	}
	if typ == typeService {
		return s.serviceActionLocked(s.services[id], action, body)
	}
	return s.containerActionLocked(s.containers[id], action, body)
}

func (s *Sim) serviceActionLocked(svc *service, action string, body map[string]any) error {
	switch action {
	case "activate":
		return s.activateLocked(svc)
	case "deactivate":
		return s.deactivateLocked(svc)
	case "remove":
		return s.removeServiceLocked(svc)
	case "finishupgrade":
		return s.finishUpgradeLocked(svc)
	case "rollback":
		return s.rollbackLocked(svc)
	case "restart":
		st := object(body, "rollingRestartStrategy")
		return s.restartLocked(svc, int(number(st, "batchSize")), millisDuration(number(st, "intervalMillis")))
	case "upgrade":
		st := object(body, "inServiceStrategy")
		if st == nil {
			return invalidInput("MissingRequired", "inServiceStrategy is required (toServiceStrategy is not simulated)")
		}
		svc.upgrade = map[string]any{"type": "serviceUpgrade", "inServiceStrategy": st, "toServiceStrategy": nil}
		p := upgradeParams{batchSize: int(number(st, "batchSize")), startFirst: st["startFirst"] == true,
			interval: millisDuration(number(st, "intervalMillis"))}
		if lc := object(st, "launchConfig"); lc != nil {
			p.labels = stringMap(lc["labels"])
			p.env = stringMap(lc["environment"])
		}
		return s.upgradeLocked(svc, p)
	case "update", "addservicelink", "removeservicelink", "setservicelinks":
		return nil
	}
	return invalidInput("NotSupported", "action "+action+" is not simulated")
}

func (s *Sim) containerActionLocked(c *container, action string, body map[string]any) error {
	svc := s.services[c.serviceID]
	switch action {
	case "start":
		s.enqueueLocked(svc, "container start", func(ctx context.Context) { s.startContainer(ctx, c) })
	case "stop":
		timeout := s.opts.StopTimeout
		if t := number(body, "timeout"); t > 0 {
			timeout = time.Duration(t) * time.Second
		}
		remove := body["remove"] == true
		s.enqueueLocked(svc, "container stop", func(ctx context.Context) {
			s.stopContainer(ctx, c, timeout)
			if remove {
				s.removeContainer(ctx, c)
			}
			// An active service starts its stopped units again.
			s.reconcile(ctx, svc)
		})
	case "restart":
		s.enqueueLocked(svc, "container restart", func(ctx context.Context) { s.restartContainer(ctx, c) })
	case "remove":
		s.enqueueLocked(svc, "container remove", func(ctx context.Context) {
			s.removeContainer(ctx, c)
			s.reconcile(ctx, svc)
		})
	case "update", "purge":
	default:
		return invalidInput("NotSupported", "action "+action+" is not simulated")
	}
	return nil
}

// serveUpdate is PUT on a resource: a service's scale can change; other
// fields are accepted and ignored.
func (s *Sim) serveUpdate(r *http.Request, typ, id string) error {
	body, err := decodeBody(r)
	if err != nil {
		return err
	}
	if typ != typeService {
		return nil
	}
	v, ok := body["scale"]
	if !ok {
		return nil
	}
	n, isNum := v.(float64)
	if !isNum || n != float64(int64(n)) {
		return invalidInput("InvalidType", "scale must be an integer")
	}
	if n < 0 {
		return invalidInput("MinLimitExceeded", "scale must be at least 0")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scaleLocked(s.services[id], int64(n))
}

// removeByID is DELETE on a resource.
func (s *Sim) removeByID(typ, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case typeContainer:
		c := s.containers[id]
		if c.state == "removed" || c.state == "removing" {
			return nil
		}
		return s.containerActionLocked(c, "remove", nil)
	case typeService:
		if svc := s.services[id]; svc.state != "removed" && svc.state != "removing" {
			return s.removeServiceLocked(svc)
		}
	case typeStack:
		return s.removeStackLocked(s.stacks[id])
	}
	return nil
}

// removeStackLocked removes a stack and its services.
func (s *Sim) removeStackLocked(st *stack) error {
	if st.state == "removed" {
		return nil
	}
	for _, svc := range s.services {
		if svc.stackID == st.id && svc.state != "removed" && svc.state != "removing" {
			_ = s.removeServiceLocked(svc)
		}
	}
	st.state = "removed"
	st.removed = time.Now()
	s.publishLocked(typeStack, st.id)
	return nil
}

// serveCreate is POST on stacks and services.
func (s *Sim) serveCreate(w http.ResponseWriter, r *http.Request, u urls, typ string) {
	body, err := decodeBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	name, _ := body["name"].(string)
	var id string
	switch typ {
	case typeStack:
		id, err = s.CreateStack(name)
	case typeService:
		id, err = s.createServiceFromAPI(body)
	default:
		err = invalidInput("NotSupported", "creating a "+typ+" is not simulated")
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	res := s.renderLocked(u, typ, id)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, res)
}

func (s *Sim) createServiceFromAPI(body map[string]any) (string, error) {
	stackID, _ := body["stackId"].(string)
	s.mu.Lock()
	st := s.stacks[stackID]
	s.mu.Unlock()
	if st == nil {
		return "", invalidInput("InvalidReference", "stackId "+stackID+" does not exist")
	}
	spec := ServiceSpec{Scale: 1, StartOnCreate: body["startOnCreate"] == true}
	spec.Name, _ = body["name"].(string)
	if _, ok := body["scale"]; ok {
		spec.Scale = int(number(body, "scale"))
	}
	if lc := object(body, "launchConfig"); lc != nil {
		spec.Labels = stringMap(lc["labels"])
		spec.Environment = stringMap(lc["environment"])
		if hc := object(lc, "healthCheck"); hc != nil {
			spec.HealthCheck = &HealthCheck{
				Port: number(hc, "port"), Interval: number(hc, "interval"),
				ResponseTimeout: number(hc, "responseTimeout"), HealthyThreshold: number(hc, "healthyThreshold"),
				UnhealthyThreshold: number(hc, "unhealthyThreshold"), InitializingTimeout: number(hc, "initializingTimeout"),
				ReinitializingTimeout: number(hc, "reinitializingTimeout"),
			}
			spec.HealthCheck.RequestLine, _ = hc["requestLine"].(string)
			spec.HealthCheck.Strategy, _ = hc["strategy"].(string)
		}
	}
	return s.CreateService(st.name, spec)
}

// object returns a nested JSON object or nil.
func object(m map[string]any, key string) map[string]any {
	if m == nil {
		return nil
	}
	o, _ := m[key].(map[string]any)
	return o
}

// number returns a JSON number as int64 (0 when absent).
func number(m map[string]any, key string) int64 {
	if m == nil {
		return 0
	}
	f, _ := m[key].(float64)
	return int64(f)
}

func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func millisDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
