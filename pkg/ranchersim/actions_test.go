package ranchersim_test

import (
	"strings"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestAdvertisedActionsFollowTheContainerState(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	id := s.Containers("demo", "hello")[0].ID
	_, running := call(t, s, "GET", "/containers/"+id, nil)
	if got := actionNames(running); got != "console execute logs migrate proxy restart stop update" {
		t.Errorf("running container offers %q", got)
	}
	if status, body := call(t, s, "POST", "/containers/"+id+"/?action=stop", map[string]any{"timeout": 1}); status != 202 {
		t.Fatalf("stop: %d %v", status, body)
	}
	// The active service starts it again; to see it stopped, deactivate
	// the service.
	testwait.Eventually(t, settleTimeout, "running again", func() bool {
		_, c := call(t, s, "GET", "/containers/"+id, nil)
		return c["state"] == "running"
	})
	svcID := s.Containers("demo", "hello")[0].ServiceID
	if status, body := call(t, s, "POST", "/services/"+svcID+"/?action=deactivate", nil); status != 202 {
		t.Fatalf("deactivate: %d %v", status, body)
	}
	settle(t, s)
	_, stopped := call(t, s, "GET", "/containers/"+id, nil)
	if stopped["state"] != "stopped" || actionNames(stopped) != "logs remove start update" {
		t.Errorf("stopped container: %s offers %q", stopped["state"], actionNames(stopped))
	}
	if status, body := call(t, s, "POST", "/containers/"+id+"/?action=remove", nil); status != 202 {
		t.Fatalf("remove: %d %v", status, body)
	}
	settle(t, s)
	_, removed := call(t, s, "GET", "/containers/"+id, nil)
	if removed["state"] != "removed" || actionNames(removed) != "purge restore" {
		t.Errorf("removed container: %s offers %q", removed["state"], actionNames(removed))
	}
	_, svc := call(t, s, "GET", "/services/"+svcID, nil)
	if got := actionNames(svc); got != "activate addservicelink remove removeservicelink setservicelinks update upgrade" {
		t.Errorf("inactive service offers %q", got)
	}
}

func TestActionInAStateItCannotStartFromIsConflict(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	v := s.Containers("demo", "hello")[0]
	status, body := call(t, s, "POST", "/containers/"+v.ID+"/?action=start", nil)
	wantError(t, "start a running container", status, body, 409, "Conflict", "State [running] is not valid for process [instance.start]")
	status, body = call(t, s, "POST", "/services/"+v.ServiceID+"/?action=finishupgrade", nil)
	wantError(t, "finish an active service", status, body, 409, "Conflict", "[service.finishupgrade]")
	status, body = call(t, s, "POST", "/containers/"+v.ID+"/?action=frobnicate", nil)
	wantError(t, "unknown action", status, body, 404, "NotFound", "frobnicate")
	status, body = call(t, s, "POST", "/containers/1i999/?action=stop", nil)
	wantError(t, "unknown container", status, body, 404, "NotFound", "1i999")
}

func TestActionsNotSimulatedSayWhat(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	v := s.Containers("demo", "hello")[0]
	for _, a := range []string{"execute", "logs", "proxy", "console"} {
		status, body := call(t, s, "POST", "/containers/"+v.ID+"/?action="+a, map[string]any{})
		wantError(t, a, status, body, 422, "NotSupported", "the container action "+a)
	}
	status, body := call(t, s, "POST", "/hosts/"+v.HostID+"/?action=dockersocket", nil)
	wantError(t, "dockersocket", status, body, 422, "NotSupported", "dockersocket")
	status, body = call(t, s, "POST", "/services/"+v.ServiceID+"/?action=upgrade",
		map[string]any{"toServiceStrategy": map[string]any{"toServiceId": "1s99"}})
	wantError(t, "toServiceStrategy", status, body, 422, "NotSupported", "toServiceStrategy")
}

// serviceState polls a service until it reaches state.
func waitServiceState(t *testing.T, c *client.RancherClient, id, state string) *client.Service {
	t.Helper()
	var svc *client.Service
	testwait.Eventually(t, settleTimeout, "service "+id+" "+state, func() bool {
		var err error
		svc, err = c.Service.ById(id)
		return err == nil && svc != nil && svc.State == state
	})
	return svc
}

func TestEveryServiceActionRuns(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 2, nil)
	c := newClient(t, s, s.SchemasURL())
	svc := helloService(t, c)

	if _, err := c.Service.ActionDeactivate(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "inactive")
	settle(t, s)
	if st := states(s.Containers("demo", "hello")); st["stopped/"] != 2 {
		t.Fatalf("after deactivate: %v", st)
	}
	if _, err := c.Service.ActionActivate(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "active")
	settle(t, s)

	// An upgrade that keeps the image asked for; cancel it mid-way,
	// continue it, roll it back.
	up := &client.ServiceUpgrade{InServiceStrategy: &client.InServiceUpgradeStrategy{BatchSize: 1, IntervalMillis: 1000,
		LaunchConfig: &client.LaunchConfig{ImageUuid: "docker:nginx:1.13"}}}
	if svc, err := c.Service.ActionUpgrade(svc, up); err != nil || svc.State != "upgrading" {
		t.Fatalf("upgrade: %+v %v", svc, err)
	}
	testwait.Eventually(t, settleTimeout, "first batch", func() bool {
		for _, v := range s.Containers("demo", "hello") {
			if v.State == "running" && v.CreateIndex > 2 {
				return true
			}
		}
		return false
	})
	svc, _ = c.Service.ById(svc.Id)
	if _, err := c.Service.ActionCancelupgrade(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "canceled-upgrade")
	if svc.Actions["continueupgrade"] == "" || svc.Actions["rollback"] == "" {
		t.Fatalf("canceled upgrade offers %v", svc.Actions)
	}
	if _, err := c.Service.ActionContinueupgrade(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "upgraded")
	if svc.LaunchConfig.ImageUuid != "docker:nginx:1.13" {
		t.Fatalf("launch config image %q", svc.LaunchConfig.ImageUuid)
	}
	for _, id := range svc.InstanceIds {
		ct, _ := c.Container.ById(id)
		if (ct.State == "running") != (ct.ImageUuid == "docker:nginx:1.13") {
			t.Errorf("container %s is %s with %s", ct.Id, ct.State, ct.ImageUuid)
		}
	}
	if _, err := c.Service.ActionRollback(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "active")
	settle(t, s)
	if svc.LaunchConfig.ImageUuid != ranchersim.DefaultImage {
		t.Fatalf("image after rollback %q", svc.LaunchConfig.ImageUuid)
	}

	// Upgrade, then finish it.
	up.InServiceStrategy.IntervalMillis = 0
	if _, err := c.Service.ActionUpgrade(svc, up); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "upgraded")
	if _, err := c.Service.ActionFinishupgrade(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "active")
	settle(t, s)
	running := 0
	for _, v := range s.Containers("demo", "hello") {
		if v.State == "running" {
			running++
		}
	}
	if running != 2 {
		t.Fatalf("%d running after finishupgrade", running)
	}

	// Restart, update (scale), links, remove.
	if _, err := c.Service.ActionRestart(svc, &client.ServiceRestart{RollingRestartStrategy: client.RollingRestartStrategy{BatchSize: 1}}); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "active")
	if _, err := c.Service.ActionUpdate(svc); err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateService("demo", ranchersim.ServiceSpec{Name: "db", Scale: 0, StartOnCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	link := &client.AddRemoveServiceLinkInput{ServiceLink: client.ServiceLink{ServiceId: other, Name: "database"}}
	if svc, err = c.Service.ActionAddservicelink(svc, link); err != nil {
		t.Fatal(err)
	}
	svc, _ = c.Service.ById(svc.Id)
	if svc.LinkedServices["database"] != other {
		t.Fatalf("linkedServices %v", svc.LinkedServices)
	}
	if _, err := c.Service.ActionSetservicelinks(svc, &client.SetServiceLinksInput{}); err != nil {
		t.Fatal(err)
	}
	if svc, _ = c.Service.ById(svc.Id); len(svc.LinkedServices) != 0 {
		t.Fatalf("linkedServices after set [] %v", svc.LinkedServices)
	}
	if _, err := c.Service.ActionRemove(svc); err != nil {
		t.Fatal(err)
	}
	waitServiceState(t, c, svc.Id, "removed")
	settle(t, s)
	for _, v := range s.Containers("demo", "hello") {
		if v.State != "removed" {
			t.Errorf("container %s is %s after the service's removal", v.ID, v.State)
		}
	}
}

func TestStackActionsRun(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	stacks, _ := c.Stack.List(&client.ListOpts{Filters: map[string]interface{}{"name": "demo"}})
	st := &stacks.Data[0]
	if got := actionNames(map[string]any{"actions": anyMap(st.Actions)}); got !=
		"activateservices addoutputs deactivateservices exportconfig remove update upgrade" {
		t.Errorf("active stack offers %q", got)
	}
	if _, err := c.Stack.ActionDeactivateservices(st); err != nil {
		t.Fatal(err)
	}
	waitServiceState(t, c, helloService(t, c).Id, "inactive")
	if _, err := c.Stack.ActionActivateservices(st); err != nil {
		t.Fatal(err)
	}
	waitServiceState(t, c, helloService(t, c).Id, "active")
	if _, err := c.Stack.ActionAddoutputs(st, &client.AddOutputsInput{Outputs: map[string]interface{}{"url": "http://x"}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Stack.ActionExportconfig(st, &client.ComposeConfigInput{})
	if err != nil || !strings.Contains(cfg.DockerComposeConfig, "image: drover/sim:latest") ||
		!strings.Contains(cfg.RancherComposeConfig, "scale: 1") {
		t.Fatalf("exportconfig %+v %v", cfg, err)
	}
	if st, err = c.Stack.Update(st, map[string]interface{}{"description": "the demo"}); err != nil || st.Description != "the demo" {
		t.Fatalf("update %+v %v", st, err)
	}
	if st.Outputs["url"] != "http://x" {
		t.Errorf("outputs %v", st.Outputs)
	}
	if _, err := c.Stack.ActionRemove(st); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, settleTimeout, "stack removed", func() bool {
		got, err := c.Stack.ById(st.Id)
		return err == nil && got != nil && got.State == "removed"
	})
	for _, v := range s.Containers("demo", "hello") {
		if v.State != "removed" {
			t.Errorf("container %s is %s after the stack's removal", v.ID, v.State)
		}
	}
}

func anyMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestHostActionsRun(t *testing.T) {
	fx := &ranchersim.Fixture{Hosts: []ranchersim.FixtureHost{{Name: "h1"}, {Name: "h2"}}}
	s := demo(t, ranchersim.Options{Fixture: fx}, 2, nil)
	c := newClient(t, s, s.SchemasURL())
	hosts, _ := c.Host.List(nil)
	if len(hosts.Data) != 2 {
		t.Fatalf("%d hosts", len(hosts.Data))
	}
	h1 := &hosts.Data[0]
	if _, err := c.Host.ActionRemove(h1); err == nil {
		t.Fatal("an active host offered remove")
	}
	if _, err := c.Host.ActionEvacuate(h1); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	for _, v := range s.Containers("demo", "hello") {
		if v.State == "running" && v.HostID == h1.Id {
			t.Errorf("container %s still runs on the evacuated host", v.ID)
		}
	}
	if running := states(s.Containers("demo", "hello"))["running/"]; running != 2 {
		t.Errorf("%d running after evacuate, want 2", running)
	}
	h1, _ = c.Host.ById(h1.Id)
	if h1.State != "inactive" || h1.Actions["activate"] == "" || h1.Actions["remove"] == "" {
		t.Fatalf("evacuated host %s offers %v", h1.State, h1.Actions)
	}
	if _, err := c.Host.ActionActivate(h1); err != nil {
		t.Fatal(err)
	}
	if h1, _ = c.Host.ById(h1.Id); h1.State != "active" {
		t.Fatalf("host %s after activate", h1.State)
	}
	if _, err := c.Host.ActionDeactivate(h1); err != nil {
		t.Fatal(err)
	}
	h1, _ = c.Host.ById(h1.Id)
	if _, err := c.Host.ActionRemove(h1); err != nil {
		t.Fatal(err)
	}
	if h1, _ = c.Host.ById(h1.Id); h1.State != "removed" || h1.Actions["purge"] == "" {
		t.Fatalf("removed host %s offers %v", h1.State, h1.Actions)
	}
	if list, _ := c.Host.List(nil); len(list.Data) != 1 {
		t.Fatalf("%d hosts listed after a removal", len(list.Data))
	}
}

func TestContainerRestartStopRemoveAndPurgeTrails(t *testing.T) {
	s := demo(t, ranchersim.Options{EventMode: ranchersim.EventsExact, RemoveDelay: time.Hour}, 1, nil)
	c, rec := watch(t, s)
	list, _ := c.Container.List(nil)
	ct := &list.Data[0]
	if _, err := c.Container.ActionRestart(ct); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	want := "running/ restarting/ stopping/ starting/ running/"
	testwait.Eventually(t, settleTimeout, "restart trail", func() bool {
		return "running/ "+strings.Join(containerTrail(t, rec.all())[ct.Id], " ") == want
	})
	rec.reset()
	ct, _ = c.Container.ById(ct.Id)
	if _, err := c.Container.ActionStop(ct, &client.InstanceStop{Remove: true, Timeout: 1}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	// (A late "running/" of the restart may still arrive first.)
	testwait.Eventually(t, settleTimeout, "stop with remove trail", func() bool {
		tr := strings.TrimPrefix(strings.Join(containerTrail(t, rec.all())[ct.Id], " "), "running/ ")
		return tr == "stopping/ removing/ removed/"
	})
	ct, _ = c.Container.ById(ct.Id)
	if ct == nil || ct.State != "removed" || ct.RemoveTime == "" {
		t.Fatalf("removed container %+v", ct)
	}
	if _, err := c.Container.ActionPurge(ct); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, settleTimeout, "purged", func() bool {
		got, err := c.Container.ById(ct.Id)
		return err == nil && got == nil
	})
}

func TestUpgradeOfAnInactiveServiceOnlyTakesTheLaunchConfig(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, nil)
	c := newClient(t, s, s.SchemasURL())
	svc := helloService(t, c)
	if _, err := c.Service.ActionDeactivate(svc); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "inactive")
	if _, err := c.Service.ActionUpgrade(svc, &client.ServiceUpgrade{InServiceStrategy: &client.InServiceUpgradeStrategy{
		LaunchConfig: &client.LaunchConfig{ImageUuid: "docker:nginx:1.13"}}}); err != nil {
		t.Fatal(err)
	}
	svc = waitServiceState(t, c, svc.Id, "upgraded")
	settle(t, s)
	if n := len(s.Containers("demo", "hello")); n != 1 || svc.LaunchConfig.ImageUuid != "docker:nginx:1.13" {
		t.Fatalf("%d containers, image %s", n, svc.LaunchConfig.ImageUuid)
	}
}
