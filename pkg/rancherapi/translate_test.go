package rancherapi

import (
	"encoding/json"
	"reflect"
	"testing"

	client "github.com/rancher/go-rancher/v2"

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

func ctr(id, state string, createIndex int64, mods ...func(*client.Container)) client.Container {
	c := client.Container{
		Resource: client.Resource{Id: id, Type: "container"},
		Name:     "demo-web-" + id, State: state, CreateIndex: createIndex,
		PrimaryIpAddress: "10.42.0." + id[2:], HostId: "1h1", StartCount: 1,
		ServiceIds: []string{"1s1"},
		Labels:     map[string]interface{}{labelStackService: "demo/web", labelStackName: "demo"},
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func webService(instanceIDs ...string) client.Service {
	return client.Service{Resource: client.Resource{Id: "1s1"}, Name: "web", StackId: "1st1", State: "active", Scale: 3, InstanceIds: instanceIDs}
}

func TestJudgeServiceMembersSortedOnceEach(t *testing.T) {
	svc := webService("1i3", "1i1")
	cands := []client.Container{
		ctr("1i3", "running", 3, func(c *client.Container) { c.HealthState = "healthy"; c.StartCount = 2 }),
		ctr("1i1", "stopped", 1),
		ctr("1i7", "running", 2, func(c *client.Container) { c.Labels[labelStackService] = "demo/db"; c.ServiceIds = nil }),
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
	st := func(id, name, state string) client.Stack {
		return client.Stack{Resource: client.Resource{Id: id}, Name: name, State: state}
	}
	tests := []struct {
		name        string
		names       []string
		stacks      []client.Stack
		wantIDs     map[string]string
		wantMissing []string
		wantErr     bool
	}{
		{"found among others (filter ignored)", []string{"demo"}, []client.Stack{st("1st1", "other", "active"), st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, nil, false},
		{"missing", []string{"demo", "x"}, []client.Stack{st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, []string{"x"}, false},
		{"removing stack ignored in favour of the new one", []string{"demo"}, []client.Stack{st("1st1", "demo", "removing"), st("1st2", "demo", "active")}, map[string]string{"demo": "1st2"}, nil, false},
		{"removed only is missing", []string{"demo"}, []client.Stack{st("1st1", "demo", "removed")}, map[string]string{}, []string{"demo"}, false},
		{"two live stacks is inconsistent", []string{"demo"}, []client.Stack{st("1st1", "demo", "active"), st("1st2", "demo", "active")}, nil, nil, true},
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
				ids[n] = s.Id
			}
			mustEqual(t, ids, tt.wantIDs)
			mustEqual(t, missing, tt.wantMissing)
		})
	}
}

func TestMatchServices(t *testing.T) {
	sv := func(id, stack, name, state string) client.Service {
		return client.Service{Resource: client.Resource{Id: id}, StackId: stack, Name: name, State: state}
	}
	want := []serviceKey{{"1st1", "web"}, {"1st1", "db"}}
	list := []client.Service{
		sv("1s1", "1st2", "web", "active"), // same name, other stack
		sv("1s2", "1st1", "web", "upgraded"),
		sv("1s3", "1st1", "db", "removed"),
	}
	found, missing, err := matchServices(want, list)
	if err != nil {
		t.Fatal(err)
	}
	if found[serviceKey{"1st1", "web"}].Id != "1s2" || len(found) != 1 {
		t.Fatalf("found = %v", found)
	}
	mustEqual(t, missing, []serviceKey{{"1st1", "db"}})
}

func TestMissingInstances(t *testing.T) {
	services := map[serviceKey]client.Service{
		{"1st1", "web"}: webService("1i1", "1i2", "1i3"),
		{"1st1", "db"}:  {InstanceIds: []string{"1i4", "1i2"}},
	}
	listed := map[string]client.Container{"1i1": {}, "1i3": {}}
	mustEqual(t, missingInstances(services, listed), []string{"1i2", "1i4"})
}

func TestAssemble(t *testing.T) {
	refs := []ClusterRef{{Name: "c1", Stack: "demo", Services: []string{"web", "api"}}}
	api := client.Service{Resource: client.Resource{Id: "1s2"}, Name: "api", StackId: "1st1", State: "active", Scale: 1}
	r := resolved{
		stacks:   map[string]client.Stack{"demo": {Resource: client.Resource{Id: "1st1"}, Name: "demo"}},
		services: map[serviceKey]client.Service{{"1st1", "web"}: webService("1i2", "1i1"), {"1st1", "api"}: api},
	}
	apiCtr := ctr("1i5", "running", 1, func(c *client.Container) {
		c.ServiceIds = []string{"1s2"}
		c.Labels[labelStackService] = "demo/api"
	})
	cts := map[string]client.Container{"1i2": ctr("1i2", "running", 2), "1i1": ctr("1i1", "starting", 1), "1i5": apiCtr}
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

func TestRelevant(t *testing.T) {
	change := func(typ string, mod func(*event)) event {
		ev := event{Name: "resource.change", ResourceType: typ}
		if mod != nil {
			mod(&ev)
		}
		return ev
	}
	inStack := func(name string) func(*event) {
		return func(ev *event) { ev.Data.Resource.Labels = map[string]interface{}{labelStackName: name} }
	}
	named := func(name string) func(*event) { return func(ev *event) { ev.Data.Resource.Name = name } }
	stackID := func(id string) func(*event) { return func(ev *event) { ev.Data.Resource.StackID = id } }
	ids := func(stackID string, serviceIDs ...string) func(*event) {
		return func(ev *event) { ev.Data.Resource.StackID = stackID; ev.Data.Resource.ServiceIDs = serviceIDs }
	}
	both := func(mods ...func(*event)) func(*event) {
		return func(ev *event) {
			for _, m := range mods {
				m(ev)
			}
		}
	}
	id := func(v string) func(*event) { return func(ev *event) { ev.ResourceID = v } }
	sc := scope{stackNames: []string{"demo"}, stackIDs: []string{"1st1"}, serviceIDs: []string{"1s1"}, members: map[string]string{"1i5": "10.42.0.5"}}
	cold := scope{stackNames: []string{"demo"}}
	tests := []struct {
		name string
		ev   event
		sc   scope
		want bool
	}{
		{"container without labels", change("container", nil), sc, true},
		{"container of a configured stack", change("container", inStack("demo")), sc, true},
		{"container of another stack", change("container", inStack("other")), sc, false},
		{"instance", change("instance", nil), sc, true},
		{"container of a renamed stack: stackId wins over the old label", change("container", both(inStack("old"), ids("1st1"))), sc, true},
		{"container of a renamed service, no stackId: serviceIds win", change("container", both(inStack("old"), ids("", "1s1"))), sc, true},
		{"container labelled for the stack but in another stack by id", change("container", both(inStack("demo"), ids("1st9"))), sc, false},
		{"container of other services by serviceIds", change("container", both(inStack("demo"), ids("", "1s9"))), sc, false},
		{"a member with a stale label of another stack", change("container", both(inStack("other"), id("1i5"))), sc, true},
		{"container with stackId before any snapshot", change("container", both(inStack("demo"), ids("1st9"))), cold, true},
		{"service of a configured stack", change("service", stackID("1st1")), sc, true},
		{"service of another stack", change("service", stackID("1st9")), sc, false},
		{"service before any snapshot", change("service", stackID("1st9")), cold, true},
		{"load balancer service", change("loadBalancerService", stackID("1st1")), sc, true},
		{"configured stack", change("stack", named("demo")), sc, true},
		{"other stack", change("stack", named("other")), sc, false},
		{"expose map", change("serviceExposeMap", nil), sc, false},
		{"mount", change("mount", nil), sc, false},
		{"host", change("host", nil), sc, false},
		{"ping", event{Name: "ping"}, sc, false},
		{"logout", event{Name: "logout"}, sc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relevant(tt.ev, tt.sc); got != tt.want {
				t.Errorf("relevant = %v, want %v", got, tt.want)
			}
		})
	}
}
