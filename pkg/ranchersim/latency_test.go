package ranchersim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// quick is a client for answers that must not wait for the latency
// model; its timeout is generous (the machine may be loaded), and far
// below the hour the model adds.
var quick = &http.Client{Timeout: 30 * time.Second}

func get(t *testing.T, s *ranchersim.Sim, c *http.Client, url string) (int, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(s.AccessKey(), s.SecretKey())
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestAPILatencyDelaysAPIAnswersOnly(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{Latency: ranchersim.Latency{Fixed: time.Hour}})
	short := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := get(t, s, short, s.SchemasURL()); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("an API answer came before the fixed latency: %v", err)
	}
	// Metadata, the websocket and the control API are not delayed.
	if code, err := get(t, s, quick, s.MetadataURL()+"/latest/version"); err != nil || code != 200 {
		t.Fatalf("metadata: %d %v", code, err)
	}
	if code, err := get(t, s, quick, s.URL()+"/_sim/state"); err != nil || code != 200 {
		t.Fatalf("control API: %d %v", code, err)
	}
	h := http.Header{}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(s.AccessKey(), s.SecretKey())
	h.Set("Authorization", req.Header.Get("Authorization"))
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	conn, _, err := d.Dial(strings.Replace(s.URL(), "http", "ws", 1)+"/v2-beta/projects/1a5/subscribe?eventNames=resource.change", h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ping map[string]any
	if err := conn.ReadJSON(&ping); err != nil || ping["name"] != "ping" {
		t.Fatalf("first frame %v %v", ping, err)
	}
}

func TestAPILatencyGrowsWithTheObjectsOfAnAnswer(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{Latency: ranchersim.Latency{PerObject: time.Hour}})
	short := &http.Client{Timeout: 200 * time.Millisecond}
	// No object (an empty collection, an error): no delay.
	for _, path := range []string{"/volumes", "/containers", "/nothing"} {
		if _, err := get(t, s, quick, s.URL()+"/v2-beta/projects/1a5"+path); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	// One object or more: an hour each.
	for _, path := range []string{"/hosts", "/schemas/container", ""} {
		if _, err := get(t, s, short, s.URL()+"/v2-beta/projects/1a5"+path); err == nil {
			t.Fatalf("%s answered before its per-object latency", path)
		}
	}
}

// Faults.APILatency changes the model while clients run, and Clear puts
// the configured one back.
func TestAPILatencyCanChangeWhileRunning(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	short := &http.Client{Timeout: 200 * time.Millisecond}
	if code, err := get(t, s, quick, s.SchemasURL()); err != nil || code != 200 {
		t.Fatalf("before: %d %v", code, err)
	}
	s.Faults().APILatency(ranchersim.Latency{Fixed: time.Hour})
	if _, err := get(t, s, short, s.SchemasURL()); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("an API answer came before the new latency: %v", err)
	}
	s.Faults().Clear()
	if code, err := get(t, s, quick, s.SchemasURL()); err != nil || code != 200 {
		t.Fatalf("after Clear: %d %v", code, err)
	}
}
