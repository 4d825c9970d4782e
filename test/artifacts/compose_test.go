package artifacts

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"
	"sigs.k8s.io/yaml"
)

// rancherServiceKeys are the service keys rancher-compose 1.6 reads from
// rancher-compose.yml (its RancherConfig struct, rancher/rancher-compose,
// and the v1.6 docs: cattle/rancher-compose, health-checks, upgrading,
// adding-load-balancers). Anything else is silently ignored by Rancher,
// which is what this test exists to catch.
func rancherServiceKeys() map[string]bool {
	return set("scale", "start_on_create", "retain_ip", "drain_timeout_ms", "health_check",
		"upgrade_strategy", "metadata", "scale_policy", "lb_config", "external_ips", "hostname",
		"default_cert", "certs", "service_schemas", "storage_driver", "network_driver", "type", "disks")
}

// healthCheckStrategies are the documented health_check.strategy values.
func healthCheckStrategies() map[string]bool {
	return set("none", "recreate", "recreateOnQuorum")
}

// yamlKeys returns the yaml names of a go-rancher type's fields: the keys
// rancher-compose accepts in the nested maps it decodes into that type.
func yamlKeys(v any) map[string]bool {
	out := map[string]bool{}
	typ := reflect.TypeOf(v)
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

func set(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// rancherComposeProblems returns what Rancher 1.6 would not read in a
// rancher-compose.yml, sorted.
func rancherComposeProblems(doc []byte) []string {
	var f map[string]any
	if err := yaml.Unmarshal(doc, &f); err != nil {
		return []string{"parse: " + err.Error()}
	}
	var out []string
	for k := range f {
		if k != "version" && k != "services" {
			out = append(out, "unknown top-level key "+k)
		}
	}
	if f["version"] != "2" {
		out = append(out, fmt.Sprintf("version is %v, want '2'", f["version"]))
	}
	services, ok := f["services"].(map[string]any)
	if !ok || len(services) == 0 {
		return append(out, "no services")
	}
	for name, raw := range services {
		svc, ok := raw.(map[string]any)
		if !ok {
			out = append(out, name+": not a map")
			continue
		}
		out = append(out, serviceProblems(name, svc)...)
	}
	sort.Strings(out)
	return out
}

func serviceProblems(name string, svc map[string]any) []string {
	var out []string
	nested := map[string]map[string]bool{
		"health_check":     yamlKeys(client.InstanceHealthCheck{}),
		"upgrade_strategy": yamlKeys(client.InServiceUpgradeStrategy{}),
	}
	for k, v := range svc {
		if !rancherServiceKeys()[k] {
			out = append(out, fmt.Sprintf("%s.%s: not a rancher-compose key", name, k))
			continue
		}
		allowed, ok := nested[k]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: not a map", name, k))
			continue
		}
		for nk, nv := range m {
			if !allowed[nk] {
				out = append(out, fmt.Sprintf("%s.%s.%s: not a key of %s", name, k, nk, k))
			}
			if n, isNum := nv.(float64); isNum && n <= 0 {
				out = append(out, fmt.Sprintf("%s.%s.%s: %v must be positive", name, k, nk, nv))
			}
		}
		if k == "health_check" {
			out = append(out, healthCheckProblems(name, m)...)
		}
	}
	return out
}

var requestLine = regexp.MustCompile(`^(GET|HEAD|POST|OPTIONS) /\S* HTTP/1\.[01]$`)

func healthCheckProblems(name string, hc map[string]any) []string {
	var out []string
	if s, ok := hc["strategy"].(string); ok && !healthCheckStrategies()[s] {
		out = append(out, fmt.Sprintf("%s.health_check.strategy: %q is not none, recreate or recreateOnQuorum", name, s))
	}
	if rl, ok := hc["request_line"].(string); ok && rl != "" && !requestLine.MatchString(rl) {
		out = append(out, fmt.Sprintf("%s.health_check.request_line: %q is not \"GET /path HTTP/1.0\"", name, rl))
	}
	if _, ok := hc["port"]; !ok {
		out = append(out, name+".health_check.port: missing")
	}
	return out
}

func TestRancherComposeFilesUseOnlyKeysRancher16Reads(t *testing.T) {
	for _, path := range []string{"../../config/rancher/rancher-compose.yml", "../../config/node/rancher-compose.yml"} {
		t.Run(path, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if p := rancherComposeProblems(b); len(p) > 0 {
				t.Errorf("%s:\n  %s", path, strings.Join(p, "\n  "))
			}
		})
	}
}

