package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestGoRuntime runs the demo fixture with in-process Go agents: every
// container's agent answers the health check (the containers turn
// healthy) and its status, with the token from DROVER_NODE_TOKEN, under
// the node name of --node-name.
func TestGoRuntime(t *testing.T) {
	t.Setenv("DROVER_NODE_TOKEN", "go-runtime-token")
	// 127.45.0.0/16: this test's own loopback range (other packages' agents
	// use 127.42-44 and listen on the same port).
	s := startSim(t, "--runtime", "go", "--ip-range", "127.45.0.0/16", "--node-name", "hello@{{primaryIP}}")
	s.settle(t)
	var views []struct {
		IP, State, HealthState string
	}
	if err := json.Unmarshal(s.control(t, http.MethodGet, "containers?stack=demo&service=hello", nil), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) != 3 {
		t.Fatalf("%d containers, want 3: %+v", len(views), views)
	}
	for _, v := range views {
		if v.State != "running" || v.HealthState != "healthy" {
			t.Errorf("container %s is %s/%s, want running/healthy", v.IP, v.State, v.HealthState)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+v.IP+":4001/v1/status", nil)
		req.Header.Set("Authorization", "Bearer go-runtime-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Node string }
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || st.Node != "hello@"+v.IP {
			t.Errorf("status of %s: %d %+v %v, want 200 and node hello@%s", v.IP, resp.StatusCode, st, err, v.IP)
		}
	}
}

func TestGoRuntimeNeedsToken(t *testing.T) {
	t.Setenv("DROVER_NODE_TOKEN", "")
	o, err := parseFlags([]string{"--runtime", "go"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := simOptions(o, nil); err == nil {
		t.Error("--runtime go without DROVER_NODE_TOKEN: no error")
	}
}
