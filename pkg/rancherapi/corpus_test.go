package rancherapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// corpusDir holds real Cattle payloads; see its README for the sources.
const corpusDir = "testdata/cattle"

// corpusRefs is the configuration the corpus is classified against: one
// cluster per stack the payloads name.
func corpusRefs() []ClusterRef {
	return []ClusterRef{
		{Name: "cms", Stack: "Concrete5", Services: []string{"CMSMysql", "Concrete5App"}},
		{Name: "blog", Stack: "ghost", Services: []string{"ghost"}},
		{Name: "hello", Stack: "teststack", Services: []string{"hello1"}},
		{Name: "nginx", Stack: "foo", Services: []string{"nginx2"}},
	}
}

// object is one classified object of a payload.
type object struct {
	id, kind, class, why string
}

func (o object) String() string { return fmt.Sprintf("%s %s: %s (%s)", o.kind, o.id, o.class, o.why) }

// corpus is every decoded payload.
type corpus struct {
	files      map[string][]object // filled by classify
	containers map[string][]client.Container
	services   []client.Service
	stacks     map[string][]client.Stack
	events     map[string]event
}

// loadCorpus decodes every file with the types go-rancher decodes answers
// into (and the watch's event type).
func loadCorpus(t *testing.T) corpus {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(paths) < 8 {
		t.Fatalf("corpus: %d files, %v", len(paths), err)
	}
	c := corpus{files: map[string][]object{}, containers: map[string][]client.Container{}, stacks: map[string][]client.Stack{}, events: map[string]event{}}
	for _, p := range paths {
		name := filepath.Base(p)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Name string          `json:"name"`
			Data json.RawMessage `json:"data"` // a collection's list, or an event's object
		}
		mustDecode(t, name, raw, &env)
		var items []json.RawMessage
		switch {
		case env.Name == "resource.change":
			var ev event
			mustDecode(t, name, raw, &ev)
			c.events[name] = ev
			var inner struct {
				Data struct {
					Resource json.RawMessage `json:"resource"`
				} `json:"data"`
			}
			mustDecode(t, name, raw, &inner)
			items = []json.RawMessage{inner.Data.Resource}
		case env.Data != nil:
			mustDecode(t, name, env.Data, &items)
		default:
			items = []json.RawMessage{raw}
		}
		for _, it := range items {
			c.decodeItem(t, name, it)
		}
	}
	return c
}

func (c *corpus) decodeItem(t *testing.T, name string, raw json.RawMessage) {
	var head struct {
		Type     string            `json:"type"`
		Services []json.RawMessage `json:"services"` // embedded in events
	}
	mustDecode(t, name, raw, &head)
	switch head.Type {
	case "container":
		var ct client.Container
		mustDecode(t, name, raw, &ct)
		c.containers[name] = append(c.containers[name], ct)
		for _, s := range head.Services {
			var svc client.Service
			mustDecode(t, name, s, &svc)
			c.services = append(c.services, svc)
		}
	case "service":
		var svc client.Service
		mustDecode(t, name, raw, &svc)
		c.services = append(c.services, svc)
		c.files[name] = append(c.files[name], classifyService(svc))
	case "stack", "environment": // v1 calls stacks environments
		var st client.Stack
		mustDecode(t, name, raw, &st)
		c.stacks[name] = append(c.stacks[name], st)
	default:
		t.Fatalf("%s: unexpected object type %q", name, head.Type)
	}
}

func mustDecode(t *testing.T, name string, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: decoding %T: %v", name, v, err)
	}
}

// service returns the corpus's service of that name, or a bare one (no
// id, no instanceIds) when no payload holds it.
func (c corpus) service(name string) client.Service {
	for _, s := range c.services {
		if s.Name == name {
			return s
		}
	}
	return client.Service{Name: name}
}

// classifyContainer finds the configured service ct is a member of, by the
// snapshot's rule (gather, verdict), or says why it is none.
func (c corpus) classifyContainer(ct client.Container) object {
	o := object{id: ct.Id, kind: "container", class: "no member"}
	for _, ref := range corpusRefs() {
		for _, name := range ref.Services {
			v := gather(ct, c.service(name), ref.Stack, nil).verdict()
			switch {
			case v.conflict != "":
				return object{id: ct.Id, kind: "container", class: "conflict with " + ref.Name + "/" + name, why: v.conflict}
			case v.member:
				return object{id: ct.Id, kind: "container", class: "member of " + ref.Name + "/" + name, why: v.why}
			}
		}
	}
	if l := labelString(ct.Labels, labelStackService); l != "" {
		o.why = "labelled " + l + ", not a configured service"
	} else {
		o.why = "no service label and no ids"
	}
	return o
}

func classifyService(svc client.Service) object {
	class := "live"
	if !isLive(svc.State, svc.Removed) {
		class = "not live"
	}
	ids, stack := "absent", "absent"
	if svc.InstanceIds != nil {
		ids = fmt.Sprint(len(svc.InstanceIds))
	}
	if svc.StackId != "" {
		stack = svc.StackId
	}
	return object{id: svc.Id, kind: "service", class: class, why: fmt.Sprintf("%s, scale %d, instanceIds %s, stackId %s", svc.State, svc.Scale, ids, stack)}
}

