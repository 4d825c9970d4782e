package ranchersim

import "sort"

// This file defines the schemas the simulator serves (rancher-api.md §1.3,
// §7.2): every id the go-rancher client looks up, with lowercase collection
// links, collectionMethods, resourceMethods, resourceFields and the
// collectionFilters that decide which query parameters are honoured.

// schemaDef describes one schema.
type schemaDef struct {
	id                string
	plural            string
	listable          bool
	collectionMethods []string
	resourceMethods   []string
	fields            map[string]string // name -> Cattle field type
	filters           []string          // filterable fields (database columns)
	actions           map[string]string // action -> input type ("" none)
	scoped            bool              // collection under the project
}

var (
	stringMods = []string{"eq", "ne", "prefix", "like", "notlike", "null", "notnull"}
	numberMods = []string{"eq", "ne", "lt", "lte", "gt", "gte", "null", "notnull"}
	refMods    = []string{"eq", "ne", "null", "notnull"}
)

// commonFields are the envelope fields of every resource schema.
var commonFields = map[string]string{
	"id": "string", "name": "string", "state": "enum", "uuid": "string", "kind": "string",
	"description": "string", "created": "date", "removed": "date", "removeTime": "date",
	"transitioning": "enum", "transitioningMessage": "string", "transitioningProgress": "int",
	"accountId": "reference[account]",
}

var commonFilters = []string{"id", "name", "state", "uuid", "kind", "description",
	"created", "removed", "removeTime", "accountId"}

