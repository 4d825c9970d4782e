package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultsAreInheritedByClusters(t *testing.T) {
	f, err := Load([]byte(`
apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata: {name: demo}
spec:
  defaults:
    nodeName: "app@{{primaryIP}}"
    admin: {port: 4100, timeout: 1s, token: {fromEnv: TOKEN}}
    membership: {healthStates: [healthy, none]}
    policy: add-only
    maxDropPercent: 20
  clusters:
  - {name: a, stack: s, services: [a]}
  - {name: b, stack: s, services: [b], admin: {port: 4200, token: {fromFile: /b}}, policy: sync}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Spec.Clusters[0], f.Spec.Clusters[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"a inherits nodeName", a.NodeName, "app@{{primaryIP}}"},
		{"a inherits admin.port", a.Admin.Port, 4100},
		{"a inherits admin.timeout", a.Admin.Timeout.Duration, time.Second},
		{"a inherits the token", a.Admin.Token.FromEnv, "TOKEN"},
		{"a inherits healthStates, none normalised", strings.Join(a.Membership.HealthStates, ","), "healthy,"},
		{"a takes the built-in states", strings.Join(a.Membership.States, ","), "running"},
		{"a inherits policy", a.Policy, "add-only"},
		{"a inherits maxDropPercent", *a.MaxDropPercent, 20},
		{"b keeps its port", b.Admin.Port, 4200},
		{"b keeps its token", b.Admin.Token.FromFile, "/b"},
		{"b keeps its policy", b.Policy, "sync"},
		{"the defaults' list is not shared", &a.Membership.HealthStates[0] != &b.Membership.HealthStates[0], true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaultsTokenAllowsALabelOnlyFile(t *testing.T) {
	f, err := LoadFile("testdata/labels-only.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Spec.Clusters) != 0 || f.Spec.Defaults.Admin.Token.FromFile == "" {
		t.Errorf("clusters %v, defaults %+v", f.Spec.Clusters, f.Spec.Defaults)
	}
}

func TestLabelsAreValidatedStrictly(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   string // "" for no error
	}{
		{"cluster alone", map[string]string{LabelCluster: "hello"}, ""},
		{"every label", map[string]string{LabelCluster: "hello", LabelNodeName: "app@{{primaryIP}}", LabelAdminPort: "4001",
			LabelAdminScheme: "https", LabelStates: "running, updating-running", LabelHealthStates: "healthy,none",
			LabelPolicy: "add-only", LabelMaxDropPercent: "30", LabelPaused: "false", "io.rancher.stack.name": "demo"}, ""},
		{"uppercase cluster name", map[string]string{LabelCluster: "Hello"}, `service demo/web: label io.drover.cluster: "Hello" must be a cluster name`},
		{"cluster name with a slash", map[string]string{LabelCluster: "a/b"}, `label io.drover.cluster: "a/b" must be a cluster name`},
		{"no cluster label", map[string]string{LabelAdminPort: "4001"}, "label io.drover.cluster: is required"},
		{"port not a number", map[string]string{LabelCluster: "hello", LabelAdminPort: "http"}, `service demo/web: label io.drover.admin.port: "http" must be a port number`},
		{"port with a sign", map[string]string{LabelCluster: "hello", LabelAdminPort: "+4001"}, `label io.drover.admin.port: "+4001" must be a port number`},
		{"port out of range", map[string]string{LabelCluster: "hello", LabelAdminPort: "65536"}, "between 1 and 65535"},
		{"scheme", map[string]string{LabelCluster: "hello", LabelAdminScheme: "ftp"}, `label io.drover.admin.scheme: must be "http" or "https", got "ftp"`},
		{"node name without the IP", map[string]string{LabelCluster: "hello", LabelNodeName: "app@host"}, "label io.drover.node_name: \"app@host\": the host part must be {{primaryIP}}"},
		{"unknown state", map[string]string{LabelCluster: "hello", LabelStates: "running,runnin"}, `label io.drover.membership.states: unknown value "runnin"`},
		{"empty list item", map[string]string{LabelCluster: "hello", LabelHealthStates: "healthy,,none"}, "label io.drover.membership.health_states: \"healthy,,none\" has an empty value"},
		{"policy", map[string]string{LabelCluster: "hello", LabelPolicy: "sometimes"}, `label io.drover.policy: must be "sync" or "add-only", got "sometimes"`},
		{"max drop", map[string]string{LabelCluster: "hello", LabelMaxDropPercent: "0"}, `label io.drover.max_drop_percent: "0" must be a whole number between 1 and 100`},
		{"bounded degree", map[string]string{LabelCluster: "hello", LabelTopology: "boundedDegree", LabelDegree: "4"}, ""},
		{"topology", map[string]string{LabelCluster: "hello", LabelTopology: "star"}, `label io.drover.topology: must be "fullMesh" or "boundedDegree", got "star"`},
		{"degree out of range", map[string]string{LabelCluster: "hello", LabelTopology: "boundedDegree", LabelDegree: "65"}, `label io.drover.degree: "65" must be a whole number between 2 and 64`},
		{"degree without bounded topology", map[string]string{LabelCluster: "hello", LabelDegree: "4"}, "label io.drover.degree: is set without io.drover.topology=boundedDegree"},
		{"paused not a bool", map[string]string{LabelCluster: "hello", LabelPaused: "yes"}, `label io.drover.paused: must be "true" or "false", got "yes"`},
		{"paused against sync", map[string]string{LabelCluster: "hello", LabelPaused: "true", LabelPolicy: "sync"}, "label io.drover.paused: true contradicts io.drover.policy=sync"},
		{"unknown drover label", map[string]string{LabelCluster: "hello", "io.drover.admin.token": "x"}, "label io.drover.admin.token: unknown label: drover reads io.drover.cluster,"},
		{"value too long", map[string]string{LabelCluster: "hello", LabelNodeName: strings.Repeat("a", 2000)}, "label io.drover.node_name: the value is 2000 bytes long, over the limit of 1024"},
		{"quotes at most 64 bytes", map[string]string{LabelCluster: "hello", LabelAdminPort: strings.Repeat("9", 500)}, `"` + strings.Repeat("9", 64) + `"... must be a port number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, errs := parseLabels(LabelledService{Stack: "demo", Service: "web", ID: "1s3", Labels: tt.labels})
			got := strings.Join(errorStrings(errs), "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("errors %q, want none", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("errors %q, want one containing %q", got, tt.want)
			}
			if strings.Contains(got, strings.Repeat("9", 65)) {
				t.Errorf("an error quotes more than 64 bytes of the value: %q", got)
			}
		})
	}
}