// classify fills c.files with every object's classification.
func (c corpus) classify() {
	sc := scope{}
	for _, ref := range corpusRefs() {
		sc.stackNames = append(sc.stackNames, ref.Stack)
	}
	for name, cts := range c.containers {
		for _, ct := range cts {
			c.files[name] = append(c.files[name], c.classifyContainer(ct))
		}
	}
	for name, sts := range c.stacks {
		for _, st := range sts {
			class := "live"
			if !isLive(st.State, st.Removed) {
				class = "not live"
			}
			why := "not configured"
			if slices.Contains(sc.stackNames, st.Name) {
				why = "configured stack " + st.Name
			}
			c.files[name] = append(c.files[name], object{id: st.Id, kind: "stack", class: class, why: why})
		}
	}
	for name, ev := range c.events {
		class := "ignored"
		if relevant(ev, sc) {
			class = "relevant"
		}
		c.files[name] = append(c.files[name], object{id: ev.ResourceID, kind: "event", class: class, why: ev.Name + " of a " + ev.ResourceType})
	}
}

// TestCattleCorpus decodes every real payload of testdata/cattle and
// classifies each object with the snapshot's rules.
func TestCattleCorpus(t *testing.T) {
	liveV1 := func(id string, scale int) object {
		return object{id, "service", "live", fmt.Sprintf("inactive, scale %d, instanceIds absent, stackId absent", scale)}
	}
	want := map[string][]object{
		"v1-1.1-containers-collection.json": {
			{"1i1", "container", "member of cms/CMSMysql", whyLabel},
			{"1i2", "container", "no member", "no service label and no ids"},
		},
		"v1-1.1-services-collection.json": {
			liveV1("1s1", 1), liveV1("1s2", 1),
			{"1s3", "service", "live", "active, scale 1, instanceIds absent, stackId absent"},
		},
		"v1-1.1-environments-collection.json": {
			{"1e2", "stack", "live", "configured stack ghost"},
			{"1e5", "stack", "live", "not configured"},
		},
		"v1-1.1-container-standalone.json": {
			{"1i31", "container", "no member", "no service label and no ids"},
		},
		"v1-1.1-service-removing.json": {
			{"1s13", "service", "not live", "removing, scale 1, instanceIds absent, stackId absent"},
		},
		"v1-1.1-event-container-change.json": {
			{"1i316", "container", "member of hello/hello1", whyLabel},
			{"1i316", "event", "relevant", "resource.change of a container"},
		},
		"v1-1.1-container-readme.json": {
			{"1i258", "container", "member of nginx/nginx2", whyLabel},
		},
		"v2beta-1.6-services-collection.json": {
			{"1s716", "service", "live", "active, scale 1, instanceIds 1, stackId 1st263"},
			{"1s717", "service", "live", "active, scale 1, instanceIds 1, stackId 1st263"},
		},
		"v2beta-1.6-services-activating-error.json": {
			{"1s790", "service", "live", "active, scale 1, instanceIds 1, stackId 1st281"},
			{"1s791", "service", "live", "activating, scale 1, instanceIds 1, stackId 1st281"},
		},
		"v2beta-1.6-container-native-agent.json": {
			{"1i25", "container", "no member", "no service label and no ids"},
		},
	}
	c := loadCorpus(t)
	c.classify()
	for name := range c.files {
		if _, ok := want[name]; !ok {
			t.Errorf("%s has no expected classification in this table: %v", name, c.files[name])
		}
	}
	for name, objs := range want {
		t.Run(name, func(t *testing.T) {
			got := c.files[name]
			slices.SortFunc(got, func(a, b object) int { return strings.Compare(a.kind+a.id, b.kind+b.id) })
			slices.SortFunc(objs, func(a, b object) int { return strings.Compare(a.kind+a.id, b.kind+b.id) })
			if !slices.Equal(got, objs) {
				t.Errorf("got\n  %v\nwant\n  %v", got, objs)
			}
		})
	}
}

// TestCattleCorpusNeverEmptyWithoutConfirmation judges the corpus's v1
// server as a snapshot would: CMSMysql has its (stopped) container, found
// by label; Concrete5App is inactive, so having no container is believed;
// ghost is active with scale 1, its container is not in the payloads and
// the server renders no instanceIds: it is not taken for an empty service.
func TestCattleCorpusNeverEmptyWithoutConfirmation(t *testing.T) {
	c := loadCorpus(t)
	refs := corpusRefs()[:2]
	r := resolved{
		stacks: map[string]client.Stack{
			"Concrete5": {Resource: client.Resource{Id: "1e1"}, Name: "Concrete5"},
			"ghost":     {Resource: client.Resource{Id: "1e2"}, Name: "ghost"},
		},
		services: map[serviceKey]client.Service{},
	}
	for _, ref := range refs {
		for _, name := range ref.Services {
			r.services[serviceKey{r.stacks[ref.Stack].Id, name}] = c.service(name)
		}
	}
	cts := map[string]client.Container{}
	for _, ct := range c.containers["v1-1.1-containers-collection.json"] {
		cts[ct.Id] = ct
	}
	j := judge(refs, r, cts)
	if got := memberIDs(snapshotOf(j)); !slices.Equal(got, []string{"1i1"}) {
		t.Errorf("members = %v, want [1i1]", got)
	}
	if len(j.doubts) != 1 || !strings.Contains(j.doubts[0], "ghost/ghost") || !strings.Contains(j.doubts[0], "no instanceIds") {
		t.Errorf("doubts = %q, want one about ghost/ghost lacking instanceIds", j.doubts)
	}
}

func snapshotOf(j judgement) mesh.Snapshot { return mesh.Snapshot{Clusters: j.clusters} }
