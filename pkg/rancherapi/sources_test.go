package rancherapi

import (
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"
)

// Modifiers of the ctr fixture (serviceIds 1s1, label demo/web, no stackId).
var (
	noSvcIDs = func(c *client.Container) { c.ServiceIds = nil }
	noLabels = func(c *client.Container) { c.Labels = nil }
	svcIDs   = func(ids ...string) func(*client.Container) { return func(c *client.Container) { c.ServiceIds = ids } }
	svcID    = func(id string) func(*client.Container) { return func(c *client.Container) { c.ServiceId = id } }
	label    = func(v string) func(*client.Container) {
		return func(c *client.Container) { c.Labels[labelStackService] = v }
	}
	launchConf = func(v string) func(*client.Container) {
		return func(c *client.Container) { c.Labels[labelLaunchConfig] = v }
	}
	inStackID = func(id string) func(*client.Container) { return func(c *client.Container) { c.StackId = id } }
)

func TestBelongs(t *testing.T) {
	tests := []struct {
		name string
		ct   client.Container
		svc  client.Service
		want bool
	}{
		{"serviceIds and label agree", ctr("1i1", "running", 1), webService(), true},
		{"stopped container still belongs (state decided later)", ctr("1i1", "stopped", 1), webService(), true},
		{"removed container is out", ctr("1i1", "removed", 1), webService("1i1"), false},
		{"removed timestamp is out whatever the state", ctr("1i1", "stopped", 1, func(c *client.Container) { c.Removed = "2024-01-01T00:00:00Z" }), webService(), false},
		{"purged is out", ctr("1i1", "purged", 1), webService(), false},
		{"removing is still reported", ctr("1i1", "removing", 1), webService(), true},
		{"sidekick label is out even with serviceIds", ctr("1i1", "running", 1, label("demo/web/sidecar")), webService("1i1"), false},
		{"sidekick launch config is out even with a primary-looking label", ctr("1i1", "running", 1, launchConf("sidecar")), webService("1i1"), false},
		{"primary launch config label is in", ctr("1i1", "running", 1, launchConf(primaryLaunchConfig)), webService("1i1"), true},
		{"ids win over another service's label (renamed service, or a selector)", ctr("1i1", "running", 1, label("demo/old-name")), webService("1i1"), true},
		{"label in other case matches", ctr("1i1", "running", 1, label("Demo/Web")), webService(), true},
		{"only instanceIds, no serviceIds, no label", ctr("1i1", "running", 1, noSvcIDs, noLabels), webService("1i1"), true},
		{"only serviceIds", ctr("1i1", "running", 1, noLabels), webService(), true},
		{"only the serviceId column", ctr("1i1", "running", 1, noLabels, noSvcIDs, svcID("1s1")), webService(), true},
		{"only the label", ctr("1i1", "running", 1, noSvcIDs), webService(), true},
		{"label, and older instanceIds that do not name it yet", ctr("1i1", "running", 1, noSvcIDs), webService("1i2"), true},
		{"no evidence at all (a filter that was ignored)", ctr("1i1", "running", 1, noSvcIDs, noLabels), webService(), false},
		{"serviceIds of another service and no label", ctr("1i1", "running", 1, noLabels, svcIDs("1s9")), webService(), false},
		{"serviceIds of another service with matching label", ctr("1i1", "running", 1, svcIDs("1s9")), webService(), false},
		{"stackId of another stack", ctr("1i1", "running", 1, inStackID("1st9")), webService("1i1"), false},
		{"stackId of its stack", ctr("1i1", "running", 1, inStackID("1st1")), webService("1i1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := belongs(tt.ct, tt.svc, "demo"); got != tt.want {
				t.Fatalf("belongs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerdictConflicts(t *testing.T) {
	claimed := func(string) []string { return []string{"1s2"} }
	tests := []struct {
		name         string
		ct           client.Container
		svc          client.Service
		claimedBy    func(string) []string
		member       bool
		conflictWith string // "" = no conflict
	}{
		{"every source agrees", ctr("1i1", "running", 1, inStackID("1st1")), webService("1i1"), nil, true, ""},
		{"serviceIds name it, instanceIds do not", ctr("1i1", "running", 1), webService("1i2"), nil, true, "instanceIds and serviceIds disagree"},
		{"instanceIds name it, serviceIds name another", ctr("1i1", "running", 1, svcIDs("1s9")), webService("1i1"), nil, false, "instanceIds and serviceIds disagree"},
		{"ids name it, stackId names another stack", ctr("1i1", "running", 1, inStackID("1st9")), webService("1i1"), nil, false, "stackId names another stack"},
		{"labelled, missing from instanceIds (no serviceIds)", ctr("1i1", "running", 1, noSvcIDs), webService("1i2"), nil, false, "missing from its instanceIds"},
		{"labelled, missing from both ids", ctr("1i1", "running", 1, svcIDs("1s9")), webService("1i2"), nil, false, "missing from its instanceIds+serviceIds"},
		{"labelled, missing from instanceIds, claimed by another service (rename)", ctr("1i1", "running", 1, noSvcIDs), webService("1i2"), claimed, false, ""},
		{"labelled, stackId of another stack (a renamed stack's old name)", ctr("1i1", "running", 1, noSvcIDs, inStackID("1st9")), webService("1i2"), nil, false, ""},
		{"sidekick missing from instanceIds is no conflict", ctr("1i1", "running", 1, noSvcIDs, label("demo/web/side")), webService("1i2"), nil, false, ""},
		{"removed container is never a conflict", ctr("1i1", "removed", 1), webService("1i2"), nil, false, ""},
		{"a removing container Cattle already dropped from its ids is no conflict", ctr("1i1", "removing", 1, svcIDs("1s9")), webService("1i2"), nil, false, ""},
		{"a stopping container whose ids disagree is no conflict", ctr("1i1", "stopping", 1), webService("1i2"), nil, true, ""},
		{"a starting container missing from instanceIds conflicts", ctr("1i1", "starting", 1, noSvcIDs), webService("1i2"), nil, false, "missing from its instanceIds"},
		{"label only, no id source rendered", ctr("1i1", "running", 1, noSvcIDs), webService(), nil, true, ""},
		{"another service's container, all sources agree it is not ours", ctr("1i1", "running", 1, svcIDs("1s9"), label("demo/db")), webService("1i2"), nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := gather(tt.ct, tt.svc, "demo", tt.claimedBy).verdict()
			if v.member != tt.member {
				t.Errorf("member = %v (%s), want %v", v.member, v.why, tt.member)
			}
			switch {
			case tt.conflictWith == "" && v.conflict != "":
				t.Errorf("conflict %q, want none", v.conflict)
			case tt.conflictWith != "" && !strings.Contains(v.conflict, tt.conflictWith):
				t.Errorf("conflict %q, want one mentioning %q", v.conflict, tt.conflictWith)
			}
		})
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[source]string{
		0: "none", srcLabel: "label", srcInstanceIDs | srcServiceIDs: "instanceIds+serviceIds",
		srcInstanceIDs | srcServiceIDs | srcLabel | srcStackID: "instanceIds+serviceIds+label+stackId",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
	}
}

func TestJudgeDoubts(t *testing.T) {
	refs := []ClusterRef{{Name: "c1", Stack: "demo", Services: []string{"web"}}}
	stacks := map[string]client.Stack{"demo": {Resource: client.Resource{Id: "1st1"}, Name: "demo"}}
	at := func(svc client.Service, cts ...client.Container) judgement {
		m := map[string]client.Container{}
		for _, c := range cts {
			m[c.Id] = c
		}
		r := resolved{stacks: stacks, services: map[serviceKey]client.Service{{"1st1", "web"}: svc}}
		return judge(refs, r, m)
	}
	scaled := func(n int64, ids ...string) client.Service {
		s := webService(ids...)
		s.Scale = n
		return s
	}
	noIDs := scaled(2)
	noIDs.InstanceIds = nil
	empty := scaled(2)
	empty.InstanceIds = []string{}
	tests := []struct {
		name              string
		j                 judgement
		members           int
		doubt, shortCount int
	}{
		{"all agree, at scale", at(scaled(2, "1i1", "1i2"), ctr("1i1", "running", 1), ctr("1i2", "running", 2)), 2, 0, 0},
		{"scale-up in progress, instanceIds say which: neither", at(scaled(3, "1i1"), ctr("1i1", "running", 1)), 1, 0, 0},
		{"fewer than scale, no instanceIds: short", at(noIDs, ctr("1i1", "running", 1, noSvcIDs)), 1, 0, 1},
		{"a container created after the service list: doubt", at(scaled(2, "1i1"), ctr("1i1", "running", 1), ctr("1i2", "running", 2)), 1, 1, 0},
		{"scale > 0, nothing found, instanceIds absent: cannot confirm", at(noIDs), 0, 1, 1},
		{"scale > 0, nothing found, instanceIds [] confirm it", at(empty), 0, 0, 1},
		{"scale 0, nothing found, no instanceIds: nothing to confirm", at(scaled(0)), 0, 0, 0},
		{"inactive, nothing found, no instanceIds: believed", at(func() client.Service { s := noIDs; s.State = "inactive"; return s }()), 0, 0, 0},
		{"old shapes: label only, instanceIds absent", at(noIDs, ctr("1i1", "running", 1, noSvcIDs), ctr("1i2", "running", 2, noSvcIDs)), 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.j.members != tt.members || len(tt.j.doubts) != tt.doubt || len(tt.j.short) != tt.shortCount {
				t.Fatalf("members %d, doubts %q, short %q; want %d members, %d doubts, %d short",
					tt.j.members, tt.j.doubts, tt.j.short, tt.members, tt.doubt, tt.shortCount)
			}
			if err := tt.j.err("http://r/v2-beta/projects/1a5"); (err != nil) != (tt.doubt > 0) || (err != nil && !IsTransient(err)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
