package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

func TestNewServerNamesMissingOptions(t *testing.T) {
	_, err := NewServer(Options{})
	if err == nil || !strings.Contains(err.Error(), "Status is required") || !strings.Contains(err.Error(), "Ready is required") {
		t.Fatalf("NewServer(Options{}) err = %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	st := sampleStatus()
	var mu sync.Mutex
	ready, reasons := true, []string(nil)
	base := startServer(t, Options{
		Status: func() reconcile.Status { return st },
		Ready: func() (bool, []string) {
			mu.Lock()
			defer mu.Unlock()
			return ready, reasons
		},
	})
	if code, body := fetch(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := fetch(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	mu.Lock()
	ready, reasons = false, []string{"first pass not done", "rancher event stream down"}
	mu.Unlock()
	if code, body := fetch(t, base+"/readyz"); code != 503 || body != "first pass not done\nrancher event stream down\n" {
		t.Errorf("/readyz not ready = %d %q", code, body)
	}
	code, body := fetch(t, base+"/status")
	var got reconcile.Status
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("/status = %d, %v: %s", code, err, body)
	}
	if d := cmp.Diff(st, got); d != "" {
		t.Errorf("/status round trip (-want +got):\n%s", d)
	}
	if code, body := fetch(t, base+"/"); code != 200 || !strings.Contains(body, "<title>drover mesh</title>") {
		t.Errorf("/ = %d %.200q", code, body)
	}
	if code, _ := fetch(t, base+"/nope"); code != 404 {
		t.Errorf("/nope = %d, want 404", code)
	}
}

func TestMetricsRecordWhatTheControllerReports(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	stream := &fakeStream{}
	stream.connected.Store(true)
	stream.reconnects.Store(3)
	m.SetStream(stream)
	m.Pass("ok", 2*time.Millisecond)
	m.Pass("aborted", time.Millisecond)
	m.Push(reconcile.ActionSetPeers, "ok", time.Millisecond)
	m.Push(reconcile.ActionLeave, "error", time.Second)
	m.Cluster("hello", 3, false)
	m.Cluster("other", 2, true)
	m.Stale(true)
	m.OnRequest("GET", "/v2-beta/projects/1a5/containers", 200)
	m.OnRequest("GET", "/v2-beta/projects/1a5/containers", 0)
	fams := scrape(t, reg)
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"drover_passes_total", map[string]string{"result": "ok"}, 1},
		{"drover_passes_total", map[string]string{"result": "aborted"}, 1},
		{"drover_pushes_total", map[string]string{"action": "leave", "result": "error"}, 1},
		{"drover_cluster_members", map[string]string{"cluster": "hello"}, 3},
		{"drover_cluster_converged", map[string]string{"cluster": "hello"}, 0},
		{"drover_cluster_converged", map[string]string{"cluster": "other"}, 1},
		{"drover_stale", nil, 1},
		{"drover_event_stream_connected", nil, 1},
		{"drover_event_stream_reconnects_total", nil, 3},
		{"drover_rancher_requests_total", map[string]string{"code": "0", "method": "GET", "path": "/v2-beta/projects/1a5/containers"}, 1},
		{"drover_pass_duration_seconds", nil, 2}, // sample count
		{"drover_push_latency_seconds", map[string]string{"action": "set-peers"}, 1},
	}
	for _, tt := range tests {
		if got, ok := value(fams, tt.family, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.family, tt.labels, got, ok, tt.want)
		}
	}
	if v, ok := value(fams, "drover_last_observed_timestamp_seconds", nil); !ok || v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("drover_last_observed_timestamp_seconds = %v", v)
	}
}

// Every metric on /metrics parses with the Prometheus text parser, and
// every drover_ metric is documented in docs/operations.md.
func TestMetricsParseAndAreDocumented(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := NewMetrics(reg)
	m.Pass("ok", time.Millisecond)
	m.Push(reconcile.ActionSetPeers, "ok", time.Millisecond)
	m.Cluster("hello", 1, true)
	m.Stale(false)
	m.OnRequest("GET", "/v2-beta/projects/1a5/services", 200)
	base := startServer(t, Options{Status: sampleStatus, Ready: func() (bool, []string) { return true, nil }, Registry: reg})
	code, body := fetch(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatalf("reading the operations guide: %v", err)
	}
	var drover []string
	for name := range fams {
		switch {
		case strings.HasPrefix(name, Namespace+"_"):
			drover = append(drover, name)
			if !regexp.MustCompile("`" + name + "`").Match(doc) {
				t.Errorf("metric %s is not documented in docs/operations.md", name)
			}
		case !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_"):
			t.Errorf("unexpected metric %s", name)
		}
	}
	slices.Sort(drover)
	want := []string{"drover_cluster_converged", "drover_cluster_members", "drover_event_stream_connected",
		"drover_event_stream_reconnects_total", "drover_last_observed_timestamp_seconds", "drover_pass_duration_seconds",
		"drover_passes_total", "drover_push_latency_seconds", "drover_pushes_total", "drover_rancher_requests_total",
		"drover_stale"}
	if d := cmp.Diff(want, drover); d != "" {
		t.Errorf("drover metrics (-want +got):\n%s", d)
	}
}

