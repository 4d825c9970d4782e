package ranchersim_test

import (
	"strings"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func helloService(t *testing.T, c *client.RancherClient) *client.Service {
	t.Helper()
	svcs, err := c.Service.List(&client.ListOpts{Filters: map[string]interface{}{"name": "hello"}})
	if err != nil || len(svcs.Data) != 1 {
		t.Fatalf("%v %v", svcs, err)
	}
	return &svcs.Data[0]
}

func TestUpgradeStartFirstFinishUpgradeOverTheAPI(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 3, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	svc := helloService(t, c)
	before := s.Containers("demo", "hello")
	got, err := c.Service.ActionUpgrade(svc, &client.ServiceUpgrade{InServiceStrategy: &client.InServiceUpgradeStrategy{
		BatchSize: 2, IntervalMillis: 10, StartFirst: true,
		LaunchConfig: &client.LaunchConfig{Labels: map[string]interface{}{"app": "hello", "v": "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "upgrading" || got.Id != svc.Id {
		t.Fatalf("upgrade answered %+v", got)
	}
	settle(t, s)
	svc, _ = c.Service.ById(svc.Id)
	if svc.State != "upgraded" || svc.Actions["finishupgrade"] == "" {
		t.Fatalf("after upgrade: state %s actions %v", svc.State, svc.Actions)
	}
	all := s.Containers("demo", "hello")
	if len(all) != 6 || len(svc.InstanceIds) != 6 {
		t.Fatalf("containers %d, instanceIds %d; want 6 and 6", len(all), len(svc.InstanceIds))
	}
	for i, v := range all {
		if i < 3 && (v.ID != before[i].ID || v.State != "stopped") {
			t.Errorf("old %d: %+v", i, v)
		}
		if i >= 3 && (v.State != "running" || v.HealthState != "healthy" || v.Name != before[i-3].Name) {
			t.Errorf("new %d: %+v", i, v)
		}
	}
	newest, _ := c.Container.ById(all[5].ID)
	if newest.Labels["v"] != "2" {
		t.Errorf("new launch config labels not applied: %v", newest.Labels)
	}
	if _, err := c.Service.ActionFinishupgrade(svc); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	all = s.Containers("demo", "hello")
	for i, v := range all {
		if (i < 3 && v.State != "removed") || (i >= 3 && v.State != "running") {
			t.Errorf("after finish %d: %+v", i, v)
		}
	}
	if svc, _ = c.Service.ById(svc.Id); svc.State != "active" || len(svc.InstanceIds) != 3 {
		t.Fatalf("after finish: %s %v", svc.State, svc.InstanceIds)
	}
}

func TestUpgradeRollback(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 2, nil)
	before := s.Containers("demo", "hello")
	if err := s.Upgrade("demo", "hello", 1, false, 0); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if err := s.Rollback("demo", "hello"); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	for _, v := range s.Containers("demo", "hello") {
		old := v.ID == before[0].ID || v.ID == before[1].ID
		if old && (v.State != "running" || v.StartCount != 2) {
			t.Errorf("old container after rollback: %+v", v)
		}
		if !old && v.State != "removed" {
			t.Errorf("new container after rollback: %+v", v)
		}
	}
}

func TestRollingRestartKeepsIDs(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 3, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	before := s.Containers("demo", "hello")
	if _, err := c.Service.ActionRestart(helloService(t, c), &client.ServiceRestart{
		RollingRestartStrategy: client.RollingRestartStrategy{BatchSize: 1, IntervalMillis: 10}}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	after := s.Containers("demo", "hello")
	if len(after) != 3 {
		t.Fatalf("%d containers", len(after))
	}
	for i := range after {
		if after[i].ID != before[i].ID || after[i].StartCount != 2 || after[i].IP != before[i].IP ||
			after[i].State != "running" || after[i].HealthState != "healthy" {
			t.Errorf("%+v after restart of %+v", after[i], before[i])
		}
	}
}

func TestContainerActions(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	list, _ := c.Container.List(nil)
	ct := &list.Data[0]
	inst, err := c.Container.ActionRestart(ct)
	if err != nil || inst.Id != ct.Id {
		t.Fatalf("restart: %+v %v", inst, err)
	}
	settle(t, s)
	if v := s.Containers("demo", "hello")[0]; v.StartCount != 2 || v.State != "running" {
		t.Fatalf("after restart %+v", v)
	}
	// A stopped service container is started again by the service.
	ct, _ = c.Container.ById(ct.Id)
	if _, err := c.Container.ActionStop(ct, &client.InstanceStop{Timeout: 1}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if v := s.Containers("demo", "hello")[0]; v.StartCount != 3 || v.State != "running" {
		t.Fatalf("after stop %+v", v)
	}
	// A running container offers no remove (instance.remove does not
	// start from running); DELETE stops and removes it, and the service
	// creates a replacement.
	ct, _ = c.Container.ById(ct.Id)
	if ct.Actions["remove"] != "" {
		t.Fatalf("running container offers remove: %v", ct.Actions)
	}
	if err := c.Container.Delete(ct); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	vs := s.Containers("demo", "hello")
	if len(vs) != 2 || vs[0].State != "removed" || vs[1].State != "running" || vs[1].CreateIndex != 2 {
		t.Fatalf("after remove %+v", vs)
	}
	// An action that is not available in the state is refused.
	ct, _ = c.Container.ById(vs[1].ID)
	ct.Actions["start"] = ct.Links["self"] + "/?action=start"
	if _, err := c.Container.ActionStart(ct); err == nil {
		t.Fatal("start of a running container accepted")
	}
}

func TestKilledContainerRestartsWithSameID(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 2, fastHealth())
	v := s.Containers("demo", "hello")[0]
	if err := s.KillContainer(v.ID); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	after := s.Containers("demo", "hello")
	if len(after) != 2 || after[0].ID != v.ID || after[0].StartCount != 2 || after[0].State != "running" ||
		after[0].HealthState != "healthy" || after[0].IP != v.IP {
		t.Fatalf("after kill: %+v", after)
	}
}

func TestFailingHealthCheckRecreates(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 2, fastHealth())
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	v := s.Containers("demo", "hello")[0]
	if err := s.FailHealth(v.ID, true); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "replacement", func() bool {
		vs := s.Containers("demo", "hello")
		return len(vs) == 3 && vs[0].State == "removed" && vs[2].State == "running" && vs[2].HealthState == "healthy"
	})
	settle(t, s)
	want := "running/updating-unhealthy running/unhealthy stopping/unhealthy removing/unhealthy removed/unhealthy"
	testwait.Eventually(t, 30*time.Second, "unhealthy trail", func() bool {
		tr := containerTrail(t, rec.all())[v.ID]
		got := ""
		for i, x := range tr {
			if i > 0 {
				got += " "
			}
			got += x
		}
		return got == want
	})
}

func TestHealthStrategyNoneKeepsUnhealthy(t *testing.T) {
	hc := fastHealth()
	hc.Strategy = "none"
	s := demo(t, ranchersim.Options{}, 1, hc)
	v := s.Containers("demo", "hello")[0]
	if err := s.FailHealth(v.ID, true); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "unhealthy", func() bool {
		return s.Containers("demo", "hello")[0].HealthState == "unhealthy"
	})
	if err := s.FailHealth(v.ID, false); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "healthy again", func() bool {
		return s.Containers("demo", "hello")[0].HealthState == "healthy"
	})
	if n := len(s.Containers("demo", "hello")); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
}

func TestIPsAreNeverReusedWhileInUse(t *testing.T) {
	s := demo(t, ranchersim.Options{IPRange: "127.42.7.0/24"}, 250, nil)
	seen := map[string]bool{}
	for _, v := range s.Containers("demo", "hello") {
		last := v.IP[len("127.42.7."):]
		if seen[v.IP] || last == "0" || last == "1" || last == "255" {
			t.Fatalf("bad or repeated ip %s", v.IP)
		}
		seen[v.IP] = true
	}
	if err := s.Scale("demo", "hello", 254); err != nil {
		t.Fatal(err)
	}
	// The range holds 253: the service says why it cannot reach its scale.
	c := newClient(t, s, s.SchemasURL())
	testwait.Eventually(t, 30*time.Second, "the service's error", func() bool {
		svc := helloService(t, c)
		return svc.Transitioning == "error" && strings.Contains(svc.TransitioningMessage, "no free IP address in 127.42.7.0/24")
	})
	if n := len(s.Containers("demo", "hello")); n > 253 {
		t.Fatalf("%d containers in a /24 with 253 usable addresses", n)
	}
}

func TestChainedTransitionsAreNeverStoredHalfway(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 0, nil)
	c, rec := watch(t, s)
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	views := s.Containers("demo", "hello")
	trail := func(id string) string { return strings.Join(containerTrail(t, rec.all())[id], " ") }
	for _, v := range views {
		testwait.Eventually(t, settleTimeout, "create+start trail", func() bool {
			return trail(v.ID) == "requested/ creating/ starting/ running/"
		})
	}
	// Removing a running container: no "stopped" on the way.
	rec.reset()
	if err := s.Scale("demo", "hello", 1); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	testwait.Eventually(t, settleTimeout, "removal trail", func() bool {
		return trail(views[1].ID) == "stopping/ removing/ removed/"
	})
	// Removing a stopped one: stopped -> removing -> removed.
	svc := helloService(t, c)
	if _, err := c.Service.ActionDeactivate(svc); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	rec.reset()
	ct, _ := c.Container.ById(views[0].ID)
	if ct.State != "stopped" {
		t.Fatalf("container %s after deactivate", ct.State)
	}
	if _, err := c.Container.ActionRemove(ct); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	// (A late "stopped/" of the deactivation may still arrive first.)
	testwait.Eventually(t, settleTimeout, "removal of a stopped container", func() bool {
		tr := strings.TrimPrefix(trail(ct.Id), "stopped/ ")
		return tr == "removing/ removed/"
	})
}

