package ranchersim_test

import (
	"strings"
	"testing"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// shapeSim starts a simulator in a shape with one running container of
// demo/hello (no health check; no system labels when bare).
func shapeSim(t *testing.T, shape ranchersim.Shape, bare bool) (*ranchersim.Sim, map[string]any, map[string]any) {
	t.Helper()
	s := ranchertest.NewServer(t, ranchersim.Options{Shape: shape})
	if _, err := s.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: 1, StartOnCreate: true,
		NoSystemLabels: bare}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	v := s.Containers("demo", "hello")[0]
	_, ct := call(t, s, "GET", "/containers/"+v.ID, nil)
	_, svc := call(t, s, "GET", "/services/"+v.ServiceID, nil)
	return s, ct, svc
}

func TestShapesRenderOlderCattlePayloads(t *testing.T) {
	tests := []struct {
		name      string
		shape     ranchersim.Shape
		bare      bool
		check     func(ct, svc map[string]any) bool
		wantsWhat string
	}{
		{"default v2-beta shape", ranchersim.Shape{}, false, func(ct, svc map[string]any) bool {
			_, hasIDs := svc["instanceIds"]
			return ct["serviceId"] != nil && ct["stackId"] != nil && len(ct["serviceIds"].([]any)) == 1 && hasIDs &&
				ct["healthState"] == nil && ct["labels"].(map[string]any)["io.rancher.stack_service.name"] == "demo/hello"
		}, "service references, instanceIds, null health without a check, system labels"},
		{"no container service refs", ranchersim.Shape{NoContainerServiceRefs: true}, false, func(ct, _ map[string]any) bool {
			_, a := ct["serviceId"]
			_, b := ct["stackId"]
			_, c := ct["serviceIds"]
			return !a && !b && !c && ct["labels"].(map[string]any)["io.rancher.stack_service.name"] == "demo/hello"
		}, "no stackId, serviceId, serviceIds; the stack_service label kept"},
		{"no service instance ids", ranchersim.Shape{NoServiceInstanceIDs: true}, false, func(_, svc map[string]any) bool {
			_, has := svc["instanceIds"]
			return !has
		}, "no instanceIds"},
		{"null labels", ranchersim.Shape{NullLabels: true}, true, func(ct, _ map[string]any) bool {
			v, has := ct["labels"]
			return has && v == nil
		}, `"labels": null`},
		{"empty labels without the knob", ranchersim.Shape{}, true, func(ct, _ map[string]any) bool {
			m, ok := ct["labels"].(map[string]any)
			return ok && len(m) == 0
		}, `"labels": {}`},
		{"null health state", ranchersim.Shape{NullHealthState: true}, false, func(ct, _ map[string]any) bool {
			for _, k := range []string{"healthState", "healthCheck", "hostname", "transitioningProgress"} {
				if v, has := ct[k]; !has || v != nil {
					return false
				}
			}
			return ct["transitioning"] == "no"
		}, "null healthState, healthCheck, hostname, transitioningProgress; transitioning no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ct, svc := shapeSim(t, tc.shape, tc.bare)
			if !tc.check(ct, svc) {
				t.Fatalf("want %s; container %v service %v", tc.wantsWhat, ct, svc)
			}
		})
	}
}

func TestFixtureShapeKeyTurnsKnobsOn(t *testing.T) {
	f, err := ranchersim.ParseFixture([]byte("shape:\n  noContainerServiceRefs: true\n  noServiceInstanceIDs: true\n" +
		"removeDelay: 2s\npurgeInterval: 100ms\nstacks:\n- name: demo\n  services:\n  - {name: hello, scale: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := ranchertest.NewServer(t, ranchersim.Options{Fixture: f})
	settle(t, s)
	v := s.Containers("demo", "hello")[0]
	_, ct := call(t, s, "GET", "/containers/"+v.ID, nil)
	_, svc := call(t, s, "GET", "/services/"+v.ServiceID, nil)
	_, a := ct["serviceIds"]
	_, b := svc["instanceIds"]
	if a || b {
		t.Fatalf("container %v service %v", ct, svc)
	}
	for _, bad := range []string{"removeDelay: soon\n", "purgeInterval: -1s\n", "shape: {nullLables: true}\n"} {
		if _, err := ranchersim.ParseFixture([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestV1APIServesStacksAsEnvironments(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	status, body := call(t, s, "GET", "/v1/projects/1a5/environments", nil)
	envs := data(body)
	if status != 200 || body["resourceType"] != "environment" || len(envs) != 1 {
		t.Fatalf("%d %v", status, body)
	}
	env := envs[0]
	id := env["id"].(string)
	if env["type"] != "environment" || !strings.HasPrefix(id, "1e") || env["name"] != "demo" ||
		!strings.Contains(env["links"].(map[string]any)["self"].(string), "/v1/projects/1a5/environments/"+id) {
		t.Fatalf("environment %v", env)
	}
	for _, path := range []string{"/v1/projects/1a5/environments/" + id, "/v1/environments/" + id} {
		if status, got := call(t, s, "GET", path, nil); status != 200 || got["id"] != id {
			t.Errorf("%s: %d %v", path, status, got)
		}
	}
	_, sc := call(t, s, "GET", "/v1/projects/1a5/schemas/environment", nil)
	if sc["id"] != "environment" || sc["pluralName"] != "environments" {
		t.Errorf("schema %v", sc)
	}
	if status, _ := call(t, s, "GET", "/v1/projects/1a5/schemas/stack", nil); status != 404 {
		t.Errorf("v1 has a stack schema: %d", status)
	}
	_, svcs := call(t, s, "GET", "/v1/projects/1a5/services?environmentId="+id, nil)
	if list := data(svcs); len(list) != 1 || list[0]["environmentId"] != id || list[0]["stackId"] != nil {
		t.Errorf("v1 services %v", svcs)
	}
	_, cts := call(t, s, "GET", "/v1/projects/1a5/containers", nil)
	for _, ct := range data(cts) {
		if _, has := ct["serviceIds"]; has {
			t.Errorf("v1 container with serviceIds: %v", ct)
		}
	}
}
