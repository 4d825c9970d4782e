package ranchersim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// waitMetadata waits until metadata (and DNS) show every change so far.
func waitMetadata(t *testing.T, s *ranchersim.Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := s.WaitMetadata(ctx); err != nil {
		t.Fatal(err)
	}
}

// demoMeta is demo with metadata caught up.
func demoMeta(t *testing.T, opts ranchersim.Options, scale int, hc *ranchersim.HealthCheck) *ranchersim.Sim {
	t.Helper()
	s := demo(t, opts, scale, hc)
	waitMetadata(t, s)
	return s
}

// callMetadata calls the metadata handler as a client at ip would.
func callMetadata(s *ranchersim.Sim, ip, path string, jsonOut bool) (int, string) {
	return callMetadataWith(s, http.MethodGet, ip, path, jsonOut, nil)
}

func callMetadataWith(s *ranchersim.Sim, method, ip, path string, jsonOut bool, header http.Header) (int, string) {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = ip + ":40000"
	for k, v := range header {
		req.Header[k] = v
	}
	if jsonOut {
		req.Header.Set("Accept", "application/json")
	}
	rr := httptest.NewRecorder()
	s.MetadataHandler().ServeHTTP(rr, req)
	return rr.Code, rr.Body.String()
}

// metaObject decodes a JSON answer into a generic object.
func metaObject(t *testing.T, s *ranchersim.Sim, ip, path string) map[string]any {
	t.Helper()
	code, body := callMetadata(s, ip, path, true)
	if code != 200 {
		t.Fatalf("%s: %d %s", path, code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v in %s", path, err, body)
	}
	return m
}

func version(t *testing.T, s *ranchersim.Sim) string {
	t.Helper()
	var v string
	if code := metadataJSON(t, s, "/latest/version", &v); code != 200 || v == "" {
		t.Fatalf("version: %d %q", code, v)
	}
	return v
}

func TestMetadataSelfByCallerIP(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 3, fastHealth())
	me := s.Containers("demo", "hello")[1]
	code, body := callMetadata(s, me.IP, "/latest/self/service", true)
	if code != 200 {
		t.Fatalf("self/service: %d %s", code, body)
	}
	var svc struct {
		Name       string          `json:"name"`
		StackName  string          `json:"stack_name"`
		Containers []metaContainer `json:"containers"`
	}
	if err := json.Unmarshal([]byte(body), &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Name != "hello" || svc.StackName != "demo" || len(svc.Containers) != 3 {
		t.Fatalf("self/service = %+v", svc)
	}
	for _, c := range svc.Containers {
		if len(c.IPs) != 1 || c.IPs[0] == "" || c.State != "running" || c.HealthState != "healthy" {
			t.Fatalf("container %+v", c)
		}
	}
	if code, body := callMetadata(s, me.IP, "/latest/self/container/primary_ip", false); code != 200 || body != me.IP {
		t.Fatalf("self/container/primary_ip: %d %q", code, body)
	}
	if code, body := callMetadata(s, me.IP, "/latest/self/container/name", true); code != 200 || body != `"`+me.Name+`"`+"\n" {
		t.Fatalf("self/container/name json: %d %q", code, body)
	}
	// An unknown caller has only a host.
	if code, _ := callMetadata(s, "127.9.9.9", "/latest/self/service", true); code != 404 {
		t.Fatalf("unknown caller self/service: %d", code)
	}
	if code, _ := callMetadata(s, "127.9.9.9", "/latest/self/host", true); code != 200 {
		t.Fatalf("unknown caller self/host: %d", code)
	}
}

func TestMetadataTextFormat(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 2, nil)
	tests := []struct{ path, want string }{
		{"/", "2015-07-25\n2015-12-19\n2016-07-29\nlatest\n"},
		{"/latest/services", "0=hello\n"},
		{"/latest/stacks/demo/services/hello/containers", "0=demo-hello-1\n1=demo-hello-2\n"},
		{"/latest/stacks/demo/services/hello/containers/demo-hello-2/create_index", "2"},
		{"/latest/stacks/demo/services/hello/containers/1/service_name", "hello"},
		{"/latest/stacks/demo/services/hello/containers/1/hostname", ""},
		{"/latest/stacks/demo/services/hello/containers/1/dns", "0\n"},
		{"/latest/networks", "0=managed\n"},
		{"/2015-07-25/services/hello/containers", "0\n1\n"},
		{"/2015-07-25/services/hello/containers/0", "demo-hello-1"},
	}
	for _, tc := range tests {
		if code, got := callMetadata(s, "127.0.0.1", tc.path, false); code != 200 || got != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.path, code, got, tc.want)
		}
	}
	_, self := callMetadata(s, s.Containers("demo", "hello")[0].IP, "/latest/self", false)
	if self != "container/\nhost/\nservice/\nstack/\n" {
		t.Errorf("self keys %q", self)
	}
	if code, _ := callMetadata(s, "127.0.0.1", "/latest/nosuch", false); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	_, plain := callMetadata(s, "127.0.0.1", "/latest/services/hello", false)
	if _, slash := callMetadata(s, "127.0.0.1", "/latest/services/hello/", false); slash != plain || !strings.Contains(plain, "containers/\n") {
		t.Errorf("trailing slash: %q vs %q", slash, plain)
	}
}