func TestRancherComposeCheckFindsWhatRancherWouldIgnore(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
	}{
		{"docker's healthcheck instead of Rancher's", "version: '2'\nservices:\n  a:\n    healthcheck: {port: 1}\n", "a.healthcheck: not a rancher-compose key"},
		{"docker-compose health check field", "version: '2'\nservices:\n  a:\n    health_check: {port: 1, timeout: 2000}\n", "a.health_check.timeout: not a key of health_check"},
		{"camelCase API name", "version: '2'\nservices:\n  a:\n    upgrade_strategy: {startFirst: true}\n", "a.upgrade_strategy.startFirst: not a key of upgrade_strategy"},
		{"unknown strategy", "version: '2'\nservices:\n  a:\n    health_check: {port: 1, strategy: restart}\n", `a.health_check.strategy: "restart" is not none, recreate or recreateOnQuorum`},
		{"bad request line", "version: '2'\nservices:\n  a:\n    health_check: {port: 1, request_line: /v1/health}\n", `a.health_check.request_line: "/v1/health" is not "GET /path HTTP/1.0"`},
		{"zero interval", "version: '2'\nservices:\n  a:\n    health_check: {port: 1, interval: 0}\n", "a.health_check.interval: 0 must be positive"},
		{"version 1 layout", "a:\n  scale: 1\n", "unknown top-level key a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rancherComposeProblems([]byte(c.doc))
			if !contains(got, c.want) {
				t.Errorf("problems %q, want one %q", got, c.want)
			}
		})
	}
	if got := rancherComposeProblems([]byte("version: '2'\nservices:\n  a:\n    scale: 2\n    start_on_create: true\n    drain_timeout_ms: 5000\n    health_check: {port: 4001, request_line: GET /v1/health HTTP/1.0, interval: 2000, strategy: recreate}\n    upgrade_strategy: {start_first: true, batch_size: 1, interval_millis: 2000}\n")); len(got) > 0 {
		t.Errorf("a valid file: problems %q", got)
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// composeFile is the part of a docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]struct {
		Secrets []struct {
			Source string `json:"source"`
			Target string `json:"target"`
			UID    string `json:"uid"`
			GID    string `json:"gid"`
			Mode   string `json:"mode"`
		} `json:"secrets"`
	} `json:"services"`
}

// dockerfileUser returns the USER of a Dockerfile's last stage.
func dockerfileUser(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(m) == 0 {
		t.Fatalf("%s has no USER", path)
	}
	return m[len(m)-1][1]
}

func TestComposeSecretsAreReadableByTheImagesUser(t *testing.T) {
	// The labels, ports and health checks against the ops server are
	// pkg/ops' TestRancherDeploymentMatchesTheOpsServer.
	for _, c := range []struct {
		compose, rancher, dockerfile, service string
	}{
		{"../../config/rancher/docker-compose.yml", "../../config/rancher/rancher-compose.yml", "../../Dockerfile", "drover"},
		{"../../config/node/docker-compose.yml", "../../config/node/rancher-compose.yml", "../../examples/hello/Dockerfile", "hello"},
	} {
		t.Run(c.compose, func(t *testing.T) {
			var f composeFile
			readYAML(t, c.compose, &f)
			svc, ok := f.Services[c.service]
			if !ok {
				t.Fatalf("no service %s", c.service)
			}
			uid, gid, _ := strings.Cut(dockerfileUser(t, c.dockerfile), ":")
			for _, s := range svc.Secrets {
				if s.UID != uid || s.GID != gid || s.Mode != "0400" {
					t.Errorf("secret %s: uid %q gid %q mode %q, want %s, %s, 0400 (the image runs as %s:%s)",
						s.Source, s.UID, s.GID, s.Mode, uid, gid, uid, gid)
				}
			}
			var r struct {
				Services map[string]any `json:"services"`
			}
			readYAML(t, c.rancher, &r)
			if _, ok := r.Services[c.service]; !ok {
				t.Errorf("%s has no service %s", c.rancher, c.service)
			}
		})
	}
}
