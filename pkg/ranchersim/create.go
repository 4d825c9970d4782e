package ranchersim

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// This file is POST on collections: stacks (with or without compose
// files) and services are created as Cattle does; every other creatable
// type answers NotSupported.

// serveCreate creates an object of a schema's type.
func (s *Sim) serveCreate(w http.ResponseWriter, r *http.Request, u urls, d *schemaDef) error {
	body, err := decodeBody(r)
	if err != nil {
		return err
	}
	var typ, id string
	switch d.id {
	case typeStack, v1StackType:
		typ = typeStack
		id, err = s.createStackFromAPI(body)
	case typeService:
		typ = typeService
		id, err = s.createServiceFromAPI(u, body)
	default:
		return notSupported("creating a " + d.id)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	res := s.renderLocked(u, typ, id)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// createStackFromAPI creates a stack from a stack body; with
// dockerCompose/rancherCompose its services are created from them (and
// started when the stack or the service says startOnCreate).
func (s *Sim) createStackFromAPI(body map[string]any) (string, error) {
	name, _ := body["name"].(string)
	if name == "" {
		return "", invalidInput("MissingRequired", "name is required")
	}
	if !validName(name) {
		return "", invalidInput("InvalidCharacters", "name: "+truncate(name, 64)+" may hold only a-z, A-Z, 0-9 and -, at most 63")
	}
	docker, _ := body["dockerCompose"].(string)
	rancher, _ := body["rancherCompose"].(string)
	services, err := parseCompose(docker, rancher)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stackByNameLocked(name) != nil {
		return "", invalidInput("NotUnique", "a stack named "+name+" exists")
	}
	st := s.newStackLocked(name)
	st.startOnCreate = body["startOnCreate"] == true
	st.description, _ = body["description"].(string)
	st.externalID, _ = body["externalId"].(string)
	st.group, _ = body["group"].(string)
	st.dockerCompose, st.rancherCompose = docker, rancher
	st.environment = stringMap(body["environment"])
	st.outputs = stringMap(body["outputs"])
	for _, cs := range services {
		cs.spec.StartOnCreate = cs.spec.StartOnCreate || st.startOnCreate
		if _, err := s.createServiceLocked(st, cs.spec); err != nil {
			return "", err
		}
	}
	return st.id, nil
}

// createServiceFromAPI creates a service from a service body.
func (s *Sim) createServiceFromAPI(u urls, body map[string]any) (string, error) {
	ref := "stackId"
	if u.v1() {
		ref = "environmentId"
	}
	stackID, _ := body[ref].(string)
	if stackID == "" {
		return "", invalidInput("MissingRequired", ref+" is required")
	}
	spec := ServiceSpec{Scale: 1, StartOnCreate: body["startOnCreate"] == true}
	spec.Name, _ = body["name"].(string)
	if spec.Name == "" {
		return "", invalidInput("MissingRequired", "name is required")
	}
	if v, ok := body["scale"]; ok {
		n, isNum := v.(float64)
		if !isNum || n != float64(int(n)) || n < 0 || n > maxScale {
			return "", invalidInput("InvalidOption", fmt.Sprintf("scale must be an integer from 0 to %d", maxScale))
		}
		spec.Scale = int(n)
	}
	if lcs, ok := body["secondaryLaunchConfigs"].([]any); ok && len(lcs) > 0 {
		return "", notSupported("secondaryLaunchConfigs (sidekicks)")
	}
	if sel, _ := body["selectorContainer"].(string); sel != "" {
		return "", notSupported("selectorContainer (services of existing containers)")
	}
	lc := object(body, "launchConfig")
	if lc == nil || lc["imageUuid"] == nil {
		return "", invalidInput("MissingRequired", "launchConfig.imageUuid is required")
	}
	launch, err := parseLaunchConfig(lc, launchConfig{})
	if err != nil {
		return "", err
	}
	spec.Image, spec.Labels, spec.Environment, spec.HealthCheck = launch.image, launch.labels, launch.env, launch.health
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stacks[internalID(u, typeStack, stackID)]
	if st == nil || !st.removed.IsZero() || st.state == "removing" {
		return "", invalidInput("InvalidReference", ref+" "+truncate(stackID, 64)+" is not a stack")
	}
	id, err := s.createServiceLocked(st, spec)
	if err == nil {
		s.services[id].description, _ = body["description"].(string)
	}
	return id, err
}

// createServiceLocked creates a service in a stack: requested ->
// registering -> inactive (service.create), then activating -> active
// when it starts on create.
func (s *Sim) createServiceLocked(st *stack, spec ServiceSpec) (string, error) {
	if errs := spec.problems(); len(errs) > 0 {
		return "", invalidInput("InvalidOption", fmt.Sprintf("service %q: %v", truncate(spec.Name, 64), errs[0]))
	}
	if s.serviceByNameLocked(st, spec.Name) != nil {
		return "", invalidInput("NotUnique", fmt.Sprintf("service %s/%s exists", st.name, spec.Name))
	}
	svc := &service{
		id: s.newIDLocked(typeService), name: spec.Name, uuid: newUUID(), stackID: st.id,
		scale: int64(spec.Scale), labels: spec.Labels, env: spec.Environment,
		image: imageOrDefault(spec.Image), noSystemLabels: spec.NoSystemLabels,
		startOnCreate: spec.StartOnCreate, version: "0", created: time.Now(), state: "registering",
	}
	if spec.HealthCheck != nil {
		hc := spec.HealthCheck.withDefaults()
		svc.health = &hc
	}
	s.services[svc.id] = svc
	s.publishLocked(typeService, svc.id)
	s.publishLocked(typeStack, st.id)
	s.enqueueLocked(svc, "create", func(context.Context) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if svc.state != "registering" {
			return
		}
		s.setServiceStateLocked(svc, "inactive")
		if svc.startOnCreate {
			_ = s.activateLocked(svc)
		}
	})
	return svc.id, nil
}
