package ranchersim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
	client "github.com/rancher/go-rancher/v2"
)

// metadataJSON GETs a metadata path as JSON.
func metadataJSON(t *testing.T, s *ranchersim.Sim, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.MetadataURL()+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func metadataText(t *testing.T, s *ranchersim.Sim, path string) string {
	t.Helper()
	resp, err := http.Get(s.MetadataURL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type metaContainer struct {
	Name        string   `json:"name"`
	PrimaryIP   string   `json:"primary_ip"`
	IPs         []string `json:"ips"`
	State       string   `json:"state"`
	HealthState string   `json:"health_state"`
	CreateIndex int64    `json:"create_index"`
	ServiceName string   `json:"service_name"`
	StackName   string   `json:"stack_name"`
	Labels      map[string]string
}

type metaService struct {
	Name       string          `json:"name"`
	StackName  string          `json:"stack_name"`
	Scale      int64           `json:"scale"`
	Containers []metaContainer `json:"containers"`
}

func createIndexes(cs []metaContainer) []int64 {
	var out []int64
	for _, c := range cs {
		if c.State == "running" && c.HealthState == "healthy" && len(c.IPs) == 1 && c.IPs[0] == c.PrimaryIP {
			out = append(out, c.CreateIndex)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestScale3To6To2OverTheAPI(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 3, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	svcs, err := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"name": "hello"}})
	if err != nil || len(svcs.Data) != 1 {
		t.Fatalf("%v %v", svcs, err)
	}
	svc := &svcs.Data[0]

	// 3 -> 6: three new containers, each through the whole start sequence.
	if svc, err = c.Service.Update(svc, map[string]interface{}{"scale": 6}); err != nil {
		t.Fatal(err)
	}
	if svc.Scale != 6 {
		t.Fatalf("PUT answered scale %d", svc.Scale)
	}
	settle(t, s)
	views := s.Containers("demo", "hello")
	if len(views) != 6 || states(views)["running/healthy"] != 6 {
		t.Fatalf("after scale 6: %v", states(views))
	}
	ips := map[string]bool{}
	for i, v := range views {
		if v.CreateIndex != int64(i+1) || v.StartCount != 1 || ips[v.IP] {
			t.Fatalf("container %d: %+v", i, v)
		}
		ips[v.IP] = true
	}
	want := "requested/ creating/ starting/ running/initializing running/updating-healthy running/healthy"
	testwait.Eventually(t, 30*time.Second, "events of the 3 new containers", func() bool {
		n := 0
		for _, tr := range containerTrail(t, rec.all()) {
			if strings.Join(tr, " ") == want {
				n++
			}
		}
		return n == 3
	})
	var svcStates []string
	for _, ev := range rec.all() {
		if ev.ResourceType == "service" {
			st := ev.service(t).State
			if len(svcStates) == 0 || svcStates[len(svcStates)-1] != st {
				svcStates = append(svcStates, st)
			}
		}
	}
	if strings.Join(svcStates, " ") != "updating-active active" {
		t.Errorf("service states %v", svcStates)
	}
	var meta metaService
	waitMetadata(t, s)
	if code := metadataJSON(t, s, "/latest/stacks/demo/services/hello", &meta); code != 200 {
		t.Fatalf("metadata %d", code)
	}
	if got := createIndexes(meta.Containers); len(got) != 6 || meta.Scale != 6 {
		t.Fatalf("metadata service: scale %d, healthy %v", meta.Scale, got)
	}

	// 6 -> 2: highest createIndex first, all at once, running -> stopping ->
	// removing -> removed (instance.stop chained with instance.remove:
	// "stopped" is never stored).
	rec.reset()
	if _, err := c.Service.Update(svc, map[string]interface{}{"scale": 2}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	views = s.Containers("demo", "hello")
	for _, v := range views {
		wantState := "removed"
		if v.CreateIndex <= 2 {
			wantState = "running"
		}
		if v.State != wantState {
			t.Errorf("container %d is %s, want %s", v.CreateIndex, v.State, wantState)
		}
	}
	testwait.Eventually(t, 30*time.Second, "removal events", func() bool {
		n := 0
		for _, tr := range containerTrail(t, rec.all()) {
			if strings.Join(tr, " ") == "stopping/healthy removing/healthy removed/healthy" {
				n++
			}
		}
		return n == 4
	})
	waitMetadata(t, s)
	if code := metadataJSON(t, s, "/latest/stacks/demo/services/hello", &meta); code != 200 {
		t.Fatalf("metadata %d", code)
	}
	if got := createIndexes(meta.Containers); len(got) != 2 || got[0] != 1 || got[1] != 2 || len(meta.Containers) != 2 {
		t.Fatalf("metadata after scale 2: %v of %d", got, len(meta.Containers))
	}
	fresh, err := c.Service.ById(svc.Id)
	if err != nil || len(fresh.InstanceIds) != 2 || fresh.Scale != 2 || fresh.State != "active" {
		t.Fatalf("service after scale 2: %+v %v", fresh, err)
	}
}
