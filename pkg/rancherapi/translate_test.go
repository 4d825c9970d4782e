package rancherapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// mustEqual fails with both values as JSON when they differ.
func mustEqual(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got:\n%s\nwant:\n%s", g, w)
	}
}

func ctr(id, state string, createIndex int64, mods ...func(*container)) container {
	c := container{
		ID: id, Name: "demo-web-" + id, State: state, CreateIndex: createIndex,
		PrimaryIP: "10.42.0." + id[2:], HostID: "1h1", StartCount: 1,
		ServiceIDs: []string{"1s1"},
		Labels:     ctLabels{StackService: "demo/web", StackName: "demo"},
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func webService(instanceIDs ...string) service {
	return service{ID: "1s1", Type: "service", Name: "web", StackID: "1st1", State: "active", Scale: 3, InstanceIDs: instanceIDs}
}

func TestJudgeServiceMembersSortedOnceEach(t *testing.T) {
	svc := webService("1i3", "1i1")
	cands := []container{
		ctr("1i3", "running", 3, func(c *container) { c.HealthState = "healthy"; c.StartCount = 2 }),
		ctr("1i1", "stopped", 1),
		ctr("1i7", "running", 2, func(c *container) { c.Labels.StackService = "demo/db"; c.ServiceIDs = nil }),
		ctr("1i9", "removed", 9),
	}
	got, doubts := judgeService(svc, "demo", cands, nil)
	want := mesh.Service{ID: "1s1", Name: "web", State: "active", Scale: 3, Containers: []mesh.Member{
		{ContainerID: "1i1", Name: "demo-web-1i1", Service: "web", ServiceID: "1s1", IP: "10.42.0.1", State: "stopped", CreateIndex: 1, StartCount: 1, HostID: "1h1"},
		{ContainerID: "1i3", Name: "demo-web-1i3", Service: "web", ServiceID: "1s1", IP: "10.42.0.3", State: "running", HealthState: "healthy", CreateIndex: 3, StartCount: 2, HostID: "1h1"},
	}}
	mustEqual(t, got, want)
	mustEqual(t, doubts, []string(nil))
}

func TestJudgeServiceEmptyIsNotNil(t *testing.T) {
	got, _ := judgeService(webService(), "demo", nil, nil)
	if got.Containers == nil || len(got.Containers) != 0 {
		t.Fatalf("containers = %#v, want empty non-nil", got.Containers)
	}
}

func TestMatchStacks(t *testing.T) {
	st := func(id, name, state string) stack {
		return stack{ID: id, Name: name, State: state}
	}
	tests := []struct {
		name        string
		names       []string
		stacks      []stack
		wantIDs     map[string]string
		wantMissing []string
		wantErr     bool
	}{
		{"found among others (filter ignored)", []string{"demo"}, []stack{st("1st1", "other", "active"), st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, nil, false},
		{"missing", []string{"demo", "x"}, []stack{st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, []string{"x"}, false},
		{"removing stack ignored in favour of the new one", []string{"demo"}, []stack{st("1st1", "demo", "removing"), st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, nil, false},
		{"removed only is missing", []string{"demo"}, []stack{st("1st1", "demo", "removed")}, map[string]string{}, []string{"demo"}, false},
		{"two live stacks is inconsistent", []string{"demo"}, []stack{st("1st1", "demo", "active"), st("1st2", "demo", "active")}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, missing, err := matchStacks(tt.names, tt.stacks)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !IsTransient(err) {
					t.Fatalf("inconsistent answer should be transient: %v", err)
				}
				return
			}
			ids := map[string]string{}
			for n, s := range found {
				ids[n] = s.ID
			}
			mustEqual(t, ids, tt.wantIDs)
			mustEqual(t, missing, tt.wantMissing)
		})
	}
}

func TestMatchServices(t *testing.T) {
	sv := func(id, stack, name, state string) service {
		return service{ID: id, StackID: stack, Name: name, State: state}
	}
	want := []serviceKey{{"1st1", "web"}, {"1st1", "db"}}
	list := []service{
		sv("1s1", "1st2", "web", "active"), // same name, other stack
		sv("1s2", "1st1", "web", "upgraded"),
		sv("1s3", "1st1", "db", "removed"),
	}
	found, missing, err := matchServices(want, list)
	if err != nil {
		t.Fatal(err)
	}
	if found[serviceKey{"1st1", "web"}].ID != "1s2" || len(found) != 1 {
		t.Fatalf("found = %v", found)
	}
	mustEqual(t, missing, []serviceKey{{"1st1", "db"}})
}

func TestMissingInstances(t *testing.T) {
	services := map[serviceKey]service{
		{"1st1", "web"}: webService("1i1", "1i2", "1i3"),
		{"1st1", "db"}:  {InstanceIDs: []string{"1i4", "1i2"}},
	}
	listed := map[string]container{"1i1": {}, "1i3": {}}
	mustEqual(t, missingInstances(services, listed), []string{"1i2", "1i4"})
}

func TestAssemble(t *testing.T) {
	refs := []ClusterRef{{Name: "c1", Stack: "demo", Services: []string{"web", "api"}}}
	api := service{ID: "1s2", Name: "api", StackID: "1st1", State: "active", Scale: 1}
	r := resolved{
		stacks:   map[string]stack{"demo": {ID: "1st1", Name: "demo"}},
		services: map[serviceKey]service{{"1st1", "web"}: webService("1i2", "1i1"), {"1st1", "api"}: api},
	}
	apiCtr := ctr("1i5", "running", 1, func(c *container) {
		c.ServiceIDs = []string{"1s2"}
		c.Labels.StackService = "demo/api"
	})
	cts := map[string]container{"1i2": ctr("1i2", "running", 2), "1i1": ctr("1i1", "starting", 1), "1i5": apiCtr}
	got := assemble(refs, r, cts)
	if len(got) != 1 || got[0].Name != "c1" || got[0].StackID != "1st1" || len(got[0].Services) != 2 {
		t.Fatalf("clusters = %+v", got)
	}
	if s := got[0].Services[0]; s.Name != "web" || len(s.Containers) != 2 || s.Containers[0].ContainerID != "1i1" {
		t.Fatalf("web = %+v", s)
	}
	if s := got[0].Services[1]; s.Name != "api" || len(s.Containers) != 1 || s.Containers[0].Service != "api" {
		t.Fatalf("api = %+v", s)
	}
}

// TestRelevant decodes frames as the stream sends them and decides which
// changes call for a pass.
func TestRelevant(t *testing.T) {
	frame := func(typ, id, resource string) string {
		return fmt.Sprintf(`{"name":"resource.change","resourceType":%q,"resourceId":%q,"data":{"resource":%s}}`, typ, id, resource)
	}
	ct := func(fields string) string { return frame("container", "1i1", `{"id":"1i1"`+fields+`}`) }
	labelled := func(stack string) string { return `,"labels":{"io.rancher.stack.name":"` + stack + `"}` }
	sc := scope{stackNames: []string{"demo"}, stackIDs: []string{"1st1"}, serviceIDs: []string{"1s1"}, members: map[string]bool{"1i5": true}}
	cold := scope{stackNames: []string{"demo"}}
	tests := []struct {
		name  string
		frame string
		sc    scope
		want  bool
	}{
		{"container without labels", ct(""), sc, true},
		{"container of a configured stack", ct(labelled("demo")), sc, true},
		{"container of another stack", ct(labelled("other")), sc, false},
		{"instance", frame("instance", "1i1", `{"id":"1i1"}`), sc, true},
		{"container of a renamed stack: stackId wins over the old label", ct(labelled("old") + `,"stackId":"1st1"`), sc, true},
		{"container of a renamed service, no stackId: serviceIds win", ct(labelled("old") + `,"serviceIds":["1s1"]`), sc, true},
		{"container labelled for the stack but in another stack by id", ct(labelled("demo") + `,"stackId":"1st9"`), sc, false},
		{"container of other services by serviceIds", ct(labelled("demo") + `,"serviceIds":["1s9"]`), sc, false},
		{"a member with a stale label of another stack", frame("container", "1i5", `{"id":"1i5"`+labelled("other")+`}`), sc, true},
		{"container with stackId before any snapshot", ct(labelled("demo") + `,"stackId":"1st9"`), cold, true},
		{"container event without its object: read it again", frame("container", "1i9", `null`), sc, true},
		{"service of a configured stack", frame("service", "1s1", `{"id":"1s1","stackId":"1st1"}`), sc, true},
		{"service of another stack", frame("service", "1s9", `{"id":"1s9","stackId":"1st9"}`), sc, false},
		{"service before any snapshot", frame("service", "1s9", `{"id":"1s9","stackId":"1st9"}`), cold, true},
		{"configured stack", frame("stack", "1st1", `{"id":"1st1","name":"demo"}`), sc, true},
		{"other stack", frame("stack", "1st9", `{"id":"1st9","name":"other"}`), sc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, ok := decodeChange([]byte(tt.frame))
			if !ok {
				t.Fatalf("decodeChange refused %s", tt.frame)
			}
			if got := relevant(ch, tt.sc); got != tt.want {
				t.Errorf("relevant = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDecodeChangeIgnoresWhatTheCacheDoesNotHold: pings, other events,
// other resource types and other service kinds never reach the cache.
func TestDecodeChangeIgnoresWhatTheCacheDoesNotHold(t *testing.T) {
	for _, f := range []string{
		`{"name":"ping","resourceId":null,"resourceType":null,"data":{"options":{},"resources":[]}}`,
		`{"name":"logout"}`,
		`{"name":"resource.change","resourceType":"serviceExposeMap","resourceId":"1sem1","data":{"resource":{"id":"1sem1"}}}`,
		`{"name":"resource.change","resourceType":"loadBalancerService","resourceId":"1s9","data":{"resource":{"id":"1s9"}}}`,
		`{"name":"resource.change","resourceType":"host","resourceId":"1h1","data":{"resource":{"id":"1h1"}}}`,
		`{"name":"resource.change","resourceType":"container","data":{"resource":null}}`,
		`not json`,
	} {
		if ch, ok := decodeChange([]byte(f)); ok {
			t.Errorf("decodeChange(%s) = %+v, want ignored", f, ch)
		}
	}
}

// TestDecodeChangeIntoSlimTypes: an event's object is decoded straight
// into the cache's type, labels of any JSON type included.
func TestDecodeChangeIntoSlimTypes(t *testing.T) {
	f := `{"name":"resource.change","resourceType":"container","resourceId":"1i7","data":{"resource":{
		"id":"1i7","type":"container","name":"demo-web-7","state":"running","healthState":null,"primaryIpAddress":"10.42.0.7",
		"createIndex":7,"startCount":2,"hostId":"1h1","serviceIds":["1s1"],"transitioning":"no","ports":[],
		"labels":{"io.rancher.stack_service.name":"demo/web","io.rancher.stack.name":"demo","io.rancher.service.launch.config":"io.rancher.service.primary.launch.config","n":5,"b":true}}}}`
	ch, ok := decodeChange([]byte(f))
	if !ok || ch.empty || ch.kind != kindContainer {
		t.Fatalf("decodeChange = %+v, %v", ch, ok)
	}
	want := container{ID: "1i7", Name: "demo-web-7", State: "running", PrimaryIP: "10.42.0.7", CreateIndex: 7, StartCount: 2,
		HostID: "1h1", ServiceIDs: []string{"1s1"}, Labels: ctLabels{StackService: "demo/web", StackName: "demo", LaunchConfig: primaryLaunchConfig}}
	mustEqual(t, ch.ct, want)
	var svc service
	if err := json.Unmarshal([]byte(`{"id":"1s1","launchConfig":{"labels":{"io.drover.cluster":"c","n":5,"x":null}},"instanceIds":[]}`), &svc); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, svc.LaunchConfig.Labels, labelMap{"io.drover.cluster": "c", "n": "5", "x": ""})
	if svc.InstanceIDs == nil {
		t.Error("instanceIds [] decoded as absent")
	}
}

func TestCandidatesAreEverySourceOnceSortedByID(t *testing.T) {
	cts := map[string]container{
		"1i1": ctr("1i1", "running", 1),
		"1i2": ctr("1i2", "running", 2, noSvcIDs),                                  // by label alone
		"1i3": ctr("1i3", "running", 3, noLabels),                                  // by serviceIds alone
		"1i4": ctr("1i4", "running", 4, noSvcIDs, noLabels),                        // by instanceIds alone
		"1i5": ctr("1i5", "running", 5, noSvcIDs, svcID("1s1"), label("Demo/Web")), // serviceId, label case
		"1i6": ctr("1i6", "running", 6, svcIDs("1s9"), label("demo/db")),           // another service's
	}
	tests := []struct {
		name        string
		instanceIDs []string
		want        []string
	}{
		{"no instanceIds: the other sources", nil, []string{"1i1", "1i2", "1i3", "1i5"}},
		{"instanceIds naming the same", []string{"1i5", "1i3", "1i2", "1i1"}, []string{"1i1", "1i2", "1i3", "1i5"}},
		{"instanceIds adding one, repeated, unsorted", []string{"1i4", "1i1", "1i4"}, []string{"1i1", "1i2", "1i3", "1i4", "1i5"}},
		{"an instanceId the cache lacks is left out", []string{"1i99", "1i1"}, []string{"1i1", "1i2", "1i3", "1i5"}},
	}
	ix := newContainerIndex(cts)
	var (
		out []container
		ids []string
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ids = ix.appendCandidates(out, ids, webService(tc.instanceIDs...), "demo")
			var got []string
			for _, ct := range out {
				got = append(got, ct.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("candidates %v, want %v", got, tc.want)
			}
		})
	}
}
