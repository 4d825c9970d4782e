package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/*.good.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadFile(f); err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
		})
	}
}

func TestExampleConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../config/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadFile(f); err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
		})
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		file string
		want []string // each must appear in the error
	}{
		{"unknown-field.bad.yaml", []string{"spec.clusters[0].admin.prot: unknown field"}},
		{"four-problems.bad.yaml", []string{
			"spec.clusters[0].colour: unknown field",
			"spec.clusters[1].stack: is required",
			"spec.clusters[1].admin.port: must be between 1 and 65535",
			`spec.clusters[1].name: duplicate cluster name "hello" (also spec.clusters[0].name)`,
		}},
		{"bad-values.bad.yaml", []string{
			`apiVersion: must be "drover.io/v1alpha1"`,
			`kind: must be "ClusteredServices"`,
			"metadata.name: is required",
			"spec.controller.driftInterval: must be positive",
			"spec.controller.announce.listen: must be host:port",
			"spec.controller.announce.token: is required when listen is set",
			`spec.clusters[0].name: "Hello World" must be lowercase`,
			`spec.clusters[0].services[1]: duplicate service "hello"`,
			"spec.clusters[0].nodeName: unknown placeholder {{ip}}",
			`spec.clusters[0].admin.scheme: must be "http" or "https", got "ftp"`,
			"spec.clusters[0].admin.token: set only one of fromEnv, fromFile and value",
			`spec.clusters[0].membership.states[0]: unknown value "runing"`, //nolint:misspell // the misspelled state under test
			`spec.clusters[0].topology: must be "fullMesh"`,
			`spec.clusters[0].policy: must be "sync" or "add-only", got "sometimes"`,
			"spec.clusters[0].maxDropPercent: must be between 1 and 100",
		}},
		{"bad-type.bad.yaml", []string{"spec.clusters.admin.port: must be of type int, not string"}},
		{"bad-duration.bad.yaml", []string{"a duration must be a string"}},
		{"not-yaml.bad.yaml", []string{"parsing YAML"}},
		{"empty.bad.yaml", []string{"the file is empty"}},
		{"no-clusters.bad.yaml", []string{"spec.clusters: must list at least one cluster, or set spec.defaults.admin.token"}},
		{"defaults.bad.yaml", []string{
			"spec.defaults.nodeName: ",
			"spec.defaults.admin.port: must be between 1 and 65535",
			`spec.defaults.admin.scheme: must be "http" or "https", got "gopher"`,
			"spec.defaults.admin.token: set only one of fromEnv, fromFile and value",
			`spec.defaults.membership.healthStates[0]: unknown value "sickly"`,
			`spec.defaults.policy: must be "sync" or "add-only", got "never"`,
			"spec.defaults.maxDropPercent: must be between 1 and 100",
		}},
		{"topology.bad.yaml", topologyBadWants()},
		{"duplicate-keys.bad.yaml", []string{
			"spec.clusters[0].admin.token.fromEnv: duplicate key: set on line 14 and again on line 15; keep one",
			"spec.clusters[0].admin.port: duplicate key: set on line 16 and again on line 17",
			"spec.clusters[0].stack: duplicate key: set on line 10 and again on line 18",
		}},
		{"two-documents.bad.yaml", []string{"more than one YAML document"}},
		{"tls.bad.yaml", []string{
			`spec.controller.announce.tls: has no effect without listen`,
			`spec.controller.announce.tls.certFile: is required with keyFile`,
			`spec.clusters[0].admin.tls: is set but admin.scheme is "http": set scheme: https`,
			`spec.clusters[1].admin.tls.serverName: "not a name" must be a DNS name`,
			`spec.clusters[1].admin.tls.keyFile: is required with certFile`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatal("LoadFile succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBadConfigFixturesAreAllTested(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	src, _ := os.ReadFile("config_test.go")
	for _, f := range files {
		if !strings.Contains(string(src), `"`+filepath.Base(f)+`"`) {
			t.Errorf("%s has no row in TestBadConfigs", f)
		}
	}
}

func TestDefaults(t *testing.T) {
	f, err := LoadFile("testdata/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := f.Spec.Clusters[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"nodeName", c.NodeName, "{{service}}@{{primaryIP}}"},
		{"admin.port", c.Admin.Port, 4001},
		{"admin.scheme", c.Admin.Scheme, "http"},
		{"admin.timeout", c.Admin.Timeout.Duration, 2 * time.Second},
		{"states", fmt.Sprint(c.Membership.States), "[running]"},
		{"healthStates", fmt.Sprintf("%q", c.Membership.HealthStates), `["healthy" "updating-healthy" ""]`},
		{"topology", c.Topology, "fullMesh"},
		{"policy", c.Policy, "sync"},
		{"maxDropPercent", *c.MaxDropPercent, 50},
		{"resyncInterval", f.Spec.Controller.ResyncInterval.Duration, 10 * time.Minute},
		{"driftInterval", f.Spec.Controller.DriftInterval.Duration, 10 * time.Second},
		{"minEventGap", f.Spec.Controller.MinEventGap.Duration, 100 * time.Millisecond},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestNoneHealthStateMeansNoHealthCheck(t *testing.T) {
	f, err := LoadFile("testdata/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Spec.Clusters[0].Membership.HealthStates[2]; got != "" {
		t.Errorf("none normalised to %q, want \"\"", got)
	}
}

func TestRenderNodeName(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{"{{service}}@{{primaryIP}}", "hello@10.42.3.7"},
		{"app-{{stack}}@{{primaryIP}}", "app-demo@10.42.3.7"},
		{"{{ name }}@{{primaryIP}}", "demo-hello-1@10.42.3.7"},
		{"unknown placeholder stays: {{ip}}@{{primaryIP}}", "unknown placeholder stays: {{ip}}@10.42.3.7"},
		{"{{{service}}}@{{primaryIP}}", "{hello}@10.42.3.7"},
		{"unclosed {{service@{{primaryIP}}", "unclosed {{service@10.42.3.7"},
		{"no placeholder", "no placeholder"},
		{"", ""},
	}
	for _, tt := range tests {
		got := RenderNodeName(tt.tmpl, NodeVars{Service: "hello", Stack: "demo", PrimaryIP: "10.42.3.7", Name: "demo-hello-1"})
		if got != tt.want {
			t.Errorf("RenderNodeName(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	const token = "s3cr3t-value"
	s := Secret(token)
	ref := SecretRef{Value: s}
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %+v %#v", s, s, ref, ref),
	}
	b, _ := json.Marshal(ref)
	outputs = append(outputs, string(b))
	for _, o := range outputs {
		if strings.Contains(o, token) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != token {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestResolveSecret(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "TOK" {
			return " abc\n", true
		}
		return "", false
	}
	read := func(p string) ([]byte, error) {
		if p == "/tok" {
			return []byte("def\n"), nil
		}
		return nil, errors.New("no such file")
	}
	tests := []struct {
		ref     SecretRef
		want    Secret
		wantErr string
	}{
		{SecretRef{FromEnv: "TOK"}, "abc", ""},
		{SecretRef{FromFile: "/tok"}, "def", ""},
		{SecretRef{Value: "ghi"}, "ghi", ""},
		{SecretRef{FromEnv: "MISSING"}, "", "MISSING is not set"},
		{SecretRef{FromFile: "/nope"}, "", "reading token file"},
		{SecretRef{}, "", "no token source"},
	}
	for _, tt := range tests {
		got, err := ResolveSecret(tt.ref, env, read)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ResolveSecret(%+v) err = %v, want %q", tt.ref, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveSecret(%+v) = %q, %v", tt.ref, got.Reveal(), err)
		}
	}
}

func TestWarningsForInlineToken(t *testing.T) {
	f, err := Load([]byte(`
apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: demo}
spec:
  clusters:
  - name: hello
    stack: demo
    services: [hello]
    admin: {token: {value: sekrit}}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := f.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "inline") || strings.Contains(w[0], "sekrit") {
		t.Errorf("Warnings = %q", w)
	}
}

// TestNodeNameTemplateRendersAcceptedNames checks that validation renders
// a sample name from the template (longest overlay IP, the cluster's stack
// and services, a Rancher-style container name) and runs the protocol's
// name rule on it.
func TestNodeNameTemplateRendersAcceptedNames(t *testing.T) {
	long := strings.Repeat("n", 250)
	tests := []struct {
		name, tmpl, stack, service string
		want                       string // "" for valid
	}{
		{"default template", DefaultNodeName, "demo", "hello", ""},
		{"container name", "{{name}}@{{primaryIP}}", "demo", "hello", ""},
		{"stack with a dot before '@'", "{{stack}}@{{primaryIP}}", "my.stack", "hello",
			`renders "my.stack@10.42.255.255" for a container of service hello in stack my.stack, which agents refuse: node name "my.stack@10.42.255.255": character '.' not allowed before '@'`},
		{"too long once the IP is in", long + "@{{primaryIP}}", "demo", "hello", "is longer than 255 bytes"},
		{"space in the literal", "my app@{{primaryIP}}", "demo", "hello", "character ' ' not allowed before '@'"},
		{"port in the host", "hello@{{primaryIP}}:4369", "demo", "hello", "character ':' not allowed after '@'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRenderedNodeName(tt.tmpl, tt.stack, tt.service)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestValidateRendersClusterNodeNames checks that a cluster whose template
// renders names agents refuse is rejected with the field's path, and that
// spec.defaults' template is rendered too.
func TestValidateRendersClusterNodeNames(t *testing.T) {
	const doc = `apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: t}
spec:
  defaults:
    nodeName: "a b@{{primaryIP}}"
  clusters:
  - name: hello
    stack: my.stack
    services: [hello]
    nodeName: "{{stack}}@{{primaryIP}}"
    admin: {token: {value: x}}
`
	_, err := Load([]byte(doc))
	for _, want := range []string{
		`spec.clusters[0].nodeName: "{{stack}}@{{primaryIP}}" renders "my.stack@10.42.255.255"`,
		`spec.defaults.nodeName: "a b@{{primaryIP}}" renders "a b@10.42.255.255"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
}
