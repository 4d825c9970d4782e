package ranchersim

import (
	"sort"
	"strings"
)

// This file builds the schemas the simulator serves (rancher-api.md §1.3,
// §9.1) from the cattleTypes table:
//
//   - which types a project member (environment API key) sees, and their
//     methods: Cattle's Project schema factory (SchemasConfig.java) overlays
//     resources/content/schema/user/user-auth.json, then
//     project/project-auth.json; the letters c, r, u, d of each type are
//     POST on the collection, GET (collection and by id), PUT and DELETE;
//   - resourceFields and resourceActions: the go-rancher v2 types, which
//     were generated from a Cattle 1.6 server's schemas (internal
//     processes such as create, error, allocate and the health updates
//     are left out: agents, not users, run them);
//   - collectionFilters: database columns in Cattle. For the types the
//     simulator holds objects of they are listed in simFilters; for the
//     others the envelope columns and the references are used (inferred).
//
// SchemaFactoryImpl.addToMap keys every schema by id and plural name, and
// by their lowercase forms, so lookups here ignore case and accept both.

// typeRow is one row of cattleTypes.
type typeRow struct {
	id, perms, actions, fields string
}

// actionDef is a resource action's input and output types.
type actionDef struct {
	input, output string
}

// schemaDef is one schema as served.
type schemaDef struct {
	id, plural                     string
	create, list, byID, update, rm bool
	fields                         map[string]string // name -> Cattle field type
	filters                        []string          // filterable fields, sorted
	actions                        map[string]actionDef
}

// schemaSet is the schemas of one API version.
type schemaSet struct {
	defs   []*schemaDef          // sorted by id
	byName map[string]*schemaDef // lowercase id and plural
}

// commonFilters are the envelope columns every object table has.
var commonFilters = []string{"id", "name", "state", "uuid", "kind", "description",
	"created", "removed", "removeTime", "accountId"}

// simFilters are the database columns of the types the simulator holds
// objects of (instance, service, environment and host tables).
// UNCONFIRMED: primaryIpAddress is not a column of instance in Cattle (it
// comes from the NIC), so it is not filterable; a filter on it is
// ignored like any other unknown parameter.
var simFilters = map[string][]string{
	typeProject: {"orchestration", "healthState"},
	typeStack:   {"healthState", "system", "externalId", "group"},
	typeService: {"healthState", "stackId", "scale", "createIndex", "system", "externalId"},
	typeContainer: {"healthState", "hostId", "serviceId", "stackId", "createIndex", "startCount",
		"externalId", "deploymentUnitUuid", "version", "system", "nativeContainer", "firstRunning",
		"imageUuid"},
	typeInstance: {"hostId", "externalId"},
	typeHost:     {"hostname", "agentState", "agentIpAddress"},
	typeSetting:  {"value"},
}

// pluralOverrides are @Type(pluralName=...) exceptions to the guess.
var pluralOverrides = map[string]string{"subscribe": "subscribe", "schema": "schemas"}

// pluralName is gdapi's TypeUtils.guessPluralName with Cattle's overrides.
func pluralName(id string) string {
	if p, ok := pluralOverrides[id]; ok {
		return p
	}
	switch {
	case strings.HasSuffix(id, "s"), strings.HasSuffix(id, "ch"), strings.HasSuffix(id, "x"):
		return id + "es"
	case strings.HasSuffix(id, "y") && len(id) > 1 && !strings.ContainsRune("aeiou", rune(id[len(id)-2])):
		return id[:len(id)-1] + "ies"
	}
	return id + "s"
}

// newSchemaSet builds the v2-beta schemas (v1: renamed as apiV1 says).
func newSchemaSet(v1 bool) *schemaSet {
	set := &schemaSet{byName: map[string]*schemaDef{}}
	for _, row := range cattleTypes {
		d := row.def()
		if v1 {
			d = v1Schema(d)
		}
		set.defs = append(set.defs, d)
	}
	sort.Slice(set.defs, func(i, j int) bool { return set.defs[i].id < set.defs[j].id })
	for _, d := range set.defs {
		set.byName[lower(d.id)] = d
		set.byName[lower(d.plural)] = d
	}
	return set
}

