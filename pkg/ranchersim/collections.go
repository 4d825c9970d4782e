package ranchersim

import (
	"net/http"
	"net/url"
)

// This file serves collections, resources by id and their links, for
// every schema: the types the simulator holds objects of answer them,
// every other type an empty collection and Cattle's 404 by id.

// holder returns the object type whose objects a schema lists and the
// kind they must have ("" any), or "" when the simulator holds none.
func holder(d *schemaDef) (string, string) {
	switch d.id {
	case typeProject, typeStack, v1StackType, typeHost, typeSetting:
		if d.id == v1StackType {
			return typeStack, ""
		}
		return d.id, ""
	case typeService:
		return typeService, "" // every kind of service
	case typeContainer, typeInstance:
		return typeContainer, ""
	}
	return "", ""
}

// listLocked renders the objects a schema lists: removed objects are left
// out, as Cattle's default criteria do.
func (s *Sim) listLocked(u urls, d *schemaDef, keep func(id string) bool) []map[string]any {
	typ, _ := holder(d)
	var out []map[string]any
	add := func(id string, removed bool) {
		if !removed && (keep == nil || keep(id)) {
			out = append(out, s.renderLocked(u, typ, id))
		}
	}
	switch typ {
	case typeProject:
		add(s.projectID, false)
	case typeStack:
		for id, st := range s.stacks {
			add(id, !st.removed.IsZero())
		}
	case typeService:
		for id, svc := range s.services {
			add(id, !svc.removed.IsZero())
		}
	case typeContainer:
		for id, c := range s.containers {
			add(id, !c.removed.IsZero())
		}
	case typeHost:
		for id, h := range s.hosts {
			add(id, !h.removed.IsZero())
		}
	case typeSetting:
		for _, st := range settingValues {
			add(st.name, false)
		}
	}
	return out
}

// internalID maps an id of the request's API version to the simulator's
// (v1 environment ids 1e<n> are stacks 1st<n>).
func internalID(u urls, typ, id string) string {
	if u.v1() && typ == typeStack {
		return v2StackID(id)
	}
	return id
}

// findLocked returns the object type and internal id of a schema's
// object, or "" when it does not exist (removed objects exist until they
// are purged).
func (s *Sim) findLocked(u urls, d *schemaDef, id string) (string, string) {
	typ, _ := holder(d)
	if typ == "" {
		return "", ""
	}
	id = internalID(u, typ, id)
	if s.renderLocked(u, typ, id) == nil {
		return "", ""
	}
	return typ, id
}