func TestMetadataAnswersErrorsAsRancherMetadataDoes(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, nil)
	tests := []struct {
		name, method, path string
		wantCode           int
		wantBody           string
	}{
		{"unknown version", http.MethodGet, "/2014-01-01/services", 404, `"message":"Invalid version"`},
		{"unknown key", http.MethodGet, "/latest/nosuch", 404, `"message":"Not found"`},
		{"index out of range", http.MethodGet, "/latest/services/7", 404, `"type":"error"`},
		{"POST refused", http.MethodPost, "/latest/services", 405, `"code":405`},
		{"PUT refused", http.MethodPut, "/latest/version", 405, `"code":405`},
		{"HEAD answered", http.MethodHead, "/latest/version", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := callMetadataWith(s, tc.method, "127.0.0.1", tc.path, true, nil)
			if code != tc.wantCode || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("%s %s: %d %s, want %d with %s", tc.method, tc.path, code, body, tc.wantCode, tc.wantBody)
			}
		})
	}
}

func TestMetadataVersionChangesAtMostOncePerReloadInterval(t *testing.T) {
	const interval = 2 * time.Second
	s := demoMeta(t, ranchersim.Options{Metadata: ranchersim.MetadataOptions{ReloadInterval: interval}}, 1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	steps := 0
	go s.WatchContainers(ctx, func(ranchersim.ContainerChange) { mu.Lock(); steps++; mu.Unlock() })
	w := watchVersions(ctx, s, version(t, s))

	start := time.Now()
	for _, n := range []int{6, 1, 4, 2} { // dozens of 20 ms steps
		if err := s.Scale("demo", "hello", n); err != nil {
			t.Fatal(err)
		}
		settle(t, s)
	}
	waitMetadata(t, s)
	elapsed := time.Since(start)
	final := version(t, s)
	testwait.Eventually(t, settleTimeout, "the watcher to see the last version", func() bool { _, last := w.seen(); return last == final })
	changes, _ := w.seen()
	mu.Lock()
	defer mu.Unlock()
	// Reloads are at least one interval apart: within elapsed there is
	// room for at most elapsed/interval + 1 of them.
	if most := int(elapsed/interval) + 1; changes < 1 || changes > most {
		t.Fatalf("%d version changes in %v (at most %d with a %v interval)", changes, elapsed, most, interval)
	}
	if steps <= changes {
		t.Fatalf("%d container steps for %d version changes", steps, changes)
	}
	t.Logf("%d container steps, %d version changes in %v", steps, changes, elapsed)
}

// versionWatcher long-polls the version and counts its changes.
type versionWatcher struct {
	mu      sync.Mutex
	changes int
	last    string
}

func (w *versionWatcher) seen() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes, w.last
}

