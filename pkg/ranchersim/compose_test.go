package ranchersim_test

import (
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

const webCompose = `version: '2'
services:
  web:
    image: nginx:1.13
    labels:
      - io.drover.cluster=web
    environment:
      RELEASE_COOKIE: secret
    ports:
      - 80:80
  worker:
    image: busybox
`

const webRancherCompose = `version: '2'
services:
  web:
    scale: 2
    start_on_create: true
    health_check:
      port: 4001
      request_line: GET /v1/health HTTP/1.0
      interval: 50
      healthy_threshold: 1
      response_timeout: 1000
  worker:
    scale: 0
`

func TestComposeStackCreatesItsServices(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
	status, body := call(t, s, "POST", "/stacks", map[string]any{"name": "shop",
		"dockerCompose": webCompose, "rancherCompose": webRancherCompose})
	if status != 201 || body["type"] != "stack" || len(body["serviceIds"].([]any)) != 2 {
		t.Fatalf("create: %d %v", status, body)
	}
	settle(t, s)
	c := newClient(t, s, s.SchemasURL())
	svcs, err := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"name": "web"}})
	if err != nil || len(svcs.Data) != 1 {
		t.Fatalf("%v %v", svcs, err)
	}
	web := svcs.Data[0]
	if web.State != "active" || web.Scale != 2 || web.LaunchConfig.ImageUuid != "docker:nginx:1.13" ||
		web.LaunchConfig.HealthCheck == nil || web.LaunchConfig.HealthCheck.Port != 4001 {
		t.Fatalf("web %+v", web)
	}
	for _, v := range s.Containers("shop", "web") {
		ct, _ := c.Container.ById(v.ID)
		if ct.State != "running" || ct.HealthState != "healthy" || ct.ImageUuid != "docker:nginx:1.13" ||
			ct.Labels["io.drover.cluster"] != "web" || ct.Environment["RELEASE_COOKIE"] != "secret" {
			t.Errorf("container %+v", ct)
		}
	}
	worker, _ := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"name": "worker"}})
	if w := worker.Data[0]; w.State != "inactive" || w.Scale != 0 {
		t.Errorf("worker without start_on_create is %s at scale %d", w.State, w.Scale)
	}
	// The stack keeps its compose files and exports what it runs.
	st, _ := c.Stack.ById(body["id"].(string))
	if st.DockerCompose != webCompose {
		t.Errorf("dockerCompose %q", st.DockerCompose)
	}
	cfg, err := c.Stack.ActionExportconfig(st, &client.ComposeConfigInput{})
	if err != nil || !strings.Contains(cfg.DockerComposeConfig, "nginx:1.13") || !strings.Contains(cfg.RancherComposeConfig, "port: 4001") {
		t.Fatalf("exportconfig %+v %v", cfg, err)
	}
}

func TestComposeStackRefusesWhatIsNotSimulated(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
	tests := []struct {
		name, docker, rancher string
		status                int
		code, msg             string
	}{
		{"build", "web:\n  build: .\n", "", 422, "NotSupported", "build"},
		{"sidekick", "web:\n  image: a\n  labels:\n    io.rancher.sidekicks: b\n", "", 422, "NotSupported", "sidekicks"},
		{"load balancer", "lb:\n  image: rancher/lb-service-haproxy:v0.7.9\n", "", 422, "NotSupported", "load balancer"},
		{"alias", "db:\n  image: rancher/dns-service\n", "", 422, "NotSupported", "service aliases"},
		{"external", "", "ext:\n  external_ips: [1.2.3.4]\n", 422, "NotSupported", "external services"},
		{"lb config", "web:\n  image: a\n", "web:\n  lb_config: {}\n", 422, "NotSupported", "load balancer"},
		{"unknown key", "web:\n  image: a\n  frobnicate: 1\n", "", 422, "InvalidOption", `unknown key "frobnicate"`},
		{"unknown rancher key", "web:\n  image: a\n", "web:\n  sclae: 2\n", 422, "InvalidOption", `unknown key "sclae"`},
		{"no image", "web:\n  ports: [80]\n", "", 422, "MissingRequired", "image is required"},
		{"bad yaml", "web: [\n", "", 422, "InvalidFormat", "docker-compose.yml"},
		{"orphan", "web:\n  image: a\n", "db:\n  scale: 1\n", 422, "InvalidOption", "not in docker-compose.yml"},
		{"bad scale", "web:\n  image: a\n", "web:\n  scale: -1\n", 422, "InvalidOption", "scale"},
		{"bad name", "Web_1:\n  image: a\n", "", 422, "InvalidCharacters", "Web_1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, s, "POST", "/stacks", map[string]any{"name": "broken",
				"dockerCompose": tc.docker, "rancherCompose": tc.rancher})
			wantError(t, tc.name, status, body, tc.status, tc.code, tc.msg)
		})
	}
	_, body := call(t, s, "GET", "/stacks?name=broken", nil)
	if n := len(data(body)); n != 0 {
		t.Fatalf("%d stacks created by refused requests", n)
	}
}

