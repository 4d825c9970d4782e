package ranchersim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// callMetadata calls the metadata handler as a client at ip would.
func callMetadata(s *ranchersim.Sim, ip, path string, jsonOut bool) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = ip + ":40000"
	if jsonOut {
		req.Header.Set("Accept", "application/json")
	}
	rr := httptest.NewRecorder()
	s.MetadataHandler().ServeHTTP(rr, req)
	return rr.Code, rr.Body.String()
}

func TestMetadataSelfByCallerIP(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 3, fastHealth())
	me := s.Containers("demo", "hello")[1]
	code, body := callMetadata(s, me.IP, "/latest/self/service", true)
	if code != 200 {
		t.Fatalf("self/service: %d %s", code, body)
	}
	var svc struct {
		Name       string          `json:"name"`
		StackName  string          `json:"stack_name"`
		Token      *string         `json:"token"`
		Containers []metaContainer `json:"containers"`
	}
	if err := json.Unmarshal([]byte(body), &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Name != "hello" || svc.StackName != "demo" || len(svc.Containers) != 3 || svc.Token != nil {
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
	s := demo(t, ranchersim.Options{}, 2, nil)
	tests := []struct{ path, want string }{
		{"/", "2015-07-25\n2015-12-19\n2016-07-29\nlatest\n"},
		{"/latest/services", "0=hello\n"},
		{"/latest/stacks/demo/services/hello/containers", "0=demo-hello-1\n1=demo-hello-2\n"},
		{"/latest/stacks/demo/services/hello/containers/demo-hello-2/create_index", "2"},
		{"/latest/stacks/demo/services/hello/containers/1/service_name", "hello"},
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
}

func TestMetadataLongPoll(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	var version string
	if code := metadataJSON(t, s, "/latest/version", &version); code != 200 || version == "" {
		t.Fatalf("version %d %q", code, version)
	}
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

func TestMetadataDownFault(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
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
