package ranchersim

import (
	"sort"
	"strconv"
	"strings"
)

// This file renders objects as Cattle's API does (rancher-api.md §3): the
// JSON names and types of the go-rancher v2 structs, unset fields as null,
// links.self and an actions map, filtered by state, whose URLs end in
// "/?action=<name>" (DefaultUrlBuilder.actionLink). Everything here
// expects s.mu held.

// API versions served.
const (
	apiV2 = "v2-beta"
	apiV1 = "v1"
)

// urls builds absolute, lowercase URLs under the project, for one API
// version and its schemas.
type urls struct {
	base    string // http://host:port
	version string // apiV2 or apiV1
	project string // base + /<version>/projects/1a5
	set     *schemaSet
}

func (s *Sim) urlsFor(base, version string) urls {
	set := s.schemas
	if version == apiV1 {
		set = s.schemasV1
	}
	return urls{base: base, version: version, project: base + "/" + version + "/projects/" + s.projectID, set: set}
}

func (u urls) v1() bool { return u.version == apiV1 }

func (u urls) schemas() string { return u.project + "/schemas" }

// apiType is the API type of an object type in this version.
func (u urls) apiType(typ string) string {
	if u.v1() && typ == typeStack {
		return v1StackType
	}
	return typ
}

// schemaOf returns the schema of an object type.
func (u urls) schemaOf(typ string) *schemaDef { return u.set.lookup(u.apiType(typ)) }

func (u urls) collectionOf(d *schemaDef) string {
	if d.id == typeProject {
		return u.base + "/" + u.version + "/projects"
	}
	return u.project + "/" + lower(d.plural)
}

func (u urls) collection(typ string) string { return u.collectionOf(u.schemaOf(typ)) }

// id is an object's id in this version (v1 stacks are "environments",
// whose ids are 1e<n>).
func (u urls) id(typ, id string) string {
	if u.v1() && typ == typeStack {
		return v1StackID(id)
	}
	return id
}

func (u urls) self(typ, id string) string { return u.collection(typ) + "/" + u.id(typ, id) }

// actions returns the action links of an object in a state.
func (u urls) actions(typ, id, state string) map[string]any {
	d := u.schemaOf(typ)
	out := map[string]any{}
	if d == nil {
		return out
	}
	for _, n := range availableActions(d, typ, state) {
		out[n] = u.self(typ, id) + "/?action=" + n
	}
	return out
}

