package ranchersim

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file is Cattle's collection query syntax (rancher-api.md §2.3) as
// pure functions: field=value, field_<modifier>=value, repeated parameters,
// unknown or non-filterable parameters silently ignored, sort/order, and
// limit/marker offset paging.

// condition is one parsed filter.
type condition struct {
	Field    string
	Modifier string
	Values   []string
}

// knownModifiers are Cattle's ConditionType names.
var knownModifiers = map[string]bool{
	"eq": true, "ne": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"prefix": true, "like": true, "notlike": true, "null": true, "notnull": true,
}

// parseConditions returns the conditions Cattle would honour: the name is
// split at the last "_", and only filterable fields with an allowed
// modifier count. Results are sorted by field and modifier.
func parseConditions(q url.Values, filterable map[string][]string) []condition {
	var out []condition
	for name, values := range q {
		field, mod := name, "eq"
		if i := strings.LastIndex(name, "_"); i > 0 && knownModifiers[name[i+1:]] {
			field, mod = name[:i], name[i+1:]
		}
		mods, ok := filterable[field]
		if !ok || !contains(mods, mod) {
			continue
		}
		out = append(out, condition{Field: field, Modifier: mod, Values: values})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Modifier < out[j].Modifier
	})
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lower(s string) string { return strings.ToLower(s) }

// fieldString renders a field value for comparison; ok is false for null.
func fieldString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case bool:
		return strconv.FormatBool(x), true
	default:
		return fmt.Sprint(x), true
	}
}

// matches reports whether a rendered resource satisfies every condition.
// Repeated values of eq, prefix and like are OR'ed. UNCONFIRMED: Cattle's
// semantics for a repeated _ne; chosen: the value must differ from all.
func matches(r map[string]any, conds []condition) bool {
	for _, c := range conds {
		if !matchOne(r[c.Field], c) {
			return false
		}
	}
	return true
}

func matchOne(v any, c condition) bool {
	s, present := fieldString(v)
	switch c.Modifier {
	case "null":
		return !present
	case "notnull":
		return present
	case "ne":
		return !present || !contains(c.Values, s)
	case "notlike":
		for _, p := range c.Values {
			if present && likeMatch(p, s) {
				return false
			}
		}
		return true
	}
	if !present {
		return false
	}
	for _, want := range c.Values {
		if matchValue(c.Modifier, s, want) {
			return true
		}
	}
	return false
}

func matchValue(mod, have, want string) bool {
	switch mod {
	case "eq":
		return have == want
	case "prefix":
		return strings.HasPrefix(have, want)
	case "like":
		return likeMatch(want, have)
	case "lt", "lte", "gt", "gte":
		cmp := compareValues(have, want)
		return (mod == "lt" && cmp < 0) || (mod == "lte" && cmp <= 0) ||
			(mod == "gt" && cmp > 0) || (mod == "gte" && cmp >= 0)
	}
	return false
}

// compareValues compares numerically when both are numbers.
func compareValues(a, b string) int {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// likeMatch is SQL LIKE: % any run, _ one character.
func likeMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// Paging limits (ParseCollectionAttributes).
const (
	defaultLimit = 100
	maxLimit     = 3000
)

// paging is the parsed limit and marker.
type paging struct {
	Limit  int
	Offset int
}

// parsePaging reads limit (default 100, <=0 or above the cap: 3000) and
// marker ("m<offset>").
func parsePaging(q url.Values) paging {
	p := paging{Limit: defaultLimit}
	if v := q.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			p.Limit = n
		}
	}
	if p.Limit <= 0 || p.Limit > maxLimit {
		p.Limit = maxLimit
	}
	if m := q.Get("marker"); strings.HasPrefix(m, "m") {
		if n, err := strconv.Atoi(m[1:]); err == nil && n > 0 {
			p.Offset = n
		}
	}
	return p
}

// sortResources orders by the sort field (if filterable), else by id.
func sortResources(rs []map[string]any, q url.Values, filterable map[string][]string) {
	field := q.Get("sort")
	if _, ok := filterable[field]; !ok || field == "" {
		field = "id"
	}
	desc := q.Get("order") == "desc"
	less := func(a, b map[string]any) bool {
		if field == "id" {
			return dbID(fmt.Sprint(a["id"])) < dbID(fmt.Sprint(b["id"]))
		}
		x, _ := fieldString(a[field])
		y, _ := fieldString(b[field])
		return compareValues(x, y) < 0
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if desc {
			return less(rs[j], rs[i])
		}
		return less(rs[i], rs[j])
	})
}

// nextURL is the request URL with marker=m<offset>.
func nextURL(self *url.URL, offset int) string {
	u := *self
	q := u.Query()
	q.Set("marker", "m"+strconv.Itoa(offset))
	u.RawQuery = q.Encode()
	return u.String()
}
