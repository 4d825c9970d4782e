package rancherapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"
	client "github.com/rancher/go-rancher/v2"
)

// fakeRancher is a small Cattle stand-in for unit tests: schemas, three
// collections with offset paging, a chosen set of honoured filters, by-id
// reads, a websocket with ping events, and hooks to fail requests. The
// full simulator lives in ranchertest; this one exists to reach corners
// (ignored filters, broken paging) the simulator has no reason to offer.
type fakeRancher struct {
	t      testing.TB
	srv    *httptest.Server
	ak, sk string

	mu         sync.Mutex
	projects   []string
	items      map[string][]map[string]any // plural -> objects
	honour     map[string]bool             // filters Cattle would honour
	honourIn   map[string]map[string]bool  // per collection, instead of honour
	fail       func(r *http.Request) int   // non-zero: answer this status
	log        []string                    // "GET /path?query"
	noPings    bool
	pingEvery  time.Duration
	events     chan string
	wsConns    []*websocket.Conn
	wsAccepted int
	noNext     bool // pages say partial but give no next link
}

const fakeProject = "1a5"

func newFakeRancher(t testing.TB) *fakeRancher { return startFake(t, false) }

// newFakeRancherTLS serves the fake over HTTPS (and wss) with httptest's
// self-signed certificate; f.srv.Certificate() is its CA.
func newFakeRancherTLS(t testing.TB) *fakeRancher { return startFake(t, true) }

func startFake(t testing.TB, useTLS bool) *fakeRancher {
	f := &fakeRancher{
		t: t, ak: "ak", sk: "sekrit-key", projects: []string{fakeProject},
		items:     map[string][]map[string]any{},
		honour:    map[string]bool{"name": true, "name_prefix": true, "stackId": true, "removed_null": true, "sort": true},
		pingEvery: 50 * time.Millisecond, events: make(chan string, 100),
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	if useTLS {
		// Handshakes a test makes fail on purpose are not news.
		f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(func() {
		f.dropWebsockets()
		f.srv.Close()
	})
	return f
}

func (f *fakeRancher) base() string    { return f.srv.URL }
func (f *fakeRancher) project() string { return f.srv.URL + "/v2-beta/projects/" + fakeProject }

// add stores go-rancher objects as JSON maps under a collection.
func (f *fakeRancher) add(plural string, objs ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range objs {
		b, _ := json.Marshal(o)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		f.items[plural] = append(f.items[plural], m)
	}
}

// unset removes a field from every object of a collection, as a server
// that does not render it.
func (f *fakeRancher) unset(plural, field string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.items[plural] {
		delete(m, field)
	}
}

// setAll sets one field of every object of a collection.
func (f *fakeRancher) setAll(plural, field string, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.items[plural] {
		m[field] = v
	}
}

// set replaces one field of one object.
func (f *fakeRancher) set(plural, id, field string, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.items[plural] {
		if m["id"] == id {
			m[field] = v
		}
	}
}

func (f *fakeRancher) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeRancher) resetLog() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

// dropNextLinks makes every page say it is partial without a next link.
func (f *fakeRancher) dropNextLinks() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noNext = true
}

func (f *fakeRancher) setFail(fn func(r *http.Request) int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *fakeRancher) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-API-Schemas", f.project()+"/schemas")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeRancher) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+r.URL.RequestURI())
	fail := f.fail
	f.mu.Unlock()
	if ak, sk, ok := r.BasicAuth(); !ok || ak != f.ak || sk != f.sk {
		f.writeJSON(w, 401, map[string]any{"type": "error", "status": 401, "code": "Unauthorized", "message": "Unauthorized"})
		return
	}
	if fail != nil {
		if code := fail(r); code != 0 {
			f.writeJSON(w, code, map[string]any{"type": "error", "status": code, "code": "ServerError"})
			return
		}
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/v2-beta/schemas":
		w.Header().Set("X-API-Schemas", f.base()+"/v2-beta/schemas")
		f.writeJSONRaw(w, f.schemas(f.base()+"/v2-beta", true))
	case p == "/v2-beta/projects":
		var data []map[string]any
		for _, id := range f.projects {
			data = append(data, map[string]any{"id": id, "type": "project", "name": "env-" + id, "state": "active"})
		}
		f.writeJSON(w, 200, map[string]any{"type": "collection", "data": data})
	case p == "/v2-beta/projects/"+fakeProject+"/schemas":
		f.writeJSON(w, 200, f.schemas(f.project(), false))
	case p == "/v2-beta/projects/"+fakeProject+"/subscribe":
		f.serveWebsocket(w, r)
	case strings.HasPrefix(p, "/v2-beta/projects/"+fakeProject+"/"):
		f.serveCollection(w, r, strings.Split(strings.TrimPrefix(p, "/v2-beta/projects/"+fakeProject+"/"), "/"))
	default:
		f.writeJSON(w, 404, map[string]any{"type": "error", "status": 404, "code": "NotFound"})
	}
}

