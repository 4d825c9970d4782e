package ranchersim_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestClientConstructsFromEveryURLForm(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	for _, u := range []string{s.SchemasURL(), s.URL(), s.URL() + "/v1", s.URL() + "/v2-beta",
		s.URL() + "/v2-beta/projects/" + s.ProjectID()} {
		c := newClient(t, s, u)
		projects, err := c.Project.List(nil)
		if err != nil {
			t.Fatalf("%s: listing projects: %v", u, err)
		}
		if len(projects.Data) != 1 || projects.Data[0].Id != "1a5" || projects.Data[0].Name != "Default" {
			t.Fatalf("%s: projects = %+v", u, projects.Data)
		}
	}
	if n := s.Requests()["GET /schemas"]; n == 0 {
		t.Errorf("Requests() has no GET /schemas: %v", s.Requests())
	}
}

func TestWrongCredentialsGet401WithCattleBody(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	_, err := client.NewRancherClient(&client.ClientOpts{Url: s.SchemasURL(), AccessKey: "x", SecretKey: "y"})
	var apiErr *client.ApiError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("err = %#v, want *ApiError with 401", err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.SchemasURL(), nil)
	req.SetBasicAuth(s.AccessKey(), "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 || body["type"] != "error" || body["code"] != "Unauthorized" ||
		body["status"] != float64(401) || body["message"] != "Unauthorized" {
		t.Fatalf("status %d body %v", resp.StatusCode, body)
	}
	if resp.Header.Get("X-API-Schemas") == "" {
		t.Error("401 without X-API-Schemas")
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 5, nil)
	if _, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "other", Scale: 2, StartOnCreate: true}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	c := newClient(t, s, s.SchemasURL())
	stacks, err := c.Stack.List(&client.ListOpts{Filters: map[string]interface{}{"name": "demo", "removed_null": 1}})
	if err != nil || len(stacks.Data) != 1 {
		t.Fatalf("stacks %v, %v", stacks, err)
	}
	st := stacks.Data[0]
	if !strings.HasPrefix(st.Id, "1st") || len(st.ServiceIds) != 2 {
		t.Fatalf("stack = %+v", st)
	}
	svcs, err := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"stackId": st.Id, "name": "hello"}})
	if err != nil || len(svcs.Data) != 1 {
		t.Fatalf("services %v, %v", svcs, err)
	}
	svc := svcs.Data[0]
	if !strings.HasPrefix(svc.Id, "1s") || svc.Scale != 5 || len(svc.InstanceIds) != 5 || svc.State != "active" {
		t.Fatalf("service = %+v", svc)
	}

	tests := []struct {
		name    string
		filters map[string]interface{}
		want    int
	}{
		{"no filter", nil, 7},
		{"name prefix", map[string]interface{}{"name_prefix": "demo-hello-"}, 5},
		{"eq state and service", map[string]interface{}{"state": "running", "serviceId": svc.Id}, 5},
		{"repeated eq is or", map[string]interface{}{"name": []string{"demo-hello-1", "demo-other-2"}}, 2},
		{"repeated ne excludes all", map[string]interface{}{"name_ne": []string{"demo-hello-1", "demo-other-2"}}, 5},
		{"unknown parameter ignored", map[string]interface{}{"frobnicate": "yes", "serviceIds": "1s999"}, 7},
		{"labels not filterable", map[string]interface{}{"labels": "x"}, 7},
		{"null", map[string]interface{}{"removed_null": "1"}, 7},
		{"notnull", map[string]interface{}{"removed_notnull": "1"}, 0},
		{"health null", map[string]interface{}{"healthState_null": "1"}, 7},
		{"gt", map[string]interface{}{"createIndex_gt": "3", "serviceId": svc.Id}, 2},
		{"bad reference", map[string]interface{}{"stackId": "nonsense"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coll, err := c.Container.List(&client.ListOpts{Filters: tc.filters})
			if err != nil {
				t.Fatal(err)
			}
			if len(coll.Data) != tc.want {
				t.Fatalf("got %d containers, want %d", len(coll.Data), tc.want)
			}
		})
	}

	// Paging with Next().
	coll, err := c.Container.List(&client.ListOpts{Filters: map[string]interface{}{"limit": 2}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := 0
	for coll != nil {
		pages++
		for _, ct := range coll.Data {
			if seen[ct.Id] {
				t.Fatalf("container %s on two pages", ct.Id)
			}
			seen[ct.Id] = true
		}
		if coll, err = coll.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if pages != 4 || len(seen) != 7 {
		t.Fatalf("pages %d, containers %d; want 4 and 7", pages, len(seen))
	}
}

func TestByIDAndRemovedObjects(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 3, nil)
	c := newClient(t, s, s.SchemasURL())
	if got, err := c.Container.ById("1i99999"); got != nil || err != nil {
		t.Fatalf("ById(unknown) = %v, %v; want nil, nil", got, err)
	}
	if got, err := c.Service.ById("1s99999"); got != nil || err != nil {
		t.Fatalf("Service.ById(unknown) = %v, %v", got, err)
	}
	views := s.Containers("demo", "hello")
	top := views[len(views)-1]
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	got, err := c.Container.ById(top.ID)
	if err != nil || got == nil || got.State != "removed" || got.Removed == "" {
		t.Fatalf("removed container by id = %+v, %v", got, err)
	}
	list, err := c.Container.List(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range list.Data {
		if ct.Id == top.ID {
			t.Fatal("removed container listed")
		}
	}
	// 404 body is Cattle's error.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2-beta/projects/1a5/containers/1i424242", nil)
	req.SetBasicAuth(s.AccessKey(), s.SecretKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"code":"NotFound"`) {
		t.Fatalf("404: %d %s", resp.StatusCode, b)
	}
}

func TestResourceFieldsMatchGoRancherStructs(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	list, err := c.Container.List(nil)
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	ct := list.Data[0]
	svcs, _ := c.Service.List(nil)
	svc := svcs.Data[0]
	checks := map[string]bool{
		"id form":            strings.HasPrefix(ct.Id, "1i"),
		"type":               ct.Type == "container",
		"kind":               ct.Kind == "container",
		"state":              ct.State == "running",
		"healthState":        ct.HealthState == "healthy",
		"primaryIpAddress":   strings.HasPrefix(ct.PrimaryIpAddress, "127.42."),
		"serviceIds":         len(ct.ServiceIds) == 1 && ct.ServiceIds[0] == svc.Id,
		"createIndex":        ct.CreateIndex == 1,
		"startCount":         ct.StartCount == 1,
		"hostId":             strings.HasPrefix(ct.HostId, "1h"),
		"accountId":          ct.AccountId == "1a5",
		"stack_service":      ct.Labels["io.rancher.stack_service.name"] == "demo/hello",
		"service label":      ct.Labels["app"] == "hello",
		"name":               ct.Name == "demo-hello-1",
		"links.self":         strings.HasSuffix(ct.Links["self"], "/v2-beta/projects/1a5/containers/"+ct.Id),
		"action url":         strings.HasSuffix(ct.Actions["stop"], "/containers/"+ct.Id+"/?action=stop"),
		"healthCheck":        ct.HealthCheck != nil && ct.HealthCheck.Port == 4001,
		"svc createIndex":    svc.CreateIndex == 1,
		"svc launch labels":  svc.LaunchConfig != nil && svc.LaunchConfig.Labels["app"] == "hello",
		"svc instanceIds":    len(svc.InstanceIds) == 1 && svc.InstanceIds[0] == ct.Id,
		"svc healthState":    svc.HealthState == "healthy",
		"svc upgrade action": svc.Actions["upgrade"] != "",
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s wrong: container %+v service %+v", name, ct, svc)
		}
	}
}
