package ranchersim

import (
	"net/http"
	"net/url"
)

// listLocked renders the non-removed objects of a type: lists leave out
// removed objects, as Cattle's default criteria do.
func (s *Sim) listLocked(u urls, typ string, keep func(id string) bool) []map[string]any {
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
			add(id, st.state == "removed")
		}
	case typeService:
		for id, svc := range s.services {
			add(id, svc.state == "removed")
		}
	case typeContainer, "instance":
		for id, c := range s.containers {
			add(id, c.state == "removed")
		}
	case typeHost:
		for id := range s.hosts {
			add(id, false)
		}
	}
	return out
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
		sortLinks[f] = u.collection(d.id) + "?sort=" + f
	}
	for _, c := range conds {
		list, _ := filters[c.Field].([]any)
		for _, v := range c.Values {
			list = append(list, map[string]any{"modifier": c.Modifier, "value": v})
		}
		filters[c.Field] = list
	}
	createTypes := map[string]any{}
	if contains(d.collectionMethods, http.MethodPost) {
		createTypes[d.id] = u.collection(d.id)
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

func (s *Sim) serveCollection(w http.ResponseWriter, r *http.Request, u urls, plural string) {
	d := schemaByPlural(plural)
	typ := typeOfPlural(plural)
	if d == nil || typ == "" {
		writeError(w, http.StatusNotFound, "NotFound", plural+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		all := s.listLocked(u, typ, nil)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, collection(r, u, d, all))
	case http.MethodPost:
		s.serveCreate(w, r, u, typ)
	default:
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" not allowed")
	}
}

// serveResource handles GET, PUT, DELETE and POST ?action= on one object.
// Removed objects are still returned by id, with state "removed".
func (s *Sim) serveResource(w http.ResponseWriter, r *http.Request, u urls, typ, id string) {
	if typ == "" {
		writeError(w, http.StatusNotFound, "NotFound", "not found")
		return
	}
	s.mu.Lock()
	exists := s.renderLocked(u, typ, id) != nil
	s.mu.Unlock()
	if !exists {
		writeError(w, http.StatusNotFound, "NotFound", typ+" "+id+" not found")
		return
	}
	var err error
	status := http.StatusOK
	switch {
	case r.Method == http.MethodGet:
	case r.Method == http.MethodPost && r.URL.Query().Get("action") != "":
		// UNCONFIRMED: Cattle's status for actions; 202 (the process
		// runs on) is accepted by every client as any 2xx is.
		status = http.StatusAccepted
		err = s.serveAction(r, typ, id, r.URL.Query().Get("action"))
	case r.Method == http.MethodPut && typ != typeProject && typ != typeHost && typ != "instance":
		err = s.serveUpdate(r, typ, id)
	case r.Method == http.MethodDelete && (typ == typeContainer || typ == typeService || typ == typeStack):
		status = http.StatusAccepted
		err = s.removeByID(typ, id)
	default:
		err = &apiError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed", msg: r.Method + " not allowed"}
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	res := s.renderLocked(u, typ, id)
	s.mu.Unlock()
	writeJSON(w, status, res)
}

// serveLink answers a resource's link collections.
func (s *Sim) serveLink(w http.ResponseWriter, r *http.Request, u urls, typ, id, link string) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" not allowed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var elem string
	var keep func(string) bool
	switch typ + "/" + link {
	case "service/instances":
		elem, keep = typeContainer, func(cid string) bool { return s.containers[cid].serviceID == id }
	case "stack/services":
		elem, keep = typeService, func(sid string) bool { return s.services[sid].stackID == id }
	case "container/services":
		c := s.containers[id]
		elem, keep = typeService, func(sid string) bool { return c != nil && c.serviceID == sid }
	case "container/hosts":
		c := s.containers[id]
		elem, keep = typeHost, func(hid string) bool { return c != nil && c.hostID == hid }
	case "host/instances":
		elem, keep = typeContainer, func(cid string) bool { return s.containers[cid].hostID == id }
	default:
		writeError(w, http.StatusNotFound, "NotFound", "link "+link+" not found")
		return
	}
	if s.renderLocked(u, typ, id) == nil {
		writeError(w, http.StatusNotFound, "NotFound", typ+" "+id+" not found")
		return
	}
	writeJSON(w, http.StatusOK, collection(r, u, schemaByID(elem), s.listLocked(u, elem, keep)))
}