func TestScaleDownRemovesTheHighestUnitsAllAtOnce(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 5, nil)
	_, rec := watch(t, s)
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	// Events reach the watcher after the simulator settles: wait for the
	// three removals before reading the order.
	testwait.Eventually(t, settleTimeout, "three removed events", func() bool {
		n := 0
		for _, ev := range rec.all() {
			if ev.ResourceType == "container" && ev.container(t).State == "removed" {
				n++
			}
		}
		return n == 3
	})
	views := s.Containers("demo", "hello")
	firstRemoved, lastStopping := -1, -1
	for i, ev := range rec.all() {
		if ev.ResourceType != "container" {
			continue
		}
		switch ct := ev.container(t); ct.State {
		case "stopping":
			lastStopping = i
			if ct.CreateIndex <= 2 {
				t.Errorf("container %d of the kept units stopped", ct.CreateIndex)
			}
		case "removed":
			if firstRemoved < 0 {
				firstRemoved = i
			}
		}
	}
	if firstRemoved < 0 || lastStopping > firstRemoved {
		t.Errorf("units removed one by one: last stopping at %d, first removed at %d", lastStopping, firstRemoved)
	}
	for _, v := range views {
		if (v.CreateIndex <= 2) != (v.State == "running") {
			t.Errorf("unit %d is %s", v.CreateIndex, v.State)
		}
	}
}

