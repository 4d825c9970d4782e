package ranchersim

import (
	"sort"
	"strconv"
	"strings"
)

// This file renders objects as Cattle's API does (rancher-api.md §3): the
// JSON names and types of the go-rancher v2 structs, unset fields as null,
// links.self and an actions map whose URLs end in "/?action=<name>".
// Everything here expects s.mu held.

// urls builds absolute, lowercase URLs under the project.
type urls struct {
	base    string // http://host:port
	project string // base + /v2-beta/projects/1a5
}

func (s *Sim) urlsFor(base string) urls {
	return urls{base: base, project: base + "/v2-beta/projects/" + s.projectID}
}

func (u urls) collection(typ string) string {
	if typ == typeProject {
		return u.base + "/v2-beta/projects"
	}
	return u.project + "/" + strings.ToLower(pluralOf(typ))
}

func (u urls) self(typ, id string) string { return u.collection(typ) + "/" + id }

func (u urls) actions(typ, id string, names ...string) map[string]any {
	out := make(map[string]any, len(names))
	for _, n := range names {
		out[n] = u.self(typ, id) + "/?action=" + n
	}
	return out
}

func pluralOf(typ string) string {
	switch typ {
	case "subscribe":
		return "subscribe"
	case "schema":
		return "schemas"
	}
	return typ + "s"
}

// envelope returns the fields every resource has.
func envelope(u urls, typ, id string, links map[string]any, actions map[string]any) map[string]any {
	if links == nil {
		links = map[string]any{}
	}
	links["self"] = u.self(typ, id)
	return map[string]any{"id": id, "type": typ, "links": links, "actions": actions}
}

// transitioning renders Cattle's transitioning field.
func transitioning(state string) string {
	switch {
	case state == "error":
		return "error"
	case transitioningStates[state]:
		return "yes"
	}
	return "no"
}

// containerActions are the actions available in a state.
// UNCONFIRMED: Cattle's exact per-state sets; these follow the process
// table (start from stopped, stop from running, remove from stopped...).
func containerActions(state string) []string {
	switch state {
	case "running":
		return []string{"stop", "restart", "update", "execute", "logs", "proxy", "console", "remove"}
	case "stopped":
		return []string{"start", "remove", "update", "console", "logs"}
	case "error":
		return []string{"remove", "update"}
	case "removed":
		return []string{"purge"}
	case "starting", "restarting", "creating", "requested":
		return []string{"stop", "update"}
	}
	return []string{"update"}
}

func serviceActions(state string) []string {
	switch state {
	case "active":
		return []string{"upgrade", "restart", "deactivate", "remove", "update",
			"addservicelink", "removeservicelink", "setservicelinks"}
	case "inactive":
		return []string{"activate", "upgrade", "remove", "update",
			"addservicelink", "removeservicelink", "setservicelinks"}
	case "upgraded":
		return []string{"finishupgrade", "rollback", "remove", "update"}
	case "upgrading":
		return []string{"cancelupgrade", "remove", "update"}
	case "canceled-upgrade":
		return []string{"continueupgrade", "rollback", "finishupgrade", "remove", "update"}
	case "removed":
		return []string{}
	}
	return []string{"remove", "update"}
}

// labelsLocked returns a container's labels: the service's launch config
// labels plus Cattle's io.rancher.* labels (DeploymentUnit.getLabels).
func (s *Sim) labelsLocked(c *container) map[string]string {
	out := map[string]string{}
	svc, st := s.services[c.serviceID], s.stacks[c.stackID]
	if svc != nil {
		for k, v := range svc.labels {
			out[k] = v
		}
	}
	if svc != nil && st != nil {
		out["io.rancher.stack.name"] = st.name
		out["io.rancher.stack_service.name"] = st.name + "/" + svc.name
		out["io.rancher.project.name"] = st.name
		out["io.rancher.project_service.name"] = st.name + "/" + svc.name
	}
	out["io.rancher.service.deployment.unit"] = c.deploymentUnit
	out["io.rancher.service.launch.config"] = "io.rancher.service.primary.launch.config"
	out["io.rancher.container.uuid"] = c.uuid
	out["io.rancher.container.name"] = c.name
	out["io.rancher.container.ip"] = c.ip + "/" + strconv.Itoa(s.ips.prefix.Bits())
	return out
}

