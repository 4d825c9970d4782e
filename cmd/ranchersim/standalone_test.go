package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/drover-mesh/drover/internal/testcert"
)

func TestStandaloneSchemasByPluralAndShapes(t *testing.T) {
	s := startSim(t, "--shape", "noContainerServiceRefs,noServiceInstanceIDs", "--step-delay", "5ms")
	s.settle(t)
	// The 0.x rancher CLI appends /schemas to a URL that ends in /schemas.
	for _, path := range []string{"/schemas/schemas", "/schemas/containers", "/schemas/CONTAINERS", "/schemas/setting"} {
		if status, body := s.api(t, "GET", path); status != 200 || body["type"] != "schema" {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
	status, body := s.api(t, "GET", "/containers")
	list, _ := body["data"].([]any)
	if status != 200 || len(list) != 3 {
		t.Fatalf("containers %d %v", status, body)
	}
	ct := list[0].(map[string]any)
	if _, has := ct["serviceIds"]; has || ct["labels"].(map[string]any)["io.rancher.stack_service.name"] != "demo/hello" {
		t.Errorf("container in the older shape: %v", ct)
	}
	_, svcs := s.api(t, "GET", "/services")
	if _, has := svcs["data"].([]any)[0].(map[string]any)["instanceIds"]; has {
		t.Errorf("service with instanceIds: %v", svcs)
	}
	if status, body := s.api(t, "GET", "/settings/rancher.server.version"); status != 200 || body["value"] == nil {
		t.Errorf("setting %d %v", status, body)
	}
}

func TestStandaloneTLS(t *testing.T) {
	f, err := testcert.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := startSim(t, "--tls-cert", f.Cert, "--tls-key", f.Key)
	if !strings.HasPrefix(s.lines["api"], "https://") || !strings.HasPrefix(s.lines["metadata"], "http://") {
		t.Fatalf("api %s metadata %s", s.lines["api"], s.lines["metadata"])
	}
	conf, err := f.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	s.http = &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: 30 * time.Second}
	status, schema := s.api(t, "GET", "/schemas/subscribe")
	if status != 200 {
		t.Fatalf("schema %d %v", status, schema)
	}
	u := strings.Replace(schema["links"].(map[string]any)["collection"].(string), "http", "ws", 1) + "?eventNames=resource.change"
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(s.access, s.secret)
	d := websocket.Dialer{TLSClientConfig: conf, HandshakeTimeout: 30 * time.Second}
	conn, _, err := d.Dial(u, http.Header{"Authorization": req.Header["Authorization"]})
	if err != nil {
		t.Fatalf("wss %s: %v", u, err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ping map[string]any
	if err := conn.ReadJSON(&ping); err != nil || ping["name"] != "ping" {
		t.Fatalf("first frame %v %v", ping, err)
	}
	if _, err := (&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}).Get(s.lines["schemas"]); err == nil {
		t.Error("a client that does not trust the CA was served")
	}
}

func TestGoRuntimeRefusesARangeItCannotBind(t *testing.T) {
	t.Setenv("DROVER_NODE_TOKEN", "go-runtime-token")
	// A documentation range (RFC 5737) that is not this machine's.
	prefix := ""
	for _, p := range []string{"198.51.100", "203.0.113", "192.0.2"} {
		if ln, err := net.Listen("tcp", p+".2:0"); err == nil {
			_ = ln.Close()
			continue
		}
		prefix = p
		break
	}
	if prefix == "" {
		t.Skip("every documentation range is an address of this machine")
	}
	if err := checkBindable(prefix + ".0/24"); err == nil || !strings.Contains(err.Error(), "cannot listen on "+prefix+".2") ||
		!strings.Contains(err.Error(), "127.42.0.0/16") {
		t.Fatalf("checkBindable: %v", err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"--runtime", "go", "--ip-range", prefix + ".0/24", "--api", "127.0.0.1:0",
		"--metadata", "", "--dns", ""}, &out, &errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), "cannot listen on "+prefix+".2") {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
}

func TestGoRuntimeIPInUseGoesToErrorThenAReplacement(t *testing.T) {
	t.Setenv("DROVER_NODE_TOKEN", "go-runtime-token")
	// 127.47.0.0/16: this test's own range. Take the first container's
	// address and port first.
	taken, err := net.Listen("tcp", "127.47.0.2:4001")
	if err != nil {
		t.Skipf("cannot take 127.47.0.2:4001 for the test: %v", err)
	}
	defer taken.Close()
	s := startSim(t, "--runtime", "go", "--ip-range", "127.47.0.0/16", "--remove-delay", "1h")
	s.settle(t)
	var views []struct{ ID, IP, State, HealthState string }
	if err := json.Unmarshal(s.control(t, http.MethodGet, "containers?stack=demo&service=hello", nil), &views); err != nil {
		t.Fatal(err)
	}
	running, failed := 0, ""
	for _, v := range views {
		if v.State == "running" && v.HealthState == "healthy" {
			running++
		}
		if v.IP == "127.47.0.2" {
			failed = v.ID
		}
	}
	if running != 3 || failed == "" {
		t.Fatalf("containers %+v", views)
	}
	_, ct := s.api(t, "GET", "/containers/"+failed)
	if ct["state"] != "removed" || !strings.Contains(ct["transitioningMessage"].(string), "address already in use") {
		t.Fatalf("the container whose IP was taken: %v", ct)
	}
}