// watchVersions long-polls the version from v until ctx is done.
func watchVersions(ctx context.Context, s *ranchersim.Sim, v string) *versionWatcher {
	w := &versionWatcher{last: v}
	go func() {
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
				s.MetadataURL()+"/latest/version?wait=true&maxWait=120&value="+v, nil)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			var got string
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err == nil && got != v {
				v = got
				w.mu.Lock()
				w.changes, w.last = w.changes+1, got
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func TestMetadataShowsChangesAfterOneReload(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{Metadata: ranchersim.MetadataOptions{ReloadInterval: 200 * time.Millisecond}}, 1, nil)
	v := version(t, s)
	if err := s.Scale("demo", "hello", 3); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	waitMetadata(t, s)
	svc := metaObject(t, s, "127.0.0.1", "/latest/services/hello")
	if svc["scale"] != float64(3) || len(svc["containers"].([]any)) != 3 {
		t.Fatalf("after the reload: scale %v, %d containers", svc["scale"], len(svc["containers"].([]any)))
	}
	if version(t, s) == v {
		t.Fatal("version unchanged after a reload that changed the answers")
	}
}

func TestMetadataHonoursXForwardedForOnlyWithXFF(t *testing.T) {
	for _, xff := range []bool{false, true} {
		s := demoMeta(t, ranchersim.Options{Metadata: ranchersim.MetadataOptions{XFF: xff}}, 2, nil)
		me := s.Containers("demo", "hello")[1]
		h := http.Header{"X-Forwarded-For": {me.IP}}
		code, body := callMetadataWith(s, http.MethodGet, "127.9.9.9", "/latest/self/container/primary_ip", false, h)
		switch {
		case xff && (code != 200 || body != me.IP):
			t.Errorf("with --xff: %d %q, want %s", code, body, me.IP)
		case !xff && code != 404:
			t.Errorf("without --xff: %d %q, want 404 (the proxy's address has no container)", code, body)
		}
		// Without the header the connection's address decides, either way.
		if code, body := callMetadata(s, me.IP, "/latest/self/container/primary_ip", false); code != 200 || body != me.IP {
			t.Errorf("xff=%v, no header: %d %q", xff, code, body)
		}
	}
}

func TestMetadataFieldsAsCattleRendersThem(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 2, nil) // no health check
	me := s.Containers("demo", "hello")[0]
	c := metaObject(t, s, me.IP, "/latest/self/container")
	nulls := []string{"health_state", "memory_reservation", "milli_cpu_reservation", "network_from_container_uuid",
		"hostname", "health_check", "links"}
	for _, k := range nulls {
		if v, ok := c[k]; !ok || v != nil {
			t.Errorf("container %s = %v (present %v), want null", k, v, ok)
		}
	}
	if c["metadata_kind"] != "container" || c["service_uuid"] == nil || c["network_uuid"] == nil {
		t.Errorf("container kind %v, service_uuid %v, network_uuid %v", c["metadata_kind"], c["service_uuid"], c["network_uuid"])
	}
	wantSearch := []any{"demo.rancher.internal", "hello.demo.rancher.internal", "rancher.internal"}
	if got := c["dns_search"].([]any); len(got) != 3 || got[0] != wantSearch[0] || got[1] != wantSearch[1] || got[2] != wantSearch[2] {
		t.Errorf("dns_search %v, want %v", got, wantSearch)
	}
	if dns := c["dns"].([]any); len(dns) != 1 || dns[0] != ranchersim.NetworkServicesIP {
		t.Errorf("dns %v", dns)
	}

	svc := metaObject(t, s, "127.0.0.1", "/latest/services/hello")
	token, _ := svc["token"].(string)
	if token == "" || token == svc["uuid"] || svc["metadata_kind"] != "service" || svc["health_check"] != nil {
		t.Errorf("service token %q uuid %v kind %v health_check %v", token, svc["uuid"], svc["metadata_kind"], svc["health_check"])
	}
	self := metaObject(t, s, me.IP, "/latest/self/service")
	if _, ok := self["token"]; ok || self["uuid"] != svc["uuid"] {
		t.Errorf("self/service carries token %v (uuid %v)", self["token"], self["uuid"])
	}
	if code, _ := callMetadata(s, me.IP, "/latest/self/service/token", false); code != 404 {
		t.Errorf("self/service/token: %d, want 404", code)
	}

	root := metaObject(t, s, "127.0.0.1", "/latest")
	nets, _ := root["networks"].([]any)
	if len(nets) != 1 || nets[0].(map[string]any)["metadata_kind"] != "network" ||
		nets[0].(map[string]any)["uuid"] != c["network_uuid"] {
		t.Errorf("networks %v (container network_uuid %v)", root["networks"], c["network_uuid"])
	}
	kinds := map[string]string{"stacks": "stack", "hosts": "host", "services": "service", "containers": "container"}
	for key, kind := range kinds {
		list, _ := root[key].([]any)
		if len(list) == 0 || list[0].(map[string]any)["metadata_kind"] != kind {
			t.Errorf("%s: %v", key, root[key])
		}
	}
	if root["name"] != "Default" || root["uuid"] == nil {
		t.Errorf("environment name %v uuid %v", root["name"], root["uuid"])
	}
}

