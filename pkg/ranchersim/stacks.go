package ranchersim

import (
	"context"
	"fmt"
	"time"
)

// This file holds the stack processes (spring-process-context.xml,
// stack.*) and actions: create (requested -> activating -> active),
// update, remove (removing its services first), activateservices,
// deactivateservices, addoutputs, exportconfig, and the upgrade family,
// which upgrades the stack's services from new compose files and follows
// them (upgrading until every one is upgraded, and so on).

// newStackLocked creates a stack in state activating; it becomes active
// a step later (stack.create).
func (s *Sim) newStackLocked(name string) *stack {
	st := &stack{id: s.newIDLocked(typeStack), name: name, uuid: newUUID(), state: "activating",
		startOnCreate: true, created: time.Now()}
	s.stacks[st.id] = st
	s.publishLocked(typeStack, st.id)
	s.goBusyLocked(func(ctx context.Context) {
		if !s.sleep(ctx, s.opts.StepDelay) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.setStackStateIfLocked(st, "activating", "active")
	})
	return st
}

// setStackStateIfLocked moves a stack from one state to another.
func (s *Sim) setStackStateIfLocked(st *stack, from, to string) bool {
	if st.state != from {
		return false
	}
	st.state = to
	s.publishLocked(typeStack, st.id)
	return true
}