// envelope returns the fields every resource has.
func envelope(u urls, typ, id, state string, links map[string]any) map[string]any {
	if links == nil {
		links = map[string]any{}
	}
	links["self"] = u.self(typ, id)
	return map[string]any{"id": u.id(typ, id), "type": u.apiType(typ), "links": links,
		"actions": u.actions(typ, id, state)}
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

// put copies fields into a resource.
func put(r map[string]any, fields map[string]any) map[string]any {
	for k, v := range fields {
		r[k] = v
	}
	return r
}

// labelsLocked returns a container's labels: the service's launch config
// labels plus Cattle's io.rancher.* labels (DeploymentUnit.getLabels),
// unless the service asks for none.
func (s *Sim) labelsLocked(c *container) map[string]string {
	out := map[string]string{}
	svc, st := s.services[c.serviceID], s.stacks[c.stackID]
	if svc != nil {
		for k, v := range svc.labelsFor(c) {
			out[k] = v
		}
		if svc.noSystemLabels {
			return out
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

// renderContainer renders a container as GET /containers/<id> does, in
// the payload shape asked for (Options.Shape; the v1 API has no service
// references on containers).
func (s *Sim) renderContainer(u urls, c *container) map[string]any {
	links := map[string]any{
		"services": u.self(typeContainer, c.id) + "/services",
		"hosts":    u.self(typeContainer, c.id) + "/hosts",
		"account":  u.self(typeProject, s.projectID),
	}
	r := envelope(u, typeContainer, c.id, c.state, links)
	svc := s.services[c.serviceID]
	serviceIDs := []string{}
	var hc *HealthCheck
	env := map[string]any{}
	if svc != nil {
		serviceIDs = append(serviceIDs, svc.id)
		hc = svc.health
		env = copyLabels(svc.env)
	}
	var labels any = copyLabels(s.labelsLocked(c))
	if m := labels.(map[string]any); len(m) == 0 && s.opts.Shape.NullLabels {
		labels = nil
	}
	put(r, map[string]any{
		"name": c.name, "state": c.state, "healthState": nullable(c.healthState),
		"uuid": c.uuid, "kind": "container", "baseType": "instance", "accountId": s.projectID,
		"created": formatTime(c.created), "createdTS": millis(c.created),
		"removed": formatTime(c.removed), "removeTime": formatTime(c.removeTime),
		"transitioning": transitioning(c.state), "transitioningMessage": nullable(c.transitioningMsg),
		"transitioningProgress": nil,
		"primaryIpAddress":      nullable(c.ip), "primaryNetworkId": "1n1", "networkMode": "managed",
		"hostId": nullable(c.hostID), "requestedHostId": nil,
		"labels": labels, "createIndex": c.createIndex, "startCount": c.startCount,
		"externalId": c.externalID, "deploymentUnitUuid": c.deploymentUnit, "version": c.version,
		"imageUuid": c.image, "hostname": nil, "firstRunning": formatTime(c.firstRunning),
		"system": false, "nativeContainer": false, "startOnCreate": true, "healthCheck": healthCheckJSON(hc),
		"environment": env, "dns": []string{"169.254.169.250"}, "dnsSearch": s.dnsSearchLocked(c),
		"ports": []string{}, "restartPolicy": nil, "instanceTriggeredStop": "stop",
		"description": nullable(c.description),
	})
	// UNCONFIRMED: whether Cattle fills serviceId/stackId for service
	// containers. Chosen: filled in v2-beta (the columns exist and the CLI
	// filters on stackId); Shape.NoContainerServiceRefs and the v1 API
	// render the older shape without them.
	if !s.opts.Shape.NoContainerServiceRefs && !u.v1() {
		put(r, map[string]any{"serviceIds": serviceIDs, "serviceId": nullable(c.serviceID),
			"stackId": nullable(c.stackID)})
	}
	if s.opts.Shape.NullHealthState && hc == nil {
		put(r, map[string]any{"healthState": nil, "healthCheck": nil, "hostname": nil,
			"transitioning": "no", "transitioningMessage": nil, "transitioningProgress": nil})
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
		if c.serviceID == svc.id && c.removed.IsZero() {
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

// launchConfigJSON renders a service's launch config.
func launchConfigJSON(svc *service) map[string]any {
	return map[string]any{
		"type": "launchConfig", "imageUuid": svc.image, "labels": copyLabels(svc.labels),
		"environment": copyLabels(svc.env), "healthCheck": healthCheckJSON(svc.health),
		"version": svc.version, "networkMode": "managed", "startOnCreate": true, "kind": "container",
	}
}

// renderService renders a service as GET /services/<id> does.
func (s *Sim) renderService(u urls, svc *service) map[string]any {
	stackRef := "stackId"
	if u.v1() {
		stackRef = "environmentId"
	}
	links := map[string]any{
		// UNCONFIRMED: the name of the link to a service's containers.
		"instances": u.self(typeService, svc.id) + "/instances",
		"account":   u.self(typeProject, s.projectID),
	}
	links[strings.TrimSuffix(stackRef, "Id")] = u.self(typeStack, svc.stackID)
	r := envelope(u, typeService, svc.id, svc.state, links)
	var upgrade any
	if svc.upgrade != nil {
		upgrade = svc.upgrade
	}
	linked := map[string]any{}
	for name, id := range svc.links {
		linked[name] = id
	}
	trans, msg := transitioning(svc.state), nullable(svc.errMsg)
	if svc.errMsg != "" {
		trans = "error"
	}
	put(r, map[string]any{
		"name": svc.name, "state": svc.state, "healthState": nullable(svc.healthState),
		"uuid": svc.uuid, "kind": "service", "baseType": "service", "accountId": s.projectID,
		stackRef: u.id(typeStack, svc.stackID), "scale": svc.scale, "currentScale": svc.currentScale,
		"createIndex": svc.createIndex, "instanceIds": s.instanceIDsLocked(svc),
		"launchConfig": launchConfigJSON(svc), "secondaryLaunchConfigs": []any{}, "upgrade": upgrade,
		"created": formatTime(svc.created), "createdTS": millis(svc.created),
		"removed": formatTime(svc.removed), "removeTime": formatTime(svc.removeTime),
		"transitioning": trans, "transitioningMessage": msg, "transitioningProgress": nil,
		"startOnCreate": svc.startOnCreate, "system": false, "fqdn": nil, "vip": nil, "metadata": nil,
		"linkedServices": linked, "publicEndpoints": nil, "selectorContainer": nil, "selectorLink": nil,
		"description": nullable(svc.description), "externalId": nil, "assignServiceIpAddress": false,
		"retainIp": false, "scalePolicy": nil, "lbConfig": nil, "data": nil,
	})
	if s.opts.Shape.NoServiceInstanceIDs {
		delete(r, "instanceIds")
	}
	return r
}

// stackHealthLocked is the stack's healthState from its services.
// UNCONFIRMED: Cattle's exact rule; chosen: healthy when every service is
// healthy (or has no health), degraded otherwise.
func (s *Sim) stackHealthLocked(st *stack) string {
	health := "healthy"
	for _, svc := range s.servicesOfLocked(st) {
		if svc.healthState != "healthy" && svc.healthState != "" {
			health = "degraded"
		}
	}
	return health
}

// renderStack renders a stack as GET /stacks/<id> does (an environment in
// the v1 API).
func (s *Sim) renderStack(u urls, st *stack) map[string]any {
	links := map[string]any{"services": u.self(typeStack, st.id) + "/services",
		"account": u.self(typeProject, s.projectID)}
	r := envelope(u, typeStack, st.id, st.state, links)
	ids := []string{}
	for _, svc := range s.servicesOfLocked(st) {
		ids = append(ids, svc.id)
	}
	trans := transitioning(st.state)
	if st.transMsg != "" && st.state == "error" {
		trans = "error"
	}
	return put(r, map[string]any{
		"name": st.name, "state": st.state, "healthState": s.stackHealthLocked(st), "uuid": st.uuid,
		"kind": "stack", "baseType": "stack", "accountId": s.projectID, "serviceIds": ids,
		"system": false, "startOnCreate": st.startOnCreate, "created": formatTime(st.created),
		"createdTS": millis(st.created), "removed": formatTime(st.removed), "removeTime": formatTime(st.removeTime),
		"transitioning": trans, "transitioningMessage": nullable(st.transMsg), "transitioningProgress": nil,
		"description": nullable(st.description), "externalId": nullable(st.externalID), "group": nullable(st.group),
		"dockerCompose": nullable(st.dockerCompose), "rancherCompose": nullable(st.rancherCompose),
		"environment": stringsOrNil(st.environment), "answers": nil, "outputs": stringsOrNil(st.outputs),
		"templates": nil, "binding": nil, "previousEnvironment": nil, "previousExternalId": nil,
	})
}

// stringsOrNil renders a string map, or null when empty.
func stringsOrNil(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return copyLabels(m)
}

// renderHost renders a host as GET /hosts/<id> does.
func (s *Sim) renderHost(u urls, h *host) map[string]any {
	links := map[string]any{"instances": u.self(typeHost, h.id) + "/instances"}
	r := envelope(u, typeHost, h.id, h.state, links)
	ids := []string{}
	for _, c := range s.sortedContainersLocked() {
		if c.hostID == h.id && c.removed.IsZero() {
			ids = append(ids, c.id)
		}
	}
	var agentState any = "active"
	if h.state == "removed" {
		agentState = nil
	}
	return put(r, map[string]any{
		"name": h.name, "hostname": h.name, "state": h.state, "agentState": agentState,
		"agentIpAddress": h.agentIP, "labels": copyLabels(h.labels), "instanceIds": ids,
		"uuid": h.uuid, "kind": "docker", "baseType": "host", "accountId": s.projectID,
		"memory": int64(8 << 30), "milliCpu": int64(4000), "localStorageMb": int64(100000),
		"created": formatTime(h.created), "createdTS": millis(h.created), "removed": formatTime(h.removed),
		"removeTime": formatTime(h.removeTime), "transitioning": transitioning(h.state),
		"transitioningMessage": nil, "transitioningProgress": nil,
		"info": nil, "stackId": nil, "publicEndpoints": []any{}, "description": nullable(h.description),
	})
}

// renderProject renders the one project (environment). A project
// member's key reads it only (project-auth.json: "project": "r"), so it
// offers no actions.
func (s *Sim) renderProject(u urls) map[string]any {
	links := map[string]any{"schemas": u.schemas()}
	for _, t := range []string{typeStack, typeService, typeContainer, typeInstance, typeHost} {
		links[lower(u.schemaOf(t).plural)] = u.collection(t)
	}
	r := envelope(u, typeProject, s.projectID, "active", links)
	r["actions"] = map[string]any{}
	return put(r, map[string]any{
		"name": s.projectName, "state": "active", "uuid": s.projectUUID, "kind": "project",
		"healthState": "healthy", "orchestration": "cattle", "description": nil,
		"created": formatTime(s.created), "createdTS": millis(s.created), "removed": nil,
		"allowSystemRole": false, "virtualMachine": false, "members": []any{},
		"defaultNetworkId": "1n1", "projectTemplateId": "1pt1", "hostRemoveDelaySeconds": nil,
		"servicesPortRange": nil, "projectLinks": []any{}, "version": "2", "data": nil,
		"transitioning": "no", "transitioningMessage": nil, "transitioningProgress": nil,
	})
}

// settingValues are the settings an environment key can read: the
// public ones Cattle's UI and CLI ask for.
var settingValues = []struct{ name, value string }{
	{"rancher.server.version", ServerVersion},
	{"api.host", ""},
	{"api.ui.url", ""},
	{"telemetry.opt", "out"},
}

// renderSetting renders a setting (its id is its name).
func renderSetting(u urls, name, value string) map[string]any {
	r := envelope(u, typeSetting, name, "", nil)
	r["actions"] = map[string]any{}
	return put(r, map[string]any{"name": name, "value": nullable(value), "activeValue": nullable(value),
		"inDb": false, "source": "Code", "baseType": "setting"})
}

func (s *Sim) sortedServicesLocked() []*service {
	out := make([]*service, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc)
	}
	sort.Slice(out, func(i, j int) bool { return dbID(out[i].id) < dbID(out[j].id) })
	return out
}

// servicesOfLocked returns a stack's non-removed services by id.
func (s *Sim) servicesOfLocked(st *stack) []*service {
	var out []*service
	for _, svc := range s.sortedServicesLocked() {
		if svc.stackID == st.id && svc.removed.IsZero() {
			out = append(out, svc)
		}
	}
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

// renderLocked renders any object by type and internal id; nil when
// unknown.
func (s *Sim) renderLocked(u urls, typ, id string) map[string]any {
	switch typ {
	case typeContainer, typeInstance:
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
	case typeSetting:
		for _, st := range settingValues {
			if st.name == id {
				return renderSetting(u, st.name, st.value)
			}
		}
	}
	return nil
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
