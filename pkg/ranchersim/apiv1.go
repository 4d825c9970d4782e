package ranchersim

import (
	"strconv"
	"strings"
)

// This file is the v1 API as Cattle 1.6 still serves it next to v2-beta:
// the same objects under /v1, where stacks are "environments" (ids
// 1e<n>, services refer to them as environmentId) and containers carry
// no service references (rancher-api.md §9.8; Rancher's v1 API
// documentation, api/v1/api-resources/environment).

// v1StackType is the v1 name of a stack.
const v1StackType = "environment"

// v1Renames are the v1 names of v2-beta types.
var v1Renames = map[string]string{typeStack: v1StackType, "stackUpgrade": "environmentUpgrade"}

// v1StackID turns a stack id (1st5) into its v1 form (1e5).
func v1StackID(id string) string {
	n := dbID(id)
	if n < 0 {
		return id
	}
	return "1e" + strconv.FormatInt(n, 10)
}

// v2StackID turns a v1 environment id (1e5, or a v2-beta 1st5) into the
// stack id.
func v2StackID(id string) string {
	if strings.HasPrefix(id, "1e") {
		if n, err := strconv.ParseInt(id[2:], 10, 64); err == nil {
			return idPrefix[typeStack] + strconv.FormatInt(n, 10)
		}
	}
	return id
}

// v1Schema renames a v2-beta schema into its v1 form.
func v1Schema(d *schemaDef) *schemaDef {
	out := *d
	if n, ok := v1Renames[d.id]; ok {
		out.id, out.plural = n, pluralName(n)
	}
	out.fields = map[string]string{}
	for name, t := range d.fields {
		if name == "stackId" {
			name, t = "environmentId", "reference[environment]"
		}
		out.fields[name] = strings.ReplaceAll(t, "[stack]", "[environment]")
	}
	if d.id == typeContainer || d.id == typeInstance {
		delete(out.fields, "environmentId")
		delete(out.fields, "serviceId")
		delete(out.fields, "serviceIds")
	}
	out.filters = nil
	for _, f := range d.filters {
		if f == "stackId" {
			f = "environmentId"
		}
		if _, ok := out.fields[f]; ok {
			out.filters = append(out.filters, f)
		}
	}
	out.actions = map[string]actionDef{}
	for name, a := range d.actions {
		if n, ok := v1Renames[a.input]; ok {
			a.input = n
		}
		if n, ok := v1Renames[a.output]; ok {
			a.output = n
		}
		out.actions[name] = a
	}
	return &out
}