func (f *fakeRancher) writeJSONRaw(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeRancher) schemas(prefix string, root bool) map[string]any {
	var data []map[string]any
	types := map[string]string{"stack": "stacks", "service": "services", "container": "containers", "subscribe": "subscribe"}
	if root {
		types = map[string]string{"project": "projects"}
	}
	for id, plural := range types {
		coll := prefix + "/" + plural
		if id == "project" {
			coll = f.base() + "/v2-beta/projects"
		}
		data = append(data, map[string]any{"id": id, "type": "schema", "pluralName": plural,
			"links":             map[string]any{"self": prefix + "/schemas/" + id, "collection": coll},
			"collectionMethods": []string{"GET"}, "resourceMethods": []string{"GET"}})
	}
	return map[string]any{"type": "collection", "resourceType": "schema", "data": data}
}

func (f *fakeRancher) serveCollection(w http.ResponseWriter, r *http.Request, parts []string) {
	f.mu.Lock()
	all := f.items[parts[0]]
	honour := f.honour
	if h, ok := f.honourIn[parts[0]]; ok {
		honour = h
	}
	f.mu.Unlock()
	if len(parts) == 2 {
		for _, m := range all {
			if m["id"] == parts[1] {
				f.writeJSON(w, 200, m)
				return
			}
		}
		f.writeJSON(w, 404, map[string]any{"type": "error", "status": 404, "code": "NotFound"})
		return
	}
	q := r.URL.Query()
	var rows []map[string]any
	for _, m := range all {
		if m["removed"] == nil && matches(m, q, honour) {
			rows = append(rows, m)
		}
	}
	if honour["sort"] && q.Get("sort") == "id" && q.Get("order") == "desc" {
		slices.SortFunc(rows, func(a, b map[string]any) int {
			return cmp.Compare(dbID(fmt.Sprint(b["id"])), dbID(fmt.Sprint(a["id"])))
		})
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	offset, _ := strconv.Atoi(strings.TrimPrefix(q.Get("marker"), "m"))
	offset = min(offset, len(rows))
	end := min(offset+limit, len(rows))
	pg := map[string]any{"limit": limit, "partial": end < len(rows)}
	f.mu.Lock()
	noNext := f.noNext
	f.mu.Unlock()
	if end < len(rows) && !noNext {
		q.Set("marker", "m"+strconv.Itoa(end))
		u := *r.URL
		u.RawQuery = q.Encode()
		pg["next"] = f.base() + u.RequestURI()
	}
	f.writeJSON(w, 200, map[string]any{"type": "collection", "data": rows[offset:end], "pagination": pg})
}

// matches applies the honoured filters as Cattle's SQL does: a row whose
// column is NULL (here: absent or null) never equals a value.
func matches(m map[string]any, q url.Values, honour map[string]bool) bool {
	for k, vs := range q {
		switch {
		case !honour[k] || k == "removed_null" || k == "sort" || k == "order" || k == "limit" || k == "marker":
		case strings.HasSuffix(k, "_prefix"):
			if !strings.HasPrefix(fmt.Sprint(m[strings.TrimSuffix(k, "_prefix")]), vs[0]) {
				return false
			}
		case fmt.Sprint(m[k]) != vs[0]:
			return false
		}
	}
	return true
}

func (f *fakeRancher) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.wsConns = append(f.wsConns, conn)
	f.wsAccepted++
	noPings, every := f.noPings, f.pingEvery
	f.mu.Unlock()
	go func() { // read loop: answers control frames, notices the close
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ping := `{"name":"ping","resourceId":null,"resourceType":null,"data":{"options":{},"resources":[]}}`
	t := time.NewTicker(every)
	defer t.Stop()
	for first := true; ; first = false {
		var msg string
		if first && !noPings {
			msg = ping
		} else {
			select {
			case <-t.C:
				if noPings {
					continue
				}
				msg = ping
			case msg = <-f.events:
			}
		}
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return
		}
	}
}

