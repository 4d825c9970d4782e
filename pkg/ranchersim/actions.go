package ranchersim

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// This file applies API writes on containers and services: actions, PUT
// and DELETE. Stacks and hosts are in stacks.go and hosts.go, creation
// in create.go.

// maxScale bounds a service's scale: far above what an IP range holds,
// low enough that no request makes the simulator loop for long.
const maxScale = 10000

// baseType is the type Cattle names processes after (instance.start).
func baseType(typ string) string {
	if typ == typeContainer {
		return typeInstance
	}
	return typ
}

// serveAction runs a resource action on an existing object. The action is
// in the schema; it must also be allowed in the object's state (409
// otherwise, as Cattle answers). A non-nil result replaces the object in
// the answer (exportconfig).
func (s *Sim) serveAction(r *http.Request, u urls, typ, id, action string) (any, error) {
	body, err := decodeBody(r)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	state := s.stateLocked(typ, id)
	if !actionAllowed(typ, action, state) {
		return nil, conflict(baseType(typ), u.id(typ, id), action, state)
	}
	switch typ {
	case typeContainer:
		return nil, s.containerActionLocked(s.containers[id], action, body)
	case typeService:
		return nil, s.serviceActionLocked(s.services[id], action, body)
	case typeStack:
		return s.stackActionLocked(u, s.stacks[id], action, body)
	case typeHost:
		return nil, s.hostActionLocked(s.hosts[id], action, body)
	}
	return nil, notSupported("action " + action + " on a " + typ)
}

// stateLocked returns an object's state.
func (s *Sim) stateLocked(typ, id string) string {
	switch typ {
	case typeContainer:
		return s.containers[id].state
	case typeService:
		return s.services[id].state
	case typeStack:
		return s.stacks[id].state
	case typeHost:
		return s.hosts[id].state
	}
	return "active"
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
	case "cancelupgrade":
		return s.cancelUpgradeLocked(svc)
	case "continueupgrade":
		return s.continueUpgradeLocked(svc)
	case "rollback":
		return s.rollbackLocked(svc)
	case "restart":
		st := object(body, "rollingRestartStrategy")
		return s.restartLocked(svc, int(number(st, "batchSize")), millisDuration(number(st, "intervalMillis")))
	case "upgrade":
		p, err := parseUpgrade(svc, body)
		if err != nil {
			return err
		}
		svc.upgrade = map[string]any{"type": "serviceUpgrade", "inServiceStrategy": object(body, "inServiceStrategy"),
			"toServiceStrategy": nil}
		return s.upgradeLocked(svc, p)
	case "update":
		return s.updateServiceLocked(svc, body)
	case "addservicelink", "removeservicelink", "setservicelinks":
		return s.serviceLinksLocked(svc, action, body)
	}
	return notSupported("the service action " + action)
}

// parseUpgrade reads a serviceUpgrade input: the in-service strategy with
// its launch config (image, labels, environment, health check).
func parseUpgrade(svc *service, body map[string]any) (upgradeParams, error) {
	if object(body, "toServiceStrategy") != nil {
		return upgradeParams{}, notSupported("the toServiceStrategy upgrade (deprecated in Rancher 1.6)")
	}
	st := object(body, "inServiceStrategy")
	if st == nil {
		return upgradeParams{}, invalidInput("MissingRequired", "inServiceStrategy is required")
	}
	if lcs, ok := st["secondaryLaunchConfigs"].([]any); ok && len(lcs) > 0 {
		return upgradeParams{}, notSupported("secondaryLaunchConfigs (sidekicks)")
	}
	p := upgradeParams{batchSize: int(number(st, "batchSize")), startFirst: st["startFirst"] == true,
		interval: millisDuration(number(st, "intervalMillis"))}
	if p.batchSize < 0 || p.interval < 0 {
		return p, invalidInput("MinLimitExceeded", "batchSize and intervalMillis must not be negative")
	}
	if lc := object(st, "launchConfig"); lc != nil {
		next, err := parseLaunchConfig(lc, svc.launch())
		if err != nil {
			return p, err
		}
		p.launch = &next
	}
	return p, nil
}

// parseLaunchConfig reads a launch config over a base: imageUuid,
// labels, environment and healthCheck replace the base's when present.
func parseLaunchConfig(lc map[string]any, base launchConfig) (launchConfig, error) {
	out := base
	if v, ok := lc["imageUuid"]; ok {
		img, isString := v.(string)
		if !isString || !validImage(img) {
			return out, invalidInput("InvalidFormat", "launchConfig.imageUuid must be an image like docker:nginx:1.13")
		}
		out.image = img
	}
	if v, ok := lc["labels"]; ok && v != nil {
		out.labels = stringMap(v)
	}
	if v, ok := lc["environment"]; ok && v != nil {
		out.env = stringMap(v)
	}
	if hc := object(lc, "healthCheck"); hc != nil {
		h, err := parseHealthCheck(hc)
		if err != nil {
			return out, err
		}
		out.health = &h
	}
	if lcs, ok := lc["secondaryLaunchConfigs"].([]any); ok && len(lcs) > 0 {
		return out, notSupported("secondaryLaunchConfigs (sidekicks)")
	}
	return out, nil
}