func TestRemovedObjectsAreReadableUntilPurged(t *testing.T) {
	s := demo(t, ranchersim.Options{RemoveDelay: 300 * time.Millisecond, PurgeInterval: 20 * time.Millisecond}, 2, nil)
	c := newClient(t, s, s.SchemasURL())
	top := s.Containers("demo", "hello")[1]
	if err := s.Scale("demo", "hello", 1); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	got, err := c.Container.ById(top.ID)
	if err != nil || got == nil || got.State != "removed" || got.RemoveTime == "" {
		t.Fatalf("removed container by id: %+v %v", got, err)
	}
	testwait.Eventually(t, settleTimeout, "the purge", func() bool {
		got, err := c.Container.ById(top.ID)
		return err == nil && got == nil
	})
	if n := len(s.Containers("demo", "hello")); n != 1 {
		t.Errorf("%d containers after the purge, want 1", n)
	}
}

func TestRestartOfAHealthyContainerReinitializes(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact}, 1, fastHealth())
	c, rec := watch(t, s)
	ct, _ := c.Container.ById(s.Containers("demo", "hello")[0].ID)
	if ct.HealthState != "healthy" {
		t.Fatalf("health %s before the restart", ct.HealthState)
	}
	if _, err := c.Container.ActionRestart(ct); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	want := "restarting/healthy stopping/healthy starting/healthy starting/updating-reinitializing " +
		"running/reinitializing running/updating-healthy running/healthy"
	testwait.Eventually(t, settleTimeout, "restart trail", func() bool {
		return strings.Join(containerTrail(t, rec.all())[ct.Id], " ") == want
	})
}

func TestStuckInitializingIsRemovedWithoutTurningUnhealthy(t *testing.T) {
	hc := fastHealth()
	hc.InitializingTimeout = 300
	s := ranchertest.NewServer(t, ranchersim.Options{EventMode: ranchersim.EventsExact, IPRange: "127.42.0.0/16"})
	c := newClient(t, s, s.SchemasURL())
	rec := subscribe(t, c)
	if _, err := s.CreateStack("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "hello", Scale: 1, HealthCheck: hc}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	// The service was not started on create: start it with every probe failing.
	testwait.Eventually(t, settleTimeout, "inactive", func() bool { return helloService(t, c).State == "inactive" })
	if _, err := c.Service.ActionActivate(helloService(t, c)); err != nil {
		t.Fatal(err)
	}
	var first string
	testwait.Eventually(t, settleTimeout, "first container", func() bool {
		vs := s.Containers("demo", "hello")
		if len(vs) > 0 {
			first = vs[0].ID
			_ = s.FailHealth(first, true)
		}
		return len(vs) > 0
	})
	testwait.Eventually(t, settleTimeout, "its removal", func() bool {
		tr := containerTrail(t, rec.all())[first]
		return len(tr) > 0 && tr[len(tr)-1] == "removed/initializing"
	})
	for _, step := range containerTrail(t, rec.all())[first] {
		if strings.HasSuffix(step, "unhealthy") {
			t.Fatalf("a container that never became healthy went %s", step)
		}
	}
	testwait.Eventually(t, settleTimeout, "a replacement", func() bool { return len(s.Containers("demo", "hello")) >= 2 })
}