func withCommon(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range commonFields {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// containerFields are the container fields the simulator renders.
// UNCONFIRMED: primaryIpAddress is not a database column of instance in
// Cattle (it comes from the NIC), so it is treated as not filterable; a
// filter on it is ignored like any other unknown parameter.
var containerFields = map[string]string{
	"healthState": "enum", "primaryIpAddress": "string", "primaryNetworkId": "reference[network]",
	"hostId": "reference[host]", "requestedHostId": "reference[host]", "serviceIds": "array[reference[service]]",
	"serviceId": "reference[service]", "stackId": "reference[stack]", "labels": "map[string]",
	"createIndex": "int", "startCount": "int", "externalId": "string", "deploymentUnitUuid": "string",
	"version": "string", "imageUuid": "string", "hostname": "string", "firstRunning": "date",
	"system": "boolean", "nativeContainer": "boolean", "startOnCreate": "boolean",
	"healthCheck": "instanceHealthCheck", "environment": "map[string]", "networkMode": "enum",
	"dns": "array[string]", "dnsSearch": "array[string]", "ports": "array[string]",
}

var schemaDefs = []schemaDef{
	{id: "project", plural: "projects", listable: true, collectionMethods: []string{"GET"},
		resourceMethods: []string{"GET"}, fields: withCommon(map[string]string{
			"healthState": "enum", "orchestration": "string", "members": "array[projectMember]"}),
		filters: append([]string{"orchestration"}, commonFilters...)},
	{id: "stack", plural: "stacks", listable: true, scoped: true,
		collectionMethods: []string{"GET", "POST"}, resourceMethods: []string{"GET", "PUT", "DELETE"},
		fields: withCommon(map[string]string{"healthState": "enum", "serviceIds": "array[reference[service]]",
			"system": "boolean", "externalId": "string", "group": "string", "startOnCreate": "boolean"}),
		filters: append([]string{"healthState", "system", "externalId", "group"}, commonFilters...),
		actions: map[string]string{"update": "", "remove": "", "activateservices": "", "deactivateservices": ""}},
	{id: "service", plural: "services", listable: true, scoped: true,
		collectionMethods: []string{"GET", "POST"}, resourceMethods: []string{"GET", "PUT", "DELETE"},
		fields: withCommon(map[string]string{"healthState": "enum", "stackId": "reference[stack]",
			"scale": "int", "currentScale": "int", "createIndex": "int", "instanceIds": "array[reference[instance]]",
			"launchConfig": "launchConfig", "upgrade": "serviceUpgrade", "system": "boolean",
			"startOnCreate": "boolean", "externalId": "string", "fqdn": "string", "vip": "string"}),
		filters: append([]string{"healthState", "stackId", "scale", "createIndex", "system", "externalId"},
			commonFilters...),
		actions: map[string]string{"activate": "", "deactivate": "", "restart": "serviceRestart",
			"upgrade": "serviceUpgrade", "finishupgrade": "", "rollback": "", "cancelupgrade": "",
			"continueupgrade": "", "remove": "", "update": "", "addservicelink": "addRemoveServiceLinkInput",
			"removeservicelink": "addRemoveServiceLinkInput", "setservicelinks": "setServiceLinksInput"}},
	{id: "container", plural: "containers", listable: true, scoped: true,
		collectionMethods: []string{"GET", "POST"}, resourceMethods: []string{"GET", "PUT", "DELETE"},
		fields: withCommon(containerFields),
		filters: append([]string{"healthState", "hostId", "serviceId", "stackId", "createIndex", "startCount",
			"externalId", "deploymentUnitUuid", "version", "system", "nativeContainer", "firstRunning",
			"imageUuid"}, commonFilters...),
		actions: map[string]string{"start": "", "stop": "instanceStop", "restart": "", "remove": "",
			"purge": "", "update": "", "execute": "containerExec", "logs": "containerLogs",
			"proxy": "containerProxy", "console": "instanceConsoleInput"}},
	{id: "instance", plural: "instances", listable: true, scoped: true,
		collectionMethods: []string{"GET"}, resourceMethods: []string{"GET"},
		fields:  withCommon(map[string]string{"hostId": "reference[host]", "externalId": "string"}),
		filters: append([]string{"hostId", "externalId"}, commonFilters...),
		actions: map[string]string{"start": "", "stop": "instanceStop", "restart": "", "remove": ""}},
	{id: "host", plural: "hosts", listable: true, scoped: true,
		collectionMethods: []string{"GET"}, resourceMethods: []string{"GET"},
		fields: withCommon(map[string]string{"hostname": "string", "agentState": "enum",
			"agentIpAddress": "string", "labels": "map[string]", "instanceIds": "array[reference[instance]]"}),
		filters: append([]string{"hostname", "agentState", "agentIpAddress"}, commonFilters...)},
	{id: "subscribe", plural: "subscribe", listable: true, scoped: true,
		collectionMethods: []string{"GET", "POST"}, resourceMethods: []string{},
		fields: map[string]string{"eventNames": "array[string]", "agentId": "reference[agent]"}},
	{id: "schema", plural: "schemas", listable: true, scoped: true,
		collectionMethods: []string{"GET"}, resourceMethods: []string{"GET"}},
	{id: "launchConfig", plural: "launchConfigs"},
	{id: "instanceHealthCheck", plural: "instanceHealthChecks"},
	{id: "serviceUpgrade", plural: "serviceUpgrades"},
	{id: "inServiceUpgradeStrategy", plural: "inServiceUpgradeStrategies"},
	{id: "serviceRestart", plural: "serviceRestarts"},
	{id: "rollingRestartStrategy", plural: "rollingRestartStrategies"},
	{id: "instanceStop", plural: "instanceStops"},
	{id: "error", plural: "errors"},
}

// schemaByPlural finds a listable schema by its lowercase plural.
func schemaByPlural(p string) *schemaDef {
	for i := range schemaDefs {
		if schemaDefs[i].listable && schemaDefs[i].plural == p {
			return &schemaDefs[i]
		}
	}
	return nil
}

func schemaByID(id string) *schemaDef {
	for i := range schemaDefs {
		if schemaDefs[i].id == id {
			return &schemaDefs[i]
		}
	}
	return nil
}

// modifiers returns the filter modifiers of a field type.
func modifiers(fieldType string) []string {
	switch {
	case fieldType == "int" || fieldType == "date":
		return numberMods
	case len(fieldType) > 9 && fieldType[:9] == "reference", fieldType == "boolean":
		return refMods
	}
	return stringMods
}

// filterable returns field -> allowed modifiers.
func (d *schemaDef) filterable() map[string][]string {
	out := map[string][]string{}
	for _, f := range d.filters {
		if t, ok := d.fields[f]; ok {
			out[f] = modifiers(t)
		}
	}
	return out
}

// render returns the schema resource.
func (d *schemaDef) render(u urls) map[string]any {
	links := map[string]any{"self": u.project + "/schemas/" + lower(d.id)}
	if d.listable {
		if d.scoped {
			links["collection"] = u.project + "/" + lower(d.plural)
		} else {
			links["collection"] = u.base + "/v2-beta/" + lower(d.plural)
		}
	}
	fields := map[string]any{}
	for name, t := range d.fields {
		fields[name] = map[string]any{"type": t, "nullable": true}
	}
	filters := map[string]any{}
	for name, mods := range d.filterable() {
		filters[name] = map[string]any{"modifiers": mods}
	}
	actions := map[string]any{}
	names := make([]string, 0, len(d.actions))
	for a := range d.actions {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		def := map[string]any{"output": d.id}
		if in := d.actions[a]; in != "" {
			def["input"] = in
		}
		actions[a] = def
	}
	return map[string]any{
		"id": d.id, "type": "schema", "links": links, "actions": map[string]any{},
		"pluralName": d.plural, "resourceMethods": nonNil(d.resourceMethods),
		"collectionMethods": nonNil(d.collectionMethods), "resourceFields": fields,
		"resourceActions": actions, "collectionFilters": filters, "collectionActions": map[string]any{},
		"collectionFields": map[string]any{}, "includeableLinks": []string{},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