func healthCheckJSON(hc *HealthCheck) any {
	if hc == nil {
		return nil
	}
	return map[string]any{
		"type": "instanceHealthCheck", "port": hc.Port, "requestLine": nullable(hc.RequestLine),
		"interval": hc.Interval, "responseTimeout": hc.ResponseTimeout,
		"healthyThreshold": hc.HealthyThreshold, "unhealthyThreshold": hc.UnhealthyThreshold,
		"initializingTimeout": hc.InitializingTimeout, "reinitializingTimeout": hc.ReinitializingTimeout,
		"strategy": hc.Strategy, "name": nil, "recreateOnQuorumStrategyConfig": nil,
	}
}

// renderContainer renders a container as GET /containers/<id> does.
func (s *Sim) renderContainer(u urls, c *container) map[string]any {
	links := map[string]any{
		"services": u.self(typeContainer, c.id) + "/services",
		"hosts":    u.self(typeContainer, c.id) + "/hosts",
		"account":  u.self(typeProject, s.projectID),
	}
	r := envelope(u, typeContainer, c.id, links, u.actions(typeContainer, c.id, containerActions(c.state)...))
	svc := s.services[c.serviceID]
	serviceIDs := []string{}
	var hc *HealthCheck
	env := map[string]any{}
	if svc != nil {
		serviceIDs = append(serviceIDs, svc.id)
		hc = svc.health
		env = copyLabels(svc.env)
	}
	// UNCONFIRMED: whether Cattle fills serviceId/stackId for service
	// containers. Chosen: filled (the columns exist and the CLI filters on
	// stackId); consumers should still use serviceIds and labels.
	for k, v := range map[string]any{
		"name": c.name, "state": c.state, "healthState": nullable(c.healthState),
		"uuid": c.uuid, "kind": "container", "baseType": "instance", "accountId": s.projectID,
		"created": formatTime(c.created), "createdTS": millis(c.created),
		"removed": formatTime(c.removed), "removeTime": nil,
		"transitioning": transitioning(c.state), "transitioningMessage": nullable(c.transitioningMsg),
		"transitioningProgress": nil,
		"primaryIpAddress":      c.ip, "primaryNetworkId": "1n1", "networkMode": "managed",
		"hostId": c.hostID, "requestedHostId": nil, "serviceIds": serviceIDs,
		"serviceId": nullable(c.serviceID), "stackId": nullable(c.stackID),
		"labels": copyLabels(s.labelsLocked(c)), "createIndex": c.createIndex, "startCount": c.startCount,
		"externalId": c.externalID, "deploymentUnitUuid": c.deploymentUnit, "version": c.version,
		"imageUuid": "docker:drover/sim:latest", "hostname": nil, "firstRunning": formatTime(c.firstRunning),
		"system": false, "nativeContainer": false, "startOnCreate": true, "healthCheck": healthCheckJSON(hc),
		"environment": env, "dns": []string{"169.254.169.250"}, "dnsSearch": s.dnsSearchLocked(c),
		"ports": []string{}, "restartPolicy": nil, "instanceTriggeredStop": "stop", "description": nil,
	} {
		r[k] = v
	}
	return r
}

func (s *Sim) dnsSearchLocked(c *container) []string {
	st := s.stacks[c.stackID]
	if st == nil {
		return []string{"rancher.internal"}
	}
	svc := s.services[c.serviceID]
	out := []string{st.name + ".rancher.internal"}
	if svc != nil {
		out = append([]string{svc.name + "." + st.name + ".rancher.internal"}, out...)
	}
	return append(out, "rancher.internal")
}

