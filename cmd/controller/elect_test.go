package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

func ctl(name string, createIndex int64, state, health string) mesh.Member {
	return mesh.Member{ContainerID: "1i" + name[len(name)-1:], Name: name, Service: "drover", State: state, HealthState: health,
		CreateIndex: createIndex, IP: "10.42.0." + name[len(name)-1:]}
}

func TestElectionPicksTheLowestCreateIndexThatRunsHealthy(t *testing.T) {
	self := selfID{Stack: "ops", Service: "drover", Name: "ops-drover-2"}
	tests := []struct {
		name       string
		self       selfID
		containers []mesh.Member
		leader     bool
		holder     string
		reason     string
	}{
		{"the lowest createIndex leads; this one stands by", self,
			[]mesh.Member{ctl("ops-drover-1", 1, "running", "healthy"), ctl("ops-drover-2", 2, "running", "healthy")},
			false, "ops-drover-1", "ops-drover-1 is the running, healthy container of ops/drover with the lowest createIndex (1)"},
		{"the leader stopped: this one takes over", self,
			[]mesh.Member{ctl("ops-drover-1", 1, "stopped", ""), ctl("ops-drover-2", 2, "running", "healthy")},
			true, "ops-drover-2", "this container is the running, healthy container of ops/drover with the lowest createIndex (2)"},
		{"the leader is unhealthy: this one takes over", self,
			[]mesh.Member{ctl("ops-drover-1", 1, "running", "unhealthy"), ctl("ops-drover-2", 2, "running", "healthy")},
			true, "ops-drover-2", "this container is"},
		{"a replacement with a higher createIndex does not preempt", self,
			[]mesh.Member{ctl("ops-drover-2", 2, "running", "healthy"), ctl("ops-drover-3", 3, "running", "healthy")},
			true, "ops-drover-2", "this container is"},
		{"this one is not healthy yet: the other leads", self,
			[]mesh.Member{ctl("ops-drover-2", 2, "running", "initializing"), ctl("ops-drover-3", 3, "running", "healthy")},
			false, "ops-drover-3", "ops-drover-3 is"},
		{"none healthy: none leads", self,
			[]mesh.Member{ctl("ops-drover-1", 1, "running", "initializing"), ctl("ops-drover-2", 2, "stopping", "healthy")},
			false, "", "no container of service ops/drover is running and healthy: none leads"},
		{"this container is not among them", self,
			[]mesh.Member{ctl("ops-drover-1", 1, "running", "healthy")},
			false, "ops-drover-1", "this controller's container ops-drover-2 is not among the containers Rancher reports for ops/drover"},
		{"found by IP when metadata gave no name", selfID{Stack: "ops", Service: "drover", IP: "10.42.0.2"},
			[]mesh.Member{ctl("ops-drover-2", 2, "running", "")},
			true, "ops-drover-2", "this container is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := elect(tt.self, mesh.Cluster{Name: selfCluster, Services: []mesh.Service{{Name: "drover", Containers: tt.containers}}})
			if e.Leader != tt.leader || e.Holder != tt.holder || !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("elect = %+v, want leader %v, holder %q, reason with %q", e, tt.leader, tt.holder, tt.reason)
			}
		})
	}
}

func TestElectorKeepsItsDecisionWithoutItsService(t *testing.T) {
	e := newElector(selfID{Stack: "ops", Service: "drover", Name: "ops-drover-1"})
	if got := e.Elect(mesh.Snapshot{}); got.Leader || !strings.Contains(got.Reason, "no snapshot") {
		t.Errorf("before any snapshot of its service: %+v", got)
	}
	own := mesh.Cluster{Name: selfCluster, Services: []mesh.Service{{Containers: []mesh.Member{ctl("ops-drover-1", 1, "running", "healthy")}}}}
	if got := e.Elect(mesh.Snapshot{Clusters: []mesh.Cluster{own}}); !got.Leader {
		t.Fatalf("with its service: %+v", got)
	}
	if got := e.Elect(mesh.Snapshot{}); !got.Leader {
		t.Errorf("a snapshot without its service changed the decision: %+v", got)
	}
}

func TestSelfComesFromRancherMetadata(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		body    string
		want    selfID
		wantErr string
	}{
		{"a service container", 200, `{"name":"drover-drover-2","primary_ip":"10.42.7.3","stack_name":"drover","service_name":"drover","create_index":2}`,
			selfID{Stack: "drover", Service: "drover", Name: "drover-drover-2", IP: "10.42.7.3"}, ""},
		{"unknown to metadata", 404, `{"code":404,"message":"Not found","type":"error"}`, selfID{},
			"rancher-metadata does not know a container with this controller's IP"},
		{"a standalone container", 200, `{"name":"x","primary_ip":"10.42.7.3"}`, selfID{}, "names no stack, service and container"},
		{"not JSON", 200, `<html>`, selfID{}, "decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/latest/self/container" || r.Header.Get("Accept") != "application/json" {
					http.Error(w, "wrong request "+r.URL.Path, http.StatusBadRequest)
					return
				}
				w.WriteHeader(tt.code)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			got, err := discoverSelf(context.Background(), &http.Client{Timeout: 5 * time.Second}, srv.URL+"/latest/")
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || got != tt.want):
				t.Errorf("discoverSelf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSelfContainerFlagIsChecked(t *testing.T) {
	for _, v := range []string{"a/b", "a//c", "a/b/c/d"} {
		if _, err := parseOptions([]string{"--self-container", v}, env(nil), nil); err == nil || !strings.Contains(err.Error(), "STACK/SERVICE/CONTAINER") {
			t.Errorf("--self-container %q: %v", v, err)
		}
	}
	if _, err := parseOptions([]string{"--leader-election", "zookeeper"}, env(nil), nil); err == nil || !strings.Contains(err.Error(), "must be off or rancher") {
		t.Errorf("--leader-election zookeeper: %v", err)
	}
}