// The ops server never shows a token or key: not in /status, /readyz,
// /metrics, the page or an error, not even JSON-escaped, and no URL keeps
// its user information.
func TestNoEndpointExposesASecret(t *testing.T) {
	const (
		nodeToken = `n0de-t0ken<&>"x`
		accessKey = "ACCESS-KEY-1234"
		secretKey = "s3cret-k3y-5678"
		urlPass   = "url-pass-9012"
	)
	st := sampleStatus()
	st.LastPass.Result = "aborted"
	st.LastPass.Error = "observing rancher: GET http://" + accessKey + ":" + secretKey + "@rancher:8080/v2-beta: 401 (token " + secretKey + ")"
	st.Clusters[0].Nodes[0].URL = "http://drover:" + urlPass + "@127.42.0.2:4001"
	st.Clusters[0].Nodes[0].LastPush.Error = "node said: bad token " + nodeToken
	st.Clusters[0].Conditions[1].Message = "token " + nodeToken + " refused"
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Cluster("hello", 3, false)
	m.OnRequest("GET", "/v2-beta/projects/1a5/containers", 401)
	base := startServer(t, Options{
		Status: func() reconcile.Status { return st },
		Ready: func() (bool, []string) {
			return Readiness(ReadyState{ConfigLoaded: true, RancherConnected: true, StreamConnected: true, Status: st})
		},
		Registry: reg,
		Secrets:  []string{nodeToken, accessKey, secretKey, ""},
	})
	for _, path := range []string{"/", "/healthz", "/readyz", "/metrics", "/status", "/missing"} {
		_, body := fetch(t, base+path)
		for _, secret := range []string{nodeToken, accessKey, secretKey, urlPass, `n0de-t0ken\u003c\u0026\u003e\"x`} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q:\n%s", path, secret, body)
			}
		}
	}
	_, body := fetch(t, base+"/readyz")
	if !strings.Contains(body, "http://REDACTED@rancher:8080") || !strings.Contains(body, "(token REDACTED)") {
		t.Errorf("/readyz = %q, want the error with its secrets redacted", body)
	}
}

func TestStripUserinfo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://a:b@host/x", "http://REDACTED@host/x"},
		{"see https://tok@host:8080 and http://u:p@h2", "see https://REDACTED@host:8080 and http://REDACTED@h2"},
		{"mail me@example.com", "mail me@example.com"},
		{"http://host/path@x", "http://host/path@x"},
		{`{"url":"http://u:p@h"}`, `{"url":"http://REDACTED@h"}`},
		{"ws://@host", "ws://@host"},
		{"no urls here", "no urls here"},
	}
	for _, tt := range tests {
		if got := string(stripUserinfo([]byte(tt.in))); got != tt.want {
			t.Errorf("stripUserinfo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// stuckObserver never returns a snapshot until the test ends: Rancher
// hangs.
type stuckObserver struct {
	entered chan struct{}
	once    sync.Once
}

func (o *stuckObserver) Snapshot(ctx context.Context, _ bool) (mesh.Snapshot, error) {
	o.once.Do(func() { close(o.entered) })
	<-ctx.Done()
	return mesh.Snapshot{}, ctx.Err()
}

type deadNodes struct{}

func (deadNodes) Status(ctx context.Context, _ mesh.Endpoint) (mesh.NodeStatus, error) {
	<-ctx.Done()
	return mesh.NodeStatus{}, ctx.Err()
}

func (deadNodes) SetPeers(ctx context.Context, _ mesh.Endpoint, _ uint64, _ mesh.PeerSet) (mesh.NodeStatus, error) {
	<-ctx.Done()
	return mesh.NodeStatus{}, ctx.Err()
}

func (deadNodes) Leave(ctx context.Context, _ mesh.Endpoint, _ uint64) (mesh.NodeStatus, error) {
	<-ctx.Done()
	return mesh.NodeStatus{}, ctx.Err()
}

// Handlers read the last Status: while a pass is stuck on Rancher (and
// every node is dead), every endpoint answers, /readyz says why it is not
// ready, and /status is the (empty) last view.
func TestEndpointsAnswerWhileAPassIsStuck(t *testing.T) {
	obs := &stuckObserver{entered: make(chan struct{})}
	cluster := config.Cluster{Name: "hello", Stack: "demo", Services: []string{"hello"},
		Admin: config.Admin{Token: config.SecretRef{Value: "cfg-secret-token"}}}
	cluster.Default()
	reg := prometheus.NewRegistry()
	ctl, err := reconcile.New(reconcile.Options{Observer: obs, Nodes: deadNodes{}, Clusters: []config.Cluster{cluster},
		Recorder: NewMetrics(reg), Logger: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	base := startServer(t, Options{
		Status: ctl.Status,
		Ready: func() (bool, []string) {
			return Readiness(ReadyState{ConfigLoaded: true, RancherConnected: true, Status: ctl.Status()})
		},
		Registry: reg,
		Secrets:  []string{"cfg-secret-token"},
	})
	select { // the first pass is now stuck in Snapshot
	case <-obs.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first pass never started")
	}
	for range 3 {
		if code, _ := fetch(t, base+"/healthz"); code != http.StatusOK {
			t.Errorf("/healthz = %d while a pass is stuck", code)
		}
	}
	code, body := fetch(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "first pass not done") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	for _, p := range []string{"/status", "/metrics", "/"} {
		if code, body := fetch(t, base+p); code != http.StatusOK || strings.Contains(body, "cfg-secret-token") {
			t.Errorf("%s = %d while a pass is stuck", p, code)
		}
	}
}

// scrape gathers reg and returns its families by name.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dtoFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dtoFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the sample of family with exactly labels: a
// counter's or gauge's value, a histogram's sample count.
func value(fams map[string]*dtoFamily, family string, labels map[string]string) (float64, bool) {
	mf, ok := fams[family]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}