// instanceIDsLocked returns every non-removed container of a service in
// any state (ServiceDaoImpl.getInstances), by id order.
func (s *Sim) instanceIDsLocked(svc *service) []string {
	var cs []*container
	for _, c := range s.containers {
		if c.serviceID == svc.id && c.state != "removed" {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return dbID(cs[i].id) < dbID(cs[j].id) })
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.id)
	}
	return ids
}

// renderService renders a service as GET /services/<id> does.
func (s *Sim) renderService(u urls, svc *service) map[string]any {
	links := map[string]any{
		// UNCONFIRMED: the name of the link to a service's containers.
		"instances": u.self(typeService, svc.id) + "/instances",
		"stack":     u.self(typeStack, svc.stackID),
		"account":   u.self(typeProject, s.projectID),
	}
	r := envelope(u, typeService, svc.id, links, u.actions(typeService, svc.id, serviceActions(svc.state)...))
	launch := map[string]any{
		"type": "launchConfig", "imageUuid": "docker:drover/sim:latest", "labels": copyLabels(svc.labels),
		"environment": copyLabels(svc.env), "healthCheck": healthCheckJSON(svc.health),
		"version": svc.version, "networkMode": "managed", "startOnCreate": true,
	}
	var upgrade any
	if svc.upgrade != nil {
		upgrade = svc.upgrade
	}
	for k, v := range map[string]any{
		"name": svc.name, "state": svc.state, "healthState": nullable(svc.healthState),
		"uuid": svc.uuid, "kind": "service", "baseType": "service", "accountId": s.projectID,
		"stackId": svc.stackID, "scale": svc.scale, "currentScale": svc.currentScale,
		"createIndex": svc.createIndex, "instanceIds": s.instanceIDsLocked(svc),
		"launchConfig": launch, "secondaryLaunchConfigs": []any{}, "upgrade": upgrade,
		"created": formatTime(svc.created), "createdTS": millis(svc.created),
		"removed": formatTime(svc.removed), "removeTime": nil,
		"transitioning": transitioning(svc.state), "transitioningMessage": nil, "transitioningProgress": nil,
		"startOnCreate": true, "system": false, "fqdn": nil, "vip": nil, "metadata": nil,
		"linkedServices": nil, "publicEndpoints": nil, "selectorContainer": nil, "selectorLink": nil,
		"description": nil, "externalId": nil, "assignServiceIpAddress": false, "retainIp": false,
		"scalePolicy": nil, "lbConfig": nil, "data": nil,
	} {
		r[k] = v
	}
	return r
}

// renderStack renders a stack as GET /stacks/<id> does.
func (s *Sim) renderStack(u urls, st *stack) map[string]any {
	links := map[string]any{"services": u.self(typeStack, st.id) + "/services",
		"account": u.self(typeProject, s.projectID)}
	acts := []string{"update", "remove", "exportconfig", "upgrade", "activateservices", "deactivateservices"}
	if st.state == "removed" {
		acts = []string{}
	}
	r := envelope(u, typeStack, st.id, links, u.actions(typeStack, st.id, acts...))
	var ids []string
	health := "healthy"
	for _, svc := range s.sortedServicesLocked() {
		if svc.stackID == st.id && svc.state != "removed" {
			ids = append(ids, svc.id)
			if svc.healthState != "healthy" && svc.healthState != "" {
				health = "degraded"
			}
		}
	}
	for k, v := range map[string]any{
		"name": st.name, "state": st.state, "healthState": health, "uuid": st.uuid,
		"kind": "stack", "baseType": "stack", "accountId": s.projectID, "serviceIds": ids,
		"system": false, "startOnCreate": true, "created": formatTime(st.created),
		"createdTS": millis(st.created), "removed": formatTime(st.removed), "removeTime": nil,
		"transitioning": transitioning(st.state), "transitioningMessage": nil, "transitioningProgress": nil,
		"description": nil, "externalId": nil, "group": nil, "dockerCompose": nil, "rancherCompose": nil,
		"environment": nil, "answers": nil, "outputs": nil, "templates": nil, "binding": nil,
		"previousEnvironment": nil, "previousExternalId": nil,
	} {
		r[k] = v
	}
	return r
}

