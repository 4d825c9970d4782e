package artifacts

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"

	"github.com/drover-mesh/drover/pkg/ops"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// exportedMetrics returns every series name the controller's /metrics
// serves, gathered from pkg/ops' metrics and the Go and process
// collectors, as cmd/controller registers them (histograms with their
// _bucket, _sum and _count series).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := ops.NewMetrics(reg)
	// Vectors appear once they have a child.
	m.Pass("ok", time.Millisecond)
	m.Push(reconcile.Action("set-peers"), "ok", time.Millisecond)
	m.Cluster("hello", 3, true)
	m.Stale(false)
	m.OnRequest("GET", "/containers", 200)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		case dto.MetricType_SUMMARY:
			for _, s := range []string{"_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// droverMetrics returns the drover_ families (no histogram suffixes).
func droverMetrics(t *testing.T) []string {
	t.Helper()
	var out []string
	for n := range exportedMetrics(t) {
		if regexp.MustCompile(`^drover_`).MatchString(n) && !regexp.MustCompile(`_(bucket|sum|count)$`).MatchString(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// metricRef matches the metric names a PromQL expression can refer to
// here: drover's, the Go runtime's, the process collector's, and up.
var metricRef = regexp.MustCompile(`\b(?:(?:drover|go|process)_[a-zA-Z0-9_]+|up)\b`)

// refs returns the metric names exprs use and those of them that
// exported lacks (up is Prometheus' own), as "name in expr".
func refs(exported map[string]bool, exprs []string) (map[string]bool, []string) {
	used := map[string]bool{}
	var unknown []string
	for _, e := range exprs {
		for _, name := range metricRef.FindAllString(e, -1) {
			used[name] = true
			if name != "up" && !exported[name] {
				unknown = append(unknown, name+" in "+e)
			}
		}
	}
	return used, unknown
}

// checkRefs fails for every name in exprs that /metrics does not serve and
// returns the names used.
func checkRefs(t *testing.T, where string, exprs []string) map[string]bool {
	t.Helper()
	used, unknown := refs(exportedMetrics(t), exprs)
	for _, u := range unknown {
		t.Errorf("%s: %s: the controller does not export it", where, u)
	}
	return used
}

func TestMetricReferencesOutsideExportsAreFound(t *testing.T) {
	exported := exportedMetrics(t)
	for _, c := range []struct {
		name, expr string
		unknown    int
	}{
		{"exported counter", `rate(drover_passes_total[5m])`, 0},
		{"histogram series", `histogram_quantile(0.9, rate(drover_pass_duration_seconds_bucket[5m]))`, 0},
		{"Prometheus' up", `up{job="drover"} == 0`, 0},
		{"go and process collectors", `go_goroutines + process_open_fds`, 0},
		{"misspelt metric", `drover_cluster_convergd == 0`, 1},
		{"metric that does not exist", `drover_node_backoff > 0 or drover_stale`, 1},
		{"histogram suffix on a counter", `drover_passes_total_bucket`, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, unknown := refs(exported, []string{c.expr}); len(unknown) != c.unknown {
				t.Errorf("refs(%q): unknown %v, want %d", c.expr, unknown, c.unknown)
			}
		})
	}
}

// base strips a histogram suffix.
func base(name string) string {
	return regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(name, "")
}

func TestAlertRulesUseOnlyExportedMetrics(t *testing.T) {
	var rules struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	readYAML(t, "../../config/prometheus/drover-alerts.yml", &rules)
	var exprs, alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			alerts = append(alerts, r.Alert)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: needs a severity label, a summary and a description", r.Alert)
			}
		}
	}
	used := checkRefs(t, "drover-alerts.yml", exprs)
	// What the issue asks the rules to catch, by the metric that shows it.
	for _, c := range []struct{ what, metric string }{
		{"Stale for long", "drover_stale"},
		{"not converged", "drover_cluster_converged"},
		{"push failures and a node in backoff", "drover_pushes_total"},
		{"event stream down", "drover_event_stream_connected"},
		{"controller gone", "up"},
		{"a config file that does not load", "drover_config_last_reload_successful"},
		{"no controller leads, or two do", "drover_leader"},
	} {
		if !used[c.metric] {
			t.Errorf("no alert on %s (%s)", c.what, c.metric)
		}
	}
	for _, a := range []string{"DroverStaleForLong", "DroverClusterNotConverged", "DroverPushFailures", "DroverEventStreamDown", "DroverNodeInBackoff",
		"DroverConfigReloadFailed", "DroverNoLeader", "DroverTwoLeaders"} {
		if !slices.Contains(alerts, a) {
			t.Errorf("alert %s is missing", a)
		}
	}
}

func TestGrafanaDashboardShowsEveryDroverMetricAndNothingElse(t *testing.T) {
	b, err := os.ReadFile("../../config/grafana/drover-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string  `json:"title"`
		UID        string  `json:"uid"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("drover-dashboard.json does not parse: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard needs a title, a uid and panels")
	}
	var exprs []string
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	for _, v := range dash.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	used := checkRefs(t, "drover-dashboard.json", exprs)
	shown := map[string]bool{}
	for n := range used {
		shown[base(n)] = true
	}
	for _, m := range droverMetrics(t) {
		if !shown[m] {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}

// panel is the part of a Grafana panel the test reads.
type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func TestOperationsDocListsEveryDroverMetric(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range droverMetrics(t) {
		if !regexp.MustCompile("`" + m + "`").Match(b) {
			t.Errorf("docs/operations.md does not list %s", m)
		}
	}
}

func TestOperationsDocListsEveryAlert(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
			} `json:"rules"`
		} `json:"groups"`
	}
	readYAML(t, "../../config/prometheus/drover-alerts.yml", &rules)
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if !regexp.MustCompile("\\| `" + r.Alert + "` \\|").Match(b) {
				t.Errorf("docs/operations.md's alert table does not list %s", r.Alert)
			}
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