// whenLocked runs then (with s.mu held) in the background once cond
// (checked with s.mu held at every change) holds; it gives up when stop
// holds first or the Sim closes.
func (s *Sim) whenLocked(stop, cond func() bool, then func()) {
	s.goBusyLocked(func(ctx context.Context) {
		for {
			s.mu.Lock()
			if stop() {
				s.mu.Unlock()
				return
			}
			if cond() {
				then()
				s.mu.Unlock()
				return
			}
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	})
}

// followStackLocked waits, in the background, until no service of the
// stack is in one of the busy states any more, then moves the stack from
// its transitioning state to done (unless something else took it over).
func (s *Sim) followStackLocked(st *stack, from, done string, busy states) {
	s.whenLocked(func() bool { return st.state != from }, func() bool {
		for _, svc := range s.servicesOfLocked(st) {
			if busy[svc.state] {
				return false
			}
		}
		return true
	}, func() { s.setStackStateIfLocked(st, from, done) })
}

// stackActionLocked runs a stack action; a non-nil result is the answer.
func (s *Sim) stackActionLocked(u urls, st *stack, action string, body map[string]any) (any, error) {
	switch action {
	case "activateservices", "deactivateservices":
		verb := "activate"
		if action == "deactivateservices" {
			verb = "deactivate"
		}
		for _, svc := range s.servicesOfLocked(st) {
			if serviceProcesses[verb][svc.state] {
				_ = s.serviceActionLocked(svc, verb, nil)
			}
		}
		return nil, nil
	case "exportconfig":
		ids := map[string]bool{}
		list, _ := body["serviceIds"].([]any)
		for _, id := range list {
			if sid, ok := id.(string); ok {
				ids[sid] = true
			}
		}
		docker, rancher := s.exportComposeLocked(st, ids)
		return map[string]any{"type": "composeConfig", "links": map[string]any{}, "actions": map[string]any{},
			"dockerComposeConfig": docker, "rancherComposeConfig": rancher}, nil
	case "addoutputs":
		outs := stringMap(body["outputs"])
		if st.outputs == nil {
			st.outputs = map[string]string{}
		}
		for k, v := range outs {
			st.outputs[k] = v
		}
		s.publishLocked(typeStack, st.id)
		return nil, nil
	case "update":
		return nil, s.updateStackLocked(st, body)
	case "remove":
		return nil, s.removeStackLocked(st)
	case "upgrade":
		return nil, s.upgradeStackLocked(st, body)
	case "finishupgrade", "cancelupgrade", "rollback":
		return nil, s.stackUpgradeStepLocked(st, action)
	}
	return nil, notSupported("the stack action " + action)
}

// updateStackLocked applies a stack's updatable fields.
func (s *Sim) updateStackLocked(st *stack, body map[string]any) error {
	if !st.removed.IsZero() {
		return conflict(typeStack, st.id, "update", st.state)
	}
	if v, ok := body["description"]; ok {
		d, _ := v.(string)
		st.description = truncate(d, 1024)
	}
	for key, dst := range map[string]*string{"externalId": &st.externalID, "group": &st.group} {
		if v, ok := body[key]; ok {
			x, _ := v.(string)
			*dst = truncate(x, 1024)
		}
	}
	if v, ok := body["outputs"]; ok {
		st.outputs = stringMap(v)
	}
	s.publishLocked(typeStack, st.id)
	return nil
}

// removeStackLocked removes a stack: removing, its services removed, then
// removed (purged later).
func (s *Sim) removeStackLocked(st *stack) error {
	if !stackProcesses["remove"][st.state] {
		if st.state == "removing" || st.state == "removed" {
			return nil
		}
		return conflict(typeStack, st.id, "remove", st.state)
	}
	st.state = "removing"
	s.publishLocked(typeStack, st.id)
	for _, svc := range s.servicesOfLocked(st) {
		if serviceProcesses["remove"][svc.state] {
			_ = s.removeServiceLocked(svc)
		}
	}
	s.whenLocked(func() bool { return st.state != "removing" },
		func() bool { return len(s.servicesOfLocked(st)) == 0 },
		func() {
			st.removed = time.Now()
			st.removeTime = s.removeTimeFrom(st.removed)
			s.setStackStateIfLocked(st, "removing", "removed")
		})
	return nil
}

// upgradeBusy are the service states an upgrade waits through.
var upgradeBusy = stateSet("upgrading", "requested", "registering", "activating")

// upgradeStackLocked is stack.upgrade with a stackUpgrade input: every
// service of the new compose files that exists is upgraded in place with
// its new launch config (rancher-compose's upgrade_strategy), every new
// one is created; the stack is upgraded once they all are.
func (s *Sim) upgradeStackLocked(st *stack, body map[string]any) error {
	docker, _ := body["dockerCompose"].(string)
	rancher, _ := body["rancherCompose"].(string)
	if docker == "" && rancher == "" {
		return invalidInput("MissingRequired", "dockerCompose or rancherCompose is required to upgrade a stack")
	}
	if docker == "" {
		docker = st.dockerCompose
	}
	services, err := parseCompose(docker, rancher)
	if err != nil {
		return err
	}
	for _, cs := range services {
		if svc := s.serviceByNameLocked(st, cs.spec.Name); svc != nil && !serviceProcesses["upgrade"][svc.state] {
			return conflict(typeService, svc.id, "upgrade", svc.state)
		}
	}
	st.prevCompose = [2]string{st.dockerCompose, st.rancherCompose}
	st.dockerCompose, st.rancherCompose = docker, rancher
	if env := stringMap(body["environment"]); env != nil {
		st.environment = env
	}
	st.state = "upgrading"
	s.publishLocked(typeStack, st.id)
	for _, cs := range services {
		if err := s.upgradeComposeServiceLocked(st, cs); err != nil {
			s.log.Warn("upgrading stack service", "stack", st.id, "service", cs.spec.Name, "err", err)
		}
	}
	s.followStackLocked(st, "upgrading", "upgraded", upgradeBusy)
	return nil
}

// upgradeComposeServiceLocked upgrades (or creates) one service of a
// stack upgrade.
func (s *Sim) upgradeComposeServiceLocked(st *stack, cs composeService) error {
	svc := s.serviceByNameLocked(st, cs.spec.Name)
	if svc == nil {
		cs.spec.StartOnCreate = cs.spec.StartOnCreate || st.startOnCreate
		_, err := s.createServiceLocked(st, cs.spec)
		return err
	}
	next := launchConfig{labels: cs.spec.Labels, env: cs.spec.Environment, image: cs.spec.Image, version: svc.version}
	if cs.spec.HealthCheck != nil {
		hc := cs.spec.HealthCheck.withDefaults()
		next.health = &hc
	}
	p := cs.strategy
	p.launch = &next
	svc.upgrade = map[string]any{"type": "serviceUpgrade", "toServiceStrategy": nil,
		"inServiceStrategy": map[string]any{"type": "inServiceUpgradeStrategy", "batchSize": p.batchSize,
			"intervalMillis": p.interval.Milliseconds(), "startFirst": p.startFirst}}
	return s.upgradeLocked(svc, p)
}

// stackUpgradeStepLocked runs finishupgrade, cancelupgrade or rollback on
// a stack and on each of its services that can take it.
func (s *Sim) stackUpgradeStepLocked(st *stack, action string) error {
	steps := map[string]struct {
		transitioning, done string
		busy                states
	}{
		"finishupgrade": {"finishing-upgrade", "active", stateSet("upgraded", "finishing-upgrade")},
		"cancelupgrade": {"canceling-upgrade", "canceled-upgrade", stateSet("upgrading", "canceling-upgrade")},
		"rollback":      {"rolling-back", "active", stateSet("upgraded", "upgrading", "canceled-upgrade", "rolling-back")},
	}
	step := steps[action]
	st.state = step.transitioning
	if action == "rollback" {
		st.dockerCompose, st.rancherCompose = st.prevCompose[0], st.prevCompose[1]
	}
	s.publishLocked(typeStack, st.id)
	for _, svc := range s.servicesOfLocked(st) {
		if serviceProcesses[action][svc.state] {
			if err := s.serviceActionLocked(svc, action, nil); err != nil {
				return fmt.Errorf("stack %s: %w", st.name, err)
			}
		}
	}
	s.followStackLocked(st, step.transitioning, step.done, step.busy)
	return nil
}