// collection builds Cattle's collection envelope around filtered, sorted,
// paged data.
func collection(r *http.Request, u urls, d *schemaDef, all []map[string]any) map[string]any {
	q := r.URL.Query()
	filterable := d.filterable()
	conds := parseConditions(q, filterable)
	var data []map[string]any
	for _, res := range all {
		if matches(res, conds) {
			data = append(data, res)
		}
	}
	sortResources(data, q, filterable)
	pg := parsePaging(q)
	self, _ := url.Parse(u.base + r.URL.RequestURI())
	end := min(pg.Offset+pg.Limit, len(data))
	page := []map[string]any{}
	if pg.Offset < len(data) {
		page = data[pg.Offset:end]
	}
	var next any
	partial := end < len(data)
	if partial {
		next = nextURL(self, end)
	}
	filters := map[string]any{}
	sortLinks := map[string]any{}
	for f := range filterable {
		filters[f] = nil
		sortLinks[f] = u.collectionOf(d) + "?sort=" + f
	}
	for _, c := range conds {
		list, _ := filters[c.Field].([]any)
		for _, v := range c.Values {
			list = append(list, map[string]any{"modifier": c.Modifier, "value": v})
		}
		filters[c.Field] = list
	}
	createTypes := map[string]any{}
	if d.create {
		createTypes[d.id] = u.collectionOf(d)
	}
	var sortInfo any
	if f := q.Get("sort"); f != "" {
		if _, ok := filterable[f]; ok {
			sortInfo = map[string]any{"name": f, "order": orDefault(q.Get("order"), "asc"), "reverse": self.String()}
		}
	}
	return map[string]any{
		"type": "collection", "resourceType": d.id, "links": map[string]any{"self": self.String()},
		"createTypes": createTypes, "actions": map[string]any{}, "data": page, "sortLinks": sortLinks,
		"pagination": map[string]any{"first": nil, "previous": nil, "next": next, "limit": pg.Limit,
			"total": nil, "partial": partial},
		"sort": sortInfo, "filters": filters,
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// serveCollection is GET (list) and POST (create) on a collection.
func (s *Sim) serveCollection(w http.ResponseWriter, r *http.Request, u urls, d *schemaDef) error {
	switch {
	case r.Method == http.MethodGet && d.list:
		s.mu.Lock()
		all := s.listLocked(u, d, nil)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, collection(r, u, d, all))
		return nil
	case r.Method == http.MethodPost && d.create:
		return s.serveCreate(w, r, u, d)
	}
	return methodNotAllowed(r.Method, d.plural)
}

// serveResource handles GET, PUT, DELETE and POST ?action= on one object.
// Removed objects are still returned by id, with state "removed", until
// they are purged.
func (s *Sim) serveResource(w http.ResponseWriter, r *http.Request, u urls, d *schemaDef, extID string) error {
	action := r.URL.Query().Get("action")
	switch {
	case r.Method == http.MethodGet && d.byID:
	case r.Method == http.MethodPost && action != "":
		if _, ok := d.actions[action]; !ok {
			return notFound("action " + action + " of " + d.id)
		}
	case r.Method == http.MethodPut && d.update:
	case r.Method == http.MethodDelete && d.rm:
	default:
		return methodNotAllowed(r.Method, d.id)
	}
	s.mu.Lock()
	typ, id := s.findLocked(u, d, extID)
	s.mu.Unlock()
	if typ == "" {
		return notFound(d.id + " " + extID)
	}
	status := http.StatusOK
	var out any
	var err error
	switch r.Method {
	case http.MethodPost:
		status = http.StatusAccepted // AbstractObjectResourceManager: ACCEPTED
		out, err = s.serveAction(r, u, typ, id, action)
	case http.MethodPut:
		err = s.serveUpdate(r, typ, id)
	case http.MethodDelete:
		status = http.StatusAccepted
		err = s.removeByID(typ, id)
	}
	if err != nil {
		return err
	}
	if out == nil {
		s.mu.Lock()
		out = s.renderLocked(u, typ, id)
		s.mu.Unlock()
	}
	if out == nil { // purged meanwhile
		return notFound(d.id + " " + extID)
	}
	writeJSON(w, status, out)
	return nil
}

// serveLink answers a resource's link collections.
func (s *Sim) serveLink(w http.ResponseWriter, r *http.Request, u urls, d *schemaDef, extID, link string) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(r.Method, d.id+" "+link)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typ, id := s.findLocked(u, d, extID)
	if typ == "" {
		return notFound(d.id + " " + extID)
	}
	var elem string
	var keep func(string) bool
	switch typ + "/" + lower(link) {
	case "service/instances":
		elem, keep = typeContainer, func(cid string) bool { return s.containers[cid].serviceID == id }
	case "stack/services":
		elem, keep = typeService, func(sid string) bool { return s.services[sid].stackID == id }
	case "container/services":
		c := s.containers[id]
		elem, keep = typeService, func(sid string) bool { return c.serviceID == sid }
	case "container/hosts":
		c := s.containers[id]
		elem, keep = typeHost, func(hid string) bool { return c.hostID == hid }
	case "host/instances":
		elem, keep = typeContainer, func(cid string) bool { return s.containers[cid].hostID == id }
	default:
		return notFound("link " + link + " of " + d.id)
	}
	ed := u.schemaOf(elem)
	writeJSON(w, http.StatusOK, collection(r, u, ed, s.listLocked(u, ed, keep)))
	return nil
}
