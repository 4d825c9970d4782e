package ranchersim_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestAPIStatusAndHangFaults(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	s.Faults().APIStatus(http.StatusInternalServerError, time.Hour)
	_, err := c.Container.List(nil)
	if apiErr := (*client.ApiError)(nil); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err %v, want a 500", err)
	}
	// The websocket is not affected by APIStatus.
	rec := subscribe(t, c)
	testwait.Eventually(t, 30*time.Second, "ping", func() bool { return len(rec.all()) > 0 })
	s.Faults().Clear()
	if _, err := c.Container.List(nil); err != nil {
		t.Fatal(err)
	}
	// A hang ends when the client gives up.
	s.Faults().APIHang(time.Hour)
	short, err := client.NewRancherClient(&client.ClientOpts{Url: s.SchemasURL(), AccessKey: s.AccessKey(),
		SecretKey: s.SecretKey(), Timeout: 200 * time.Millisecond})
	if err == nil {
		_, err = short.Container.List(nil)
	}
	if err == nil {
		t.Fatal("request answered during a hang")
	}
	s.Faults().Clear()
	if _, err := c.Container.List(nil); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if reqs["GET /containers"] < 3 || reqs["GET /subscribe"] != 1 {
		t.Fatalf("requests %v", reqs)
	}
}

func TestCutOffHostFailsHealthAndReplacesElsewhere(t *testing.T) {
	fx, err := ranchersim.ParseFixture([]byte(`
hosts: [{name: h1}, {name: h2}]
stacks:
  - name: demo
    services:
      - name: hello
        scale: 2
        healthCheck: {port: 4001, interval: 50, healthyThreshold: 1, unhealthyThreshold: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := ranchertest.NewServer(t, ranchersim.Options{Fixture: fx, IPRange: "127.42.0.0/16"})
	settle(t, s)
	victim := s.Containers("demo", "hello")[0]
	s.Faults().CutOffHost(victim.HostID, true)
	testwait.Eventually(t, 30*time.Second, "replacement on the other host", func() bool {
		for _, v := range s.Containers("demo", "hello") {
			if v.CreateIndex == 3 && v.State == "running" && v.HealthState == "healthy" && v.HostID != victim.HostID {
				return true
			}
		}
		return false
	})
	s.Faults().Clear()
	settle(t, s)
}