// def parses a row.
func (row typeRow) def() *schemaDef {
	d := &schemaDef{
		id: row.id, plural: pluralName(row.id),
		create: strings.Contains(row.perms, "c"), list: strings.Contains(row.perms, "r"),
		byID: strings.Contains(row.perms, "r"), update: strings.Contains(row.perms, "u"),
		rm: strings.Contains(row.perms, "d"), fields: map[string]string{"id": "string"},
		actions: map[string]actionDef{},
	}
	for _, f := range strings.Fields(row.fields) {
		name, typ, _ := strings.Cut(f, ":")
		d.fields[name] = typ
	}
	for _, a := range strings.Fields(row.actions) {
		head, out, _ := strings.Cut(a, ">")
		name, in, _ := strings.Cut(head, ":")
		d.actions[name] = actionDef{input: in, output: out}
	}
	wanted := commonFilters
	if extra, ok := simFilters[d.id]; ok {
		wanted = append(append([]string{}, commonFilters...), extra...)
	} else {
		for name, typ := range d.fields {
			if strings.HasPrefix(typ, "reference[") {
				wanted = append(wanted, name)
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range wanted {
		if _, ok := d.fields[f]; ok && !seen[f] {
			seen[f] = true
			d.filters = append(d.filters, f)
		}
	}
	sort.Strings(d.filters)
	return d
}

// lookup finds a schema by id or plural name in any case.
func (set *schemaSet) lookup(name string) *schemaDef {
	return set.byName[lower(name)]
}

// collectionMethods and resourceMethods are SchemaImpl's.
func (d *schemaDef) collectionMethods() []string {
	out := []string{}
	if d.list {
		out = append(out, "GET")
	}
	if d.create {
		out = append(out, "POST")
	}
	return out
}

func (d *schemaDef) resourceMethods() []string {
	out := []string{}
	if d.byID {
		out = append(out, "GET")
	}
	if d.update {
		out = append(out, "PUT")
	}
	if d.rm {
		out = append(out, "DELETE")
	}
	return out
}

var (
	stringMods = []string{"eq", "ne", "prefix", "like", "notlike", "null", "notnull"}
	numberMods = []string{"eq", "ne", "lt", "lte", "gt", "gte", "null", "notnull"}
	refMods    = []string{"eq", "ne", "null", "notnull"}
)

// modifiers returns the filter modifiers of a field type
// (ConditionType per field kind).
func modifiers(fieldType string) []string {
	switch {
	case fieldType == "int" || fieldType == "date":
		return numberMods
	case strings.HasPrefix(fieldType, "reference"), fieldType == "boolean":
		return refMods
	}
	return stringMods
}

// filterable returns field -> allowed modifiers.
func (d *schemaDef) filterable() map[string][]string {
	out := make(map[string][]string, len(d.filters))
	for _, f := range d.filters {
		out[f] = modifiers(d.fields[f])
	}
	return out
}

// render returns the schema resource (SchemaImpl: links.collection only
// for listable types; URLs lowercase).
func (d *schemaDef) render(u urls) map[string]any {
	links := map[string]any{"self": u.schemas() + "/" + lower(d.id)}
	if d.list {
		links["collection"] = u.collectionOf(d)
	}
	fields := map[string]any{}
	for name, t := range d.fields {
		fields[name] = map[string]any{"type": t, "nullable": name != "id"}
	}
	filters := map[string]any{}
	for name, mods := range d.filterable() {
		filters[name] = map[string]any{"modifiers": mods}
	}
	actions := map[string]any{}
	for name, a := range d.actions {
		def := map[string]any{"output": a.output}
		if a.input != "" {
			def["input"] = a.input
		}
		actions[name] = def
	}
	return map[string]any{
		"id": d.id, "type": "schema", "links": links, "actions": map[string]any{},
		"pluralName": d.plural, "resourceMethods": d.resourceMethods(),
		"collectionMethods": d.collectionMethods(), "resourceFields": fields,
		"resourceActions": actions, "collectionFilters": filters, "collectionActions": map[string]any{},
		"collectionFields": map[string]any{}, "includeableLinks": []string{},
	}
}