func TestMetadataContainerWithHealthCheckReportsIt(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, fastHealth())
	c := metaObject(t, s, "127.0.0.1", "/latest/containers/0")
	hc, ok := c["health_check"].(map[string]any)
	if !ok || hc["port"] != float64(4001) || hc["request_line"] != "GET /v1/health HTTP/1.0" || c["health_state"] != "healthy" {
		t.Fatalf("health_check %v, health_state %v", c["health_check"], c["health_state"])
	}
	if hosts, _ := c["health_check_hosts"].([]any); len(hosts) == 0 {
		t.Fatalf("health_check_hosts %v", c["health_check_hosts"])
	}
}

func TestMetadataVersionsShapeNamesAndHosts(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 0, nil)
	if _, err := s.CreateStack("Shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateService("Shop", ranchersim.ServiceSpec{Name: "Web", Scale: 1, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	waitMetadata(t, s)
	tests := []struct {
		path string
		want any
	}{
		{"/latest/stacks/Shop/name", "shop"},
		{"/2015-12-19/stacks/Shop/name", "Shop"},
		{"/latest/stacks/shop/services/web/primary_service_name", "web"},
		{"/latest/stacks/shop/services/web/containers/0/stack_name", "shop"},
		{"/2015-12-19/stacks/Shop/services/0/name", "Web"},
		{"/2015-07-25/stacks/Shop/services/0", "Web"},
		{"/2015-12-19/hosts/0/hostId", float64(1)},
	}
	for _, tc := range tests {
		var got any
		if code := metadataJSON(t, s, tc.path, &got); code != 200 || got != tc.want {
			t.Errorf("%s: %d %v, want %v", tc.path, code, got, tc.want)
		}
	}
	if code := metadataJSON(t, s, "/latest/hosts/0/hostId", nil); code != 404 {
		t.Errorf("latest hosts carry hostId: %d", code)
	}
}

func TestMetadataLongPollWakesOnReload(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, nil)
	version := version(t, s)
	type answer struct {
		v   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.MetadataURL()+"/latest/version?wait=true&maxWait=60&value="+version, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		var v string
		err = json.NewDecoder(resp.Body).Decode(&v)
		got <- answer{v, err}
	}()
	// Unchanged state: the poll is still waiting.
	select {
	case a := <-got:
		t.Fatalf("long poll answered before any change: %+v", a)
	case <-time.After(100 * time.Millisecond):
	}
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.v == version || a.v == "" {
		t.Fatalf("long poll: %+v (old %s)", a, version)
	}
}

func TestMetadataLongPollAnswersAtMaxWait(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, nil)
	v := version(t, s)
	code, body := callMetadata(s, "127.0.0.1", "/latest/version?wait=true&maxWait=1&value="+v, true)
	if code != 200 || body != `"`+v+`"`+"\n" {
		t.Fatalf("after maxWait: %d %q", code, body)
	}
}

func TestMetadataDownFault(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, nil)
	s.Faults().MetadataDown(time.Hour)
	resp, err := http.Get(s.MetadataURL() + "/latest/services")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	s.Faults().Clear()
	if !strings.Contains(metadataText(t, s, "/latest/services"), "hello") {
		t.Fatal("metadata still down after Clear")
	}
}

func TestMetadataServesConcurrentRequestsOfEveryVersion(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{Metadata: ranchersim.MetadataOptions{ReloadInterval: 50 * time.Millisecond}}, 3, nil)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for j := range 20 {
				if j == 10 && i == 0 {
					_ = s.Scale("demo", "hello", 4) // a reload in the middle
				}
				path := "/" + []string{"latest", "2015-07-25", "2015-12-19", "2016-07-29"}[(i+j)%4] + "/services/hello"
				if code, body := callMetadata(s, "127.0.0.1", path, j%2 == 0); code != 200 {
					t.Errorf("%s: %d %s", path, code, body)
					return
				}
			}
		})
	}
	wg.Wait()
}