func TestStackUpgradeFromComposeKeepsTheImageAskedFor(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
	docker := "version: '2'\nservices:\n  web:\n    image: nginx:1.12\n"
	status, body := call(t, s, "POST", "/stacks", map[string]any{"name": "shop", "startOnCreate": true,
		"dockerCompose": docker, "rancherCompose": "version: '2'\nservices:\n  web:\n    scale: 2\n"})
	if status != 201 {
		t.Fatalf("%d %v", status, body)
	}
	settle(t, s)
	c := newClient(t, s, s.SchemasURL())
	st, _ := c.Stack.ById(body["id"].(string))
	if _, err := c.Stack.ActionUpgrade(st, &client.StackUpgrade{
		DockerCompose:  strings.Replace(docker, "1.12", "1.13", 1),
		RancherCompose: "version: '2'\nservices:\n  web:\n    scale: 2\n    upgrade_strategy:\n      interval_millis: 10\n"}); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, settleTimeout, "stack upgraded", func() bool {
		got, _ := c.Stack.ById(st.Id)
		return got.State == "upgraded"
	})
	st, _ = c.Stack.ById(st.Id)
	if _, err := c.Stack.ActionFinishupgrade(st); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, settleTimeout, "stack active", func() bool {
		got, _ := c.Stack.ById(st.Id)
		return got.State == "active"
	})
	settle(t, s)
	running := 0
	for _, v := range s.Containers("shop", "web") {
		ct, _ := c.Container.ById(v.ID)
		if ct == nil {
			continue
		}
		if ct.State == "running" {
			running++
			if ct.ImageUuid != "docker:nginx:1.13" {
				t.Errorf("running container %s has %s", ct.Id, ct.ImageUuid)
			}
		}
	}
	if running != 2 {
		t.Fatalf("%d running after the stack upgrade", running)
	}
}

func TestServiceCreateAndUpgradeKeepTheImage(t *testing.T) {
	s := ranchertest.NewServer(t, ranchersim.Options{IPRange: "127.42.0.0/16"})
	stackID, _ := s.CreateStack("demo")
	c := newClient(t, s, s.SchemasURL())
	svc, err := c.Service.Create(&client.Service{Name: "api", StackId: stackID, Scale: 1, StartOnCreate: true,
		LaunchConfig: &client.LaunchConfig{ImageUuid: "docker:example/api:7", Labels: map[string]interface{}{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	ct, _ := c.Container.ById(s.Containers("demo", "api")[0].ID)
	if ct.ImageUuid != "docker:example/api:7" || ct.Labels["a"] != "b" {
		t.Fatalf("container %s %v", ct.ImageUuid, ct.Labels)
	}
	svc, _ = c.Service.ById(svc.Id)
	if _, err := c.Service.ActionUpgrade(svc, &client.ServiceUpgrade{InServiceStrategy: &client.InServiceUpgradeStrategy{
		LaunchConfig: &client.LaunchConfig{ImageUuid: "docker:example/api:8"}}}); err != nil {
		t.Fatal(err)
	}
	waitServiceState(t, c, svc.Id, "upgraded")
	for _, v := range s.Containers("demo", "api") {
		ct, _ := c.Container.ById(v.ID)
		want := map[string]string{"running": "docker:example/api:8", "stopped": "docker:example/api:7"}[ct.State]
		if ct.ImageUuid != want {
			t.Errorf("%s container has %s, want %s", ct.State, ct.ImageUuid, want)
		}
	}
	status, body := call(t, s, "POST", "/services", map[string]any{"name": "noimage", "stackId": stackID,
		"launchConfig": map[string]any{}})
	wantError(t, "no image", status, body, 422, "MissingRequired", "imageUuid")
}