func (f *fakeRancher) dropWebsockets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.wsConns {
		_ = c.Close()
	}
	f.wsConns = nil
}

func (f *fakeRancher) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wsAccepted
}

// seed fills the fake with stack "demo", service "web" with n containers
// and an unrelated stack "other" with service "web" and 2 containers.
func (f *fakeRancher) seed(n int) {
	f.add("stacks",
		client.Stack{Resource: client.Resource{Id: "1st1", Type: "stack"}, Name: "demo", State: "active"},
		client.Stack{Resource: client.Resource{Id: "1st2", Type: "stack"}, Name: "other", State: "active"})
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("1i%d", i))
	}
	f.add("services",
		client.Service{Resource: client.Resource{Id: "1s1", Type: "service"}, Name: "web", StackId: "1st1", State: "active", Scale: int64(n), InstanceIds: ids},
		client.Service{Resource: client.Resource{Id: "1s2", Type: "service"}, Name: "web", StackId: "1st2", State: "active", Scale: 2, InstanceIds: []string{"1i901", "1i902"}})
	for i := 1; i <= n; i++ {
		f.add("containers", fakeContainer(fmt.Sprintf("1i%d", i), "1s1", "1st1", "demo/web", i))
	}
	f.add("containers", fakeContainer("1i901", "1s2", "1st2", "other/web", 901), fakeContainer("1i902", "1s2", "1st2", "other/web", 902))
}

func fakeContainer(id, svc, stack, label string, i int) client.Container {
	return client.Container{
		Resource: client.Resource{Id: id, Type: "container"},
		Name:     strings.ReplaceAll(label, "/", "-") + "-" + strconv.Itoa(i), State: "running", HealthState: "healthy",
		PrimaryIpAddress: fmt.Sprintf("10.42.%d.%d", i/250, i%250+1), ServiceIds: []string{svc}, StackId: stack,
		CreateIndex: int64(i), StartCount: 1, HostId: "1h1",
		Labels: map[string]interface{}{labelStackService: label},
	}
}

// testOptions returns Options for the fake with short timings.
func (f *fakeRancher) testOptions(t *testing.T, url string) Options {
	return Options{
		URL: url, AccessKey: f.ak, SecretKey: f.sk,
		Clusters:     []ClusterRef{{Name: "demo", Stack: "demo", Services: []string{"web"}}},
		Timeout:      2 * time.Second,
		PingTimeout:  500 * time.Millisecond,
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 200 * time.Millisecond,
		Logger:       testr.New(t),
	}
}

func (f *fakeRancher) newClient(t *testing.T, mods ...func(*Options)) *Client {
	t.Helper()
	o := f.testOptions(t, f.project())
	for _, m := range mods {
		m(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// eventFor renders a resource.change of one stored object, as Cattle
// does: the object as it is now.
func (f *fakeRancher) eventFor(plural, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	typ := strings.TrimSuffix(plural, "s")
	for _, m := range f.items[plural] {
		if m["id"] == id {
			b, _ := json.Marshal(map[string]any{"name": "resource.change", "resourceType": typ, "resourceId": id,
				"data": map[string]any{"resource": m}})
			return string(b)
		}
	}
	f.t.Fatalf("eventFor: no %s %s", plural, id)
	return ""
}

// byIDReads returns the by-id reads of a collection the server saw.
func (f *fakeRancher) byIDReads(plural string) []string {
	var out []string
	for _, r := range f.requests() {
		path, _, _ := strings.Cut(strings.TrimPrefix(r, "GET "), "?")
		if id, ok := strings.CutPrefix(path, "/v2-beta/projects/"+fakeProject+"/"+plural+"/"); ok {
			out = append(out, id)
		}
	}
	return out
}
