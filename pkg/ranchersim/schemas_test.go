package ranchersim_test

import (
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestSchemasAnswerByIDAndPluralInAnyCase(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	tests := []struct{ path, id string }{
		{"/schemas/container", "container"},
		{"/schemas/containers", "container"},
		{"/schemas/CONTAINERS", "container"},
		{"/schemas/Container", "container"},
		{"/schemas/schemas", "schema"},
		{"/schemas/schema", "schema"},
		{"/schemas/loadBalancerService", "loadBalancerService"},
		{"/schemas/loadbalancerservices", "loadBalancerService"},
		{"/schemas/subscribe", "subscribe"},
		{"/schemas/projectTemplates", "projectTemplate"},
		{"/schemas/registries", "registry"},
		{"/schemas/inServiceUpgradeStrategies", "inServiceUpgradeStrategy"},
		{"/v2-beta/schemas/stacks", "stack"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, body := call(t, s, "GET", tc.path, nil)
			if status != 200 || body["id"] != tc.id || body["type"] != "schema" {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
	status, body := call(t, s, "GET", "/schemas/nothing", nil)
	wantError(t, "unknown schema", status, body, 404, "NotFound", "nothing")
}

func TestMemberSchemaSetHasCattleTypesAndMethods(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	c := newClient(t, s, s.SchemasURL())
	tests := []struct {
		id                 string
		collection, byID   string
		collectionListable bool
	}{
		{"container", "GET POST", "GET PUT DELETE", true},
		{"service", "GET POST", "GET PUT DELETE", true},
		{"stack", "GET POST", "GET PUT DELETE", true},
		{"host", "GET", "GET PUT DELETE", true},
		{"project", "GET", "GET", true},
		{"instance", "GET", "GET", true},
		{"volume", "GET POST", "GET PUT DELETE", true},
		{"secret", "GET POST", "GET PUT DELETE", true},
		{"machine", "GET POST", "GET DELETE", true},
		{"projectTemplate", "GET", "GET", true},
		{"setting", "GET", "GET", true},
		{"serviceLog", "GET", "GET", true},
		{"externalService", "GET POST", "GET PUT DELETE", true},
		{"dnsService", "GET POST", "GET PUT DELETE", true},
		{"loadBalancerService", "GET POST", "GET PUT DELETE", true},
		{"storagePool", "GET", "GET", true},
		{"label", "GET", "GET", true},
		{"registry", "GET POST", "GET PUT DELETE", true},
		{"certificate", "GET POST", "GET PUT DELETE", true},
		{"subscribe", "GET POST", "GET", true},
		{"publish", "POST", "", false},
		{"schema", "GET", "GET", true},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			sc, ok := c.GetSchemas().CheckSchema(tc.id)
			if !ok {
				t.Fatalf("no schema %s", tc.id)
			}
			if got := strings.Join(sc.CollectionMethods, " "); got != tc.collection {
				t.Errorf("collectionMethods %q, want %q", got, tc.collection)
			}
			if got := strings.Join(sc.ResourceMethods, " "); got != tc.byID {
				t.Errorf("resourceMethods %q, want %q", got, tc.byID)
			}
			coll, hasColl := sc.Links["collection"]
			if hasColl != tc.collectionListable || (hasColl && coll != strings.ToLower(coll)) {
				t.Errorf("collection link %q", coll)
			}
			if sc.PluralName == "" || sc.Links["self"] == "" || sc.ResourceFields["id"].Type == "" {
				t.Errorf("schema %+v", sc)
			}
		})
	}
	if n := len(c.GetSchemas().Data); n < 100 {
		t.Errorf("%d schemas, want Cattle's set of over 100", n)
	}
	svc, _ := c.GetSchemas().CheckSchema("service")
	for _, a := range []string{"activate", "deactivate", "restart", "upgrade", "finishupgrade", "cancelupgrade",
		"continueupgrade", "rollback", "remove", "update", "addservicelink", "removeservicelink", "setservicelinks"} {
		if _, ok := svc.ResourceActions[a]; !ok {
			t.Errorf("service schema lacks action %s", a)
		}
	}
	if _, ok := svc.CollectionFilters["stackId"]; !ok {
		t.Errorf("service filters %v lack stackId", svc.CollectionFilters)
	}
	if _, ok := svc.CollectionFilters["instanceIds"]; ok {
		t.Error("computed instanceIds is filterable")
	}
}

func TestCollectionsOfTypesWithoutObjectsAreEmpty(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	for _, plural := range []string{"volumes", "secrets", "machines", "projecttemplates", "servicelogs",
		"externalservices", "dnsservices", "loadbalancerservices", "storagepools", "labels", "registries",
		"certificates", "apikeys", "Volumes", "volume"} {
		t.Run(plural, func(t *testing.T) {
			status, body := call(t, s, "GET", "/"+plural, nil)
			if status != 200 || body["type"] != "collection" || len(data(body)) != 0 || body["resourceType"] == "" {
				t.Fatalf("%d %v", status, body)
			}
			status, body = call(t, s, "GET", "/"+plural+"/1x42", nil)
			wantError(t, "by id", status, body, 404, "NotFound", "1x42")
		})
	}
	// The typed go-rancher calls real clients make work on them too.
	c := newClient(t, s, s.SchemasURL())
	if v, err := c.Volume.List(&client.ListOpts{Filters: map[string]interface{}{"name": "hello"}}); err != nil || len(v.Data) != 0 {
		t.Fatalf("volumes %v %v", v, err)
	}
	if v, err := c.Secret.ById("1se1"); v != nil || err != nil {
		t.Fatalf("secret by id %v %v", v, err)
	}
	status, body := call(t, s, "GET", "/frobnicators", nil)
	wantError(t, "unknown type", status, body, 404, "NotFound", "frobnicators")
}

func TestNameLookupAcrossTypesFindsOnlyTheService(t *testing.T) {
	// The rancher CLI resolves a name by listing several types in turn.
	s := demo(t, ranchersim.Options{}, 1, nil)
	found := map[string]int{}
	for _, plural := range []string{"volumes", "secrets", "stacks", "services", "containers", "hosts",
		"loadbalancerservices", "dnsservices", "externalservices"} {
		status, body := call(t, s, "GET", "/"+plural+"?name=hello&removed_null=1", nil)
		if status != 200 {
			t.Fatalf("%s: %d %v", plural, status, body)
		}
		found[plural] = len(data(body))
	}
	for plural, n := range found {
		if want := map[string]int{"services": 1}[plural]; n != want {
			t.Errorf("%s: %d matches, want %d", plural, n, want)
		}
	}
}

func TestServerVersionSettingByNameAndID(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{})
	c := newClient(t, s, s.SchemasURL())
	list, err := c.Setting.List(&client.ListOpts{Filters: map[string]interface{}{"name": "rancher.server.version"}})
	if err != nil || len(list.Data) != 1 || list.Data[0].Value != ranchersim.ServerVersion {
		t.Fatalf("by name: %+v %v", list, err)
	}
	got, err := c.Setting.ById("rancher.server.version")
	if err != nil || got == nil || got.Value != ranchersim.ServerVersion || got.Name != "rancher.server.version" {
		t.Fatalf("by id: %+v %v", got, err)
	}
	if got, err := c.Setting.ById("no.such.setting"); got != nil || err != nil {
		t.Fatalf("unknown setting: %+v %v", got, err)
	}
}

func TestWritesOnTypesNotSimulatedSayWhatIsNotSimulated(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	tests := []struct {
		name, method, path string
		status             int
		code, msg          string
	}{
		{"create volume", "POST", "/volumes", 422, "NotSupported", "creating a volume is not simulated"},
		{"create secret", "POST", "/secrets", 422, "NotSupported", "creating a secret is not simulated"},
		{"create lb", "POST", "/loadbalancerservices", 422, "NotSupported", "loadBalancerService"},
		{"create container", "POST", "/containers", 422, "NotSupported", "creating a container"},
		{"publish", "POST", "/publish", 422, "NotSupported", "publish"},
		{"create host", "POST", "/hosts", 405, "MethodNotAllowed", "POST"},
		{"update project", "PUT", "/v2-beta/projects/1a5", 405, "MethodNotAllowed", "PUT"},
		{"delete setting", "DELETE", "/settings/api.host", 405, "MethodNotAllowed", "DELETE"},
		{"other project", "GET", "/v2-beta/projects/1a9/services", 404, "NotFound", "1a9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, s, tc.method, tc.path, map[string]any{"name": "x"})
			wantError(t, tc.name, status, body, tc.status, tc.code, tc.msg)
		})
	}
}