// validImage checks an imageUuid ("docker:" plus a reference).
func validImage(img string) bool {
	return len(img) > len("docker:") && len(img) <= 512 && img[:len("docker:")] == "docker:" &&
		!containsSpace(img)
}

func containsSpace(s string) bool {
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return true
		}
	}
	return false
}

// parseHealthCheck reads an instanceHealthCheck with Rancher's defaults.
func parseHealthCheck(hc map[string]any) (HealthCheck, error) {
	h := HealthCheck{
		Port: number(hc, "port"), Interval: number(hc, "interval"),
		ResponseTimeout: number(hc, "responseTimeout"), HealthyThreshold: number(hc, "healthyThreshold"),
		UnhealthyThreshold: number(hc, "unhealthyThreshold"), InitializingTimeout: number(hc, "initializingTimeout"),
		ReinitializingTimeout: number(hc, "reinitializingTimeout"),
	}
	h.RequestLine, _ = hc["requestLine"].(string)
	h.Strategy, _ = hc["strategy"].(string)
	spec := ServiceSpec{Name: "x", HealthCheck: &h}
	if errs := spec.problems(); len(errs) > 0 {
		return h, invalidInput("InvalidOption", fmt.Sprintf("launchConfig.%v", errs[0]))
	}
	return h.withDefaults(), nil
}

// serviceLinksLocked keeps a service's linkedServices (addservicelink,
// removeservicelink with {"serviceLink": {"serviceId", "name"}},
// setservicelinks with {"serviceLinks": [...]}).
func (s *Sim) serviceLinksLocked(svc *service, action string, body map[string]any) error {
	var links []map[string]any
	if action == "setservicelinks" {
		list, _ := body["serviceLinks"].([]any)
		for _, l := range list {
			if m, ok := l.(map[string]any); ok {
				links = append(links, m)
			}
		}
	} else if l := object(body, "serviceLink"); l != nil {
		links = []map[string]any{l}
	} else {
		return invalidInput("MissingRequired", "serviceLink is required")
	}
	next := map[string]string{}
	if action != "setservicelinks" {
		for k, v := range svc.links {
			next[k] = v
		}
	}
	for _, l := range links {
		id, _ := l["serviceId"].(string)
		target := s.services[id]
		if target == nil || !target.removed.IsZero() {
			return invalidInput("InvalidReference", "serviceLink.serviceId "+truncate(id, 64)+" is not a service")
		}
		name, _ := l["name"].(string)
		if name == "" {
			name = target.name
		}
		if action == "removeservicelink" {
			delete(next, name)
		} else {
			next[name] = id
		}
	}
	svc.links = next
	s.publishLocked(typeService, svc.id)
	return nil
}

func (s *Sim) containerActionLocked(c *container, action string, body map[string]any) error {
	svc := s.services[c.serviceID]
	switch action {
	case "start":
		s.goBusyLocked(func(ctx context.Context) { s.startContainer(ctx, c) })
	case "stop":
		timeout := s.opts.StopTimeout
		if t := number(body, "timeout"); t > 0 {
			timeout = time.Duration(min(t, 3600)) * time.Second
		}
		remove := body["remove"] == true
		s.goBusyLocked(func(ctx context.Context) {
			if remove {
				s.removeContainerAfterStop(ctx, c, timeout)
			} else {
				s.stopContainer(ctx, c, timeout)
			}
			s.reconcileLater(svc)
		})
	case "restart":
		s.goBusyLocked(func(ctx context.Context) { s.restartContainer(ctx, c) })
	case "remove":
		s.goBusyLocked(func(ctx context.Context) {
			s.removeContainer(ctx, c)
			s.reconcileLater(svc)
		})
	case "purge":
		s.purgeContainerLocked(c)
	case "restore":
		return s.restoreContainerLocked(c)
	case "update":
		return s.updateContainerLocked(c, body)
	case "migrate":
		s.migrateLocked(c)
	case "execute", "logs", "proxy", "console":
		return notSupported("the container action " + action + " (there is no Docker behind the simulator)")
	default:
		return notSupported("the container action " + action)
	}
	return nil
}

// reconcileLater queues a reconcile of a service (an active service starts
// its stopped units again and replaces removed ones).
func (s *Sim) reconcileLater(svc *service) {
	if svc == nil {
		return
	}
	s.mu.Lock()
	s.enqueueReconcileLocked(svc, 0)
	s.mu.Unlock()
}

// stepLocked moves a container to a transitioning state and, a step
// later, runs done (with s.mu held) if it is still in that state.
func (s *Sim) stepLocked(c *container, state string, done func()) {
	s.setStateLocked(c, state)
	s.goBusyLocked(func(ctx context.Context) {
		if !s.sleep(ctx, s.opts.StepDelay) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.state == state {
			done()
		}
	})
}