// renderHost renders a host as GET /hosts/<id> does.
func (s *Sim) renderHost(u urls, h *host) map[string]any {
	links := map[string]any{"instances": u.self(typeHost, h.id) + "/instances"}
	r := envelope(u, typeHost, h.id, links, u.actions(typeHost, h.id, "update", "deactivate", "evacuate"))
	var ids []string
	for _, c := range s.sortedContainersLocked() {
		if c.hostID == h.id && c.state != "removed" {
			ids = append(ids, c.id)
		}
	}
	for k, v := range map[string]any{
		"name": h.name, "hostname": h.name, "state": "active", "agentState": "active",
		"agentIpAddress": h.agentIP, "labels": copyLabels(h.labels), "instanceIds": ids,
		"uuid": h.uuid, "kind": "docker", "baseType": "host", "accountId": s.projectID,
		"memory": int64(8 << 30), "milliCpu": int64(4000), "localStorageMb": int64(100000),
		"created": formatTime(h.created), "createdTS": millis(h.created), "removed": nil, "removeTime": nil,
		"transitioning": "no", "transitioningMessage": nil, "transitioningProgress": nil,
		"info": nil, "stackId": nil, "publicEndpoints": []any{}, "description": nil,
	} {
		r[k] = v
	}
	return r
}

// renderProject renders the one project (environment).
func (s *Sim) renderProject(u urls) map[string]any {
	links := map[string]any{"schemas": u.project + "/schemas"}
	for _, t := range []string{typeStack, typeService, typeContainer, "instance", typeHost} {
		links[pluralOf(t)] = u.collection(t)
	}
	r := envelope(u, typeProject, s.projectID, links, u.actions(typeProject, s.projectID, "update", "deactivate"))
	for k, v := range map[string]any{
		"name": s.projectName, "state": "active", "uuid": s.projectUUID, "kind": "project",
		"healthState": "healthy", "orchestration": "cattle", "description": nil,
		"created": formatTime(s.created), "createdTS": millis(s.created), "removed": nil,
		"allowSystemRole": false, "virtualMachine": false, "members": []any{},
		"defaultNetworkId": "1n1", "projectTemplateId": "1pt1", "hostRemoveDelaySeconds": nil,
		"servicesPortRange": nil, "projectLinks": []any{}, "version": "2", "data": nil,
		"transitioning": "no", "transitioningMessage": nil, "transitioningProgress": nil,
	} {
		r[k] = v
	}
	return r
}

func (s *Sim) sortedServicesLocked() []*service {
	out := make([]*service, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc)
	}
	sort.Slice(out, func(i, j int) bool { return dbID(out[i].id) < dbID(out[j].id) })
	return out
}

func (s *Sim) sortedContainersLocked() []*container {
	out := make([]*container, 0, len(s.containers))
	for _, c := range s.containers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return dbID(out[i].id) < dbID(out[j].id) })
	return out
}

// renderLocked renders any object by type and id; nil when unknown.
func (s *Sim) renderLocked(u urls, typ, id string) map[string]any {
	switch typ {
	case typeContainer, "instance":
		if c := s.containers[id]; c != nil {
			return s.renderContainer(u, c)
		}
	case typeService:
		if svc := s.services[id]; svc != nil {
			return s.renderService(u, svc)
		}
	case typeStack:
		if st := s.stacks[id]; st != nil {
			return s.renderStack(u, st)
		}
	case typeHost:
		if h := s.hosts[id]; h != nil {
			return s.renderHost(u, h)
		}
	case typeProject:
		if id == s.projectID {
			return s.renderProject(u)
		}
	}
	return nil
}
