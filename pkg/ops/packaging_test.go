package ops

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// compose is the part of a Rancher 1.6 compose file the checks read.
type compose struct {
	Services map[string]struct {
		Labels      map[string]string `json:"labels"`
		Command     []string          `json:"command"`
		Scale       int               `json:"scale"`
		HealthCheck *struct {
			Port        int    `json:"port"`
			RequestLine string `json:"request_line"`
		} `json:"health_check"`
	} `json:"services"`
}

func readCompose(t *testing.T, path string) compose {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// The Rancher deployment runs two elected controllers with the labels that
// inject the API keys, serves the ops server where the health check looks,
// and health-checks the liveness endpoint (a standby must pass it: the
// election counts only healthy containers).
func TestRancherDeploymentMatchesTheOpsServer(t *testing.T) {
	dc := readCompose(t, "../../config/rancher/docker-compose.yml")
	rc := readCompose(t, "../../config/rancher/rancher-compose.yml")
	svc, ok := dc.Services["drover"]
	if !ok {
		t.Fatal("docker-compose.yml has no drover service")
	}
	if svc.Labels["io.rancher.container.create_agent"] != "true" || svc.Labels["io.rancher.container.agent.role"] != "environment" {
		t.Errorf("labels %v lack create_agent=true and agent.role=environment", svc.Labels)
	}
	if !strings.Contains(strings.Join(svc.Command, " "), "--listen=:9090") {
		t.Errorf("command %q does not serve the ops server on :9090", svc.Command)
	}
	if !strings.Contains(strings.Join(svc.Command, " "), "--leader-election=rancher") {
		t.Errorf("command %q runs no election: two controllers would both push", svc.Command)
	}
	r := rc.Services["drover"]
	if r.Scale != 2 {
		t.Errorf("scale = %d, want two controllers (a leader and a standby)", r.Scale)
	}
	if hc := r.HealthCheck; hc == nil || hc.Port != 9090 || hc.RequestLine != "GET "+PathHealthz+" HTTP/1.0" {
		t.Errorf("health check = %+v, want GET %s on 9090", hc, PathHealthz)
	}
	node := readCompose(t, "../../config/node/rancher-compose.yml")
	if hc := node.Services["hello"].HealthCheck; hc == nil || hc.RequestLine != "GET /v1/health HTTP/1.0" || hc.Port != 4001 {
		t.Errorf("node health check = %+v, want the agent's /v1/health on 4001", hc)
	}
}