// purgeContainerLocked is instance.purge: removed -> purging -> purged,
// after which the container is gone (404).
func (s *Sim) purgeContainerLocked(c *container) {
	s.stepLocked(c, "purging", func() {
		c.state = "purged"
		delete(s.containers, c.id)
	})
}

// restoreContainerLocked is instance.restore: removed -> restoring ->
// stopped, with its IP again when it is free. The service counts it as a
// unit again, so its reconcile starts it or removes an extra unit.
func (s *Sim) restoreContainerLocked(c *container) error {
	if err := s.ips.take(c.ip); err != nil {
		ip, err := s.ips.allocate()
		if err != nil {
			return invalidInput("InvalidState", fmt.Sprintf("no free IP address in %s to restore %s", s.ips.prefix, c.id))
		}
		c.ip = ip
	}
	c.removed, c.removeTime = time.Time{}, time.Time{}
	s.stepLocked(c, "restoring", func() {
		s.setStateLocked(c, "stopped")
		s.publishLocked(typeService, c.serviceID)
		if svc := s.services[c.serviceID]; svc != nil {
			s.enqueueReconcileLocked(svc, 0)
		}
	})
	return nil
}

// migrateLocked is instance.migrate: running -> migrating -> running on
// another active host (the same one when there is no other).
func (s *Sim) migrateLocked(c *container) {
	from := c.hostID
	s.stepLocked(c, "migrating", func() {
		for id, h := range s.hosts {
			if id != from && h.state == "active" && !h.cut {
				c.hostID = id
				break
			}
		}
		s.setStateLocked(c, "running")
		s.publishLocked(typeHost, from)
		s.publishLocked(typeHost, c.hostID)
	})
}

// updateContainerLocked applies a container's updatable fields.
func (s *Sim) updateContainerLocked(c *container, body map[string]any) error {
	if v, ok := body["description"]; ok {
		d, _ := v.(string)
		c.description = truncate(d, 1024)
	}
	if v, ok := body["name"]; ok {
		name, _ := v.(string)
		if !validName(name) {
			return invalidInput("InvalidCharacters", "name: "+truncate(name, 64)+" is not a valid container name")
		}
		c.name = name
	}
	s.publishLocked(typeContainer, c.id)
	return nil
}

// validName checks Cattle's name rule (validChars a-zA-Z0-9-, 1-63).
func validName(name string) bool {
	return len(name) <= 63 && namePattern.MatchString(name)
}

// serveUpdate is PUT on a resource.
func (s *Sim) serveUpdate(r *http.Request, typ, id string) error {
	body, err := decodeBody(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case typeService:
		return s.updateServiceLocked(s.services[id], body)
	case typeContainer:
		return s.updateContainerLocked(s.containers[id], body)
	case typeStack:
		return s.updateStackLocked(s.stacks[id], body)
	case typeHost:
		return s.updateHostLocked(s.hosts[id], body)
	}
	return notSupported("updating a " + typ)
}

// updateServiceLocked applies a service's updatable fields (scale,
// description); a new scale runs service.update (updating-active).
func (s *Sim) updateServiceLocked(svc *service, body map[string]any) error {
	if !svc.removed.IsZero() || svc.state == "removing" {
		return conflict(typeService, svc.id, "update", svc.state)
	}
	if v, ok := body["description"]; ok {
		d, _ := v.(string)
		svc.description = truncate(d, 1024)
	}
	v, ok := body["scale"]
	if !ok {
		s.publishLocked(typeService, svc.id)
		return nil
	}
	n, isNum := v.(float64)
	if !isNum || n != float64(int64(n)) {
		return invalidInput("InvalidType", "scale must be an integer")
	}
	if n < 0 {
		return invalidInput("MinLimitExceeded", "scale must be at least 0")
	}
	if n > maxScale {
		return invalidInput("MaxLimitExceeded", fmt.Sprintf("scale must be at most %d", maxScale))
	}
	return s.scaleLocked(svc, int64(n))
}

// removeByID is DELETE on a resource: a running container is stopped and
// removed (instance.stop with remove), a service, stack or host removed.
func (s *Sim) removeByID(typ, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case typeContainer:
		c := s.containers[id]
		if !c.removed.IsZero() || c.state == "removing" {
			return nil
		}
		if stoppable(c.state) {
			return s.containerActionLocked(c, "stop", map[string]any{"remove": true})
		}
		if !instanceProcesses["remove"][c.state] {
			return conflict(typeInstance, id, "remove", c.state)
		}
		return s.containerActionLocked(c, "remove", nil)
	case typeService:
		if svc := s.services[id]; svc.removed.IsZero() && svc.state != "removing" {
			return s.removeServiceLocked(svc)
		}
	case typeStack:
		return s.removeStackLocked(s.stacks[id])
	case typeHost:
		return s.hostActionLocked(s.hosts[id], "remove", nil)
	}
	return nil
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
	if f > 1<<53 || f < -(1<<53) {
		return 0
	}
	return int64(f)
}

func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		if x == nil {
			out[k] = ""
			continue
		}
		out[k] = fmt.Sprint(x)
	}
	return out
}

func millisDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
