package main

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// fakeScope records the clusters it is told to observe and answers the
// labelled services it is given.
type fakeScope struct {
	mu       sync.Mutex
	labelled []rancherapi.LabelledService
	set      [][]rancherapi.ClusterRef
}

func (f *fakeScope) LabelledServices(string) ([]rancherapi.LabelledService, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.labelled), true
}

func (f *fakeScope) SetClusters(refs []rancherapi.ClusterRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set = append(f.set, refs)
	return nil
}

func loadedFor(t *testing.T, yaml string) *loaded {
	t.Helper()
	f, err := config.Load([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	l, err := resolveConfig(f, "/etc/drover/config.yaml", []byte(yaml), env(map[string]string{"NODE_TOKEN": "node-token"}))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestClusterSourceJoinsTheFileWithLabels(t *testing.T) {
	cfg := loadedFor(t, twoClustersConfig)
	scope := &fakeScope{}
	var mu sync.Mutex
	var logged []string
	log := funcr.New(func(_, args string) { mu.Lock(); logged = append(logged, args); mu.Unlock() }, funcr.Options{})
	self := rancherapi.ClusterRef{Name: selfCluster, Stack: "ops", Services: []string{"drover"}}
	s := newClusterSource(cfg, scope, newNodeRouter(nodeapi.ClientOptions{}), &self, true, log)

	first := s.Clusters()
	if len(first.Clusters) != 1 || first.Clusters[0].Name != "hello" || first.Clusters[0].Source != reconcile.SourceFile {
		t.Fatalf("clusters %+v", first.Clusters)
	}
	if again := s.Clusters(); again.Revision != first.Revision || len(scope.set) != 1 {
		t.Errorf("an unchanged answer got revision %d after %d, and %d SetClusters", again.Revision, first.Revision, len(scope.set))
	}
	if want := []rancherapi.ClusterRef{{Name: "hello", Stack: "demo", Services: []string{"hello"}}, self}; !slices.EqualFunc(scope.set[0], want, sameRef) {
		t.Errorf("observed %+v, want %+v", scope.set[0], want)
	}

	scope.labelled = []rancherapi.LabelledService{
		{Stack: "demo", Service: "worker", ServiceID: "1s4", Labels: map[string]string{config.LabelCluster: "work"}},
		{Stack: "demo", Service: "bad", ServiceID: "1s5", Labels: map[string]string{config.LabelCluster: "bad", config.LabelPolicy: "never"}},
	}
	for range 3 {
		s.Clusters()
	}
	set := s.Clusters()
	if set.Revision == first.Revision || len(set.Clusters) != 2 || set.Clusters[1].Name != "demo/work" || set.Clusters[1].Source != reconcile.SourceLabels {
		t.Fatalf("after a label: revision %d, clusters %+v", set.Revision, set.Clusters)
	}
	last := scope.set[len(scope.set)-1]
	if len(scope.set) != 2 || len(last) != 3 || last[1].Name != "demo/work" || last[2].Name != selfCluster {
		t.Errorf("SetClusters calls %+v", scope.set)
	}
	if c, _ := reconcile.FindCondition(set.Conditions, reconcile.ConditionLabelsInvalid); c.Status != reconcile.ConditionTrue ||
		!strings.Contains(c.Message, "service demo/bad: label io.drover.policy") {
		t.Errorf("LabelsInvalid %+v", c)
	}
	mu.Lock()
	n := 0
	for _, l := range logged {
		if strings.Contains(l, `"label problem"`) && strings.Contains(l, "io.drover.policy") {
			n++
		}
	}
	mu.Unlock()
	if n != 1 {
		t.Errorf("the label problem was logged %d times, want once:\n%s", n, strings.Join(logged, "\n"))
	}

	s.failed([]string{"spec.clusters[0].admin.port: must be between 1 and 65535"})
	bad := s.Clusters()
	for _, mc := range bad.Clusters {
		if c, _ := reconcile.FindCondition(mc.Conditions, reconcile.ConditionConfigInvalid); c.Status != reconcile.ConditionTrue ||
			!strings.Contains(c.Message, "admin.port: must be between 1 and 65535") {
			t.Errorf("cluster %s: ConfigInvalid %+v", mc.Name, c)
		}
	}
	if bad.Revision == set.Revision || bad.Config.Failed != 1 || bad.Config.Reloads != 1 {
		t.Errorf("after a failed reload: revision %d (was %d), config %+v", bad.Revision, set.Revision, bad.Config)
	}
	s.use(loadedFor(t, twoClustersConfig+"  - {name: other, stack: demo, services: [other]}\n"), []string{"spec.controller.parallelism: running 32, the file says 8"})
	good := s.Clusters()
	if c, _ := reconcile.FindCondition(good.Conditions, reconcile.ConditionConfigInvalid); c.Status != reconcile.ConditionFalse || len(good.Clusters) != 3 {
		t.Errorf("after a good reload: %+v, %d clusters", c, len(good.Clusters))
	}
	if c, _ := reconcile.FindCondition(good.Conditions, reconcile.ConditionRestartRequired); c.Status != reconcile.ConditionTrue ||
		!strings.Contains(c.Message, "parallelism") {
		t.Errorf("RestartRequired %+v", c)
	}
}