// resolved is what a test compares of a resolved cluster.
type resolved struct {
	Name       string
	Services   []string
	Labelled   []string
	FromLabels bool
	Kept       bool
	Port       int
	Policy     string
	Token      string
	Problems   int
}

func summary(r Resolution) []resolved {
	var out []resolved
	for _, c := range r.Clusters {
		out = append(out, resolved{Name: c.Cluster.Name, Services: c.Cluster.Services, Labelled: c.Labelled, FromLabels: c.FromLabels,
			Kept: c.Kept, Port: c.Cluster.Admin.Port, Policy: c.Cluster.Policy, Token: c.Cluster.Admin.Token.FromEnv, Problems: len(c.Problems)})
	}
	return out
}

func TestResolveClusters(t *testing.T) {
	file := func(t *testing.T, yaml string) *File {
		t.Helper()
		f, err := Load([]byte("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: demo}\nspec:\n" + yaml))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	withDefaults := "  defaults: {admin: {token: {fromEnv: DEFAULT_TOKEN}}}\n"
	fileCluster := withDefaults + "  clusters:\n  - {name: hello, stack: demo, services: [hello], admin: {token: {fromEnv: HELLO_TOKEN}}}\n"
	svc := func(stack, name, id string, kv ...string) LabelledService {
		l := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return LabelledService{Stack: stack, Service: name, ID: id, Labels: l}
	}
	tests := []struct {
		name         string
		file         string
		services     []LabelledService
		prev         []LabelledService // resolved first, as the previous resolution
		want         []resolved
		wantProblems []string // each in the resolution's problems or a cluster's
	}{
		{
			name:     "a labelled service forms a cluster named stack/name with the defaults",
			file:     withDefaults,
			services: []LabelledService{svc("demo", "web", "1s4", LabelCluster, "web")},
			want:     []resolved{{Name: "demo/web", Services: []string{"web"}, Labelled: []string{"web"}, FromLabels: true, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN"}},
		},
		{
			name: "services of one stack naming one cluster form one mesh; another stack's are another",
			file: withDefaults,
			services: []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app"), svc("demo", "worker", "1s5", LabelCluster, "app"),
				svc("prod", "web", "1s9", LabelCluster, "app")},
			want: []resolved{
				{Name: "demo/app", Services: []string{"web", "worker"}, Labelled: []string{"web", "worker"}, FromLabels: true, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN"},
				{Name: "prod/app", Services: []string{"web"}, Labelled: []string{"web"}, FromLabels: true, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN"},
			},
		},
		{
			name:     "labels set the settings; paused is add-only",
			file:     withDefaults,
			services: []LabelledService{svc("demo", "web", "1s4", LabelCluster, "web", LabelAdminPort, "4100", LabelPaused, "true")},
			want:     []resolved{{Name: "demo/web", Services: []string{"web"}, Labelled: []string{"web"}, FromLabels: true, Port: 4100, Policy: "add-only", Token: "DEFAULT_TOKEN"}},
		},
		{
			name:     "a labelled service joins the file's cluster of its stack and name",
			file:     fileCluster,
			services: []LabelledService{svc("demo", "worker", "1s5", LabelCluster, "hello")},
			want:     []resolved{{Name: "hello", Services: []string{"hello", "worker"}, Labelled: []string{"worker"}, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN"}},
		},
		{
			name:         "a label that disagrees with the file's cluster: the service does not join",
			file:         fileCluster,
			services:     []LabelledService{svc("demo", "worker", "1s5", LabelCluster, "hello", LabelAdminPort, "4002")},
			want:         []resolved{{Name: "hello", Services: []string{"hello"}, Kept: true, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN", Problems: 1}},
			wantProblems: []string{`service demo/worker: label io.drover.admin.port is "4002" on the service and "4001" on cluster hello of the file: the file's settings hold`},
		},
		{
			name:         "a joined service whose labels turn to disagree stays joined",
			file:         fileCluster,
			prev:         []LabelledService{svc("demo", "worker", "1s5", LabelCluster, "hello")},
			services:     []LabelledService{svc("demo", "worker", "1s5", LabelCluster, "hello", LabelPolicy, "add-only")},
			want:         []resolved{{Name: "hello", Services: []string{"hello", "worker"}, Labelled: []string{"worker"}, Kept: true, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN", Problems: 1}},
			wantProblems: []string{`label io.drover.policy is "add-only" on the service and "sync" on cluster hello`},
		},
		{
			name:         "a service the file lists in another cluster stays there",
			file:         fileCluster + "  - {name: other, stack: demo, services: [worker]}\n",
			services:     []LabelledService{svc("demo", "worker", "1s5", LabelCluster, "hello")},
			want:         []resolved{{Name: "hello", Services: []string{"hello"}, Kept: true, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN", Problems: 1}, {Name: "other", Services: []string{"worker"}, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN"}},
			wantProblems: []string{"service demo/worker: label io.drover.cluster=hello: the service is listed in spec.clusters[1]; the file wins and the label is ignored"},
		},
		{
			name:         "a label-only cluster of a listed service: the file wins",
			file:         fileCluster,
			services:     []LabelledService{svc("demo", "hello", "1s2", LabelCluster, "greet")},
			want:         []resolved{{Name: "hello", Services: []string{"hello"}, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN", Problems: 1}},
			wantProblems: []string{"service demo/hello: label io.drover.cluster=greet: the service is listed in spec.clusters[0] (hello); the file wins"},
		},
		{
			name:         "label-defined services that disagree keep the cluster as it was",
			file:         withDefaults,
			prev:         []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app"), svc("demo", "worker", "1s5", LabelCluster, "app")},
			services:     []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app"), svc("demo", "worker", "1s5", LabelCluster, "app", LabelAdminPort, "4100"), svc("demo", "new", "1s6", LabelCluster, "app")},
			want:         []resolved{{Name: "demo/app", Services: []string{"web", "worker"}, Labelled: []string{"web", "worker"}, FromLabels: true, Kept: true, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN", Problems: 1}},
			wantProblems: []string{`services of cluster demo/app disagree: io.drover.admin.port is "4100" on demo/worker and "4001" on demo/web`},
		},
		{
			name:         "a kept cluster loses the services whose label went",
			file:         withDefaults,
			prev:         []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app"), svc("demo", "worker", "1s5", LabelCluster, "app")},
			services:     []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app", LabelAdminPort, "bad")},
			want:         []resolved{{Name: "demo/app", Services: []string{"web"}, Labelled: []string{"web"}, FromLabels: true, Kept: true, Port: 4001, Policy: "sync", Token: "DEFAULT_TOKEN", Problems: 1}},
			wantProblems: []string{`service demo/web: label io.drover.admin.port: "bad" must be a port number`},
		},
		{
			name:         "a new label-defined cluster with problems is not managed",
			file:         withDefaults,
			services:     []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app", LabelPolicy, "never")},
			wantProblems: []string{`service demo/web: label io.drover.policy`, "cluster demo/app is not managed until these problems are fixed"},
		},
		{
			name:         "without spec.defaults.admin.token label-defined clusters are not managed",
			file:         "  clusters:\n  - {name: hello, stack: demo, services: [hello], admin: {token: {fromEnv: HELLO_TOKEN}}}\n",
			services:     []LabelledService{svc("demo", "web", "1s4", LabelCluster, "app"), svc("demo", "worker", "1s5", LabelCluster, "hello")},
			want:         []resolved{{Name: "hello", Services: []string{"hello", "worker"}, Labelled: []string{"worker"}, Port: 4001, Policy: "sync", Token: "HELLO_TOKEN"}},
			wantProblems: []string{`services demo/web name cluster "app" (io.drover.cluster) but spec.defaults.admin.token is not set`},
		},
		{
			name:         "an invalid cluster name is a problem of its own",
			file:         withDefaults,
			services:     []LabelledService{svc("demo", "web", "1s4", LabelCluster, "Web")},
			wantProblems: []string{`service demo/web: label io.drover.cluster: "Web" must be a cluster name`},
		},
		{
			name:     "the oldest service is named first, by Rancher id",
			file:     withDefaults,
			services: []LabelledService{svc("demo", "b", "1s12", LabelCluster, "app", LabelPolicy, "add-only"), svc("demo", "a", "1s9", LabelCluster, "app")},
			wantProblems: []string{
				`services of cluster demo/app disagree: io.drover.policy is "add-only" on demo/b and "sync" on demo/a`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := file(t, tt.file)
			prev := Resolve(f, tt.prev, Resolution{})
			got := Resolve(f, tt.services, prev)
			if diff := cmp.Diff(tt.want, summary(got)); diff != "" {
				t.Errorf("clusters (-want +got):\n%s", diff)
			}
			all := got.Problems
			for _, c := range got.Clusters {
				all = append(all, c.Problems...)
			}
			for _, w := range tt.wantProblems {
				if !strings.Contains(strings.Join(all, "\n"), w) {
					t.Errorf("problems %q\nwant one containing %q", all, w)
				}
			}
			if len(tt.wantProblems) == 0 && len(all) > 0 {
				t.Errorf("problems %q, want none", all)
			}
		})
	}
}

func TestResolveBoundsItsProblems(t *testing.T) {
	f, err := Load([]byte("apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata: {name: demo}\nspec:\n  defaults: {admin: {token: {fromEnv: T}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var svcs []LabelledService
	for i := range 1000 {
		svcs = append(svcs, LabelledService{Stack: "demo", Service: "s" + strings.Repeat("x", i%7), ID: "1s1", Labels: map[string]string{LabelCluster: "BAD"}})
	}
	r := Resolve(f, svcs, Resolution{})
	if len(r.Problems) != maxProblems+1 || !strings.Contains(r.Problems[maxProblems], "and 900 more problems") {
		t.Errorf("%d problems, last %q", len(r.Problems), r.Problems[len(r.Problems)-1])
	}
}
