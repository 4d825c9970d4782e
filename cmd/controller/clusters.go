package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/rancherapi"
	"github.com/drover-mesh/drover/pkg/reconcile"
)

// rancherScope is what the cluster source needs of the Rancher client:
// the labelled services its cache holds, and the clusters to observe.
// *rancherapi.Client implements it.
type rancherScope interface {
	LabelledServices(key string) ([]rancherapi.LabelledService, bool)
	SetClusters(refs []rancherapi.ClusterRef) error
}

// selfCluster names the controller's own service in the snapshot, where
// the elector finds its containers. No configured cluster can have this
// name (file names have no ':', label-defined ones are "stack/name").
const selfCluster = "drover:controller"

// maxConditionMessage bounds a condition's message (every label problem
// also goes to the log, once).
const maxConditionMessage = 4 << 10

// clusterSource gives each pass its clusters: those of the configuration
// in effect (the last good file) joined with those that service labels
// define, read from the Rancher client's cache (config.Resolve). When the
// answer changes it routes the node calls of the new clusters (nodeRouter)
// and has the Rancher client observe them (with the controller's own
// service when an election runs) before it hands them out, so that the
// pass's snapshot holds them. It implements reconcile.ClusterSource.
type clusterSource struct {
	log    logr.Logger
	scope  rancherScope
	nodes  *nodeRouter
	self   *rancherapi.ClusterRef // the controller's own service; nil without an election
	labels bool                   // read label-defined clusters

	mu      sync.Mutex
	cfg     *loaded
	cfgGen  uint64 // counts good loads: a reload re-reads secrets even when the file is the same
	status  reconcile.ConfigStatus
	prev    config.Resolution
	rev     uint64
	lastKey string
	logged  map[string]bool // label problems already logged
	refs    []rancherapi.ClusterRef

	// The last answer and its inputs: while the configuration in effect,
	// its status and the labelled services are unchanged, a pass gets it
	// again without resolving, building and hashing the set (at 500
	// clusters that was a tenth of an event pass's CPU).
	stateGen uint64 // counts changes of cfg and status
	memoGen  uint64
	memoSvcs []config.LabelledService
	memoSet  *reconcile.ClusterSet
}

// newClusterSource starts from the configuration loaded at start.
func newClusterSource(cfg *loaded, scope rancherScope, nodes *nodeRouter, self *rancherapi.ClusterRef, labels bool, log logr.Logger) *clusterSource {
	return &clusterSource{log: log, scope: scope, nodes: nodes, self: self, labels: labels, cfg: cfg, cfgGen: 1,
		status: reconcile.ConfigStatus{Path: cfg.path, Digest: cfg.digest, LoadedAt: cfg.at}, logged: map[string]bool{}}
}

// Clusters implements reconcile.ClusterSource.
func (s *clusterSource) Clusters() reconcile.ClusterSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var svcs []config.LabelledService
	if s.labels {
		found, _ := s.scope.LabelledServices(config.LabelCluster) // incomplete: what the cache holds; the next pass sees more
		svcs = make([]config.LabelledService, len(found))
		for i, ls := range found {
			svcs[i] = config.LabelledService{Stack: ls.Stack, Service: ls.Service, ID: ls.ServiceID, Labels: ls.Labels}
		}
	}
	if s.memoSet != nil && s.memoGen == s.stateGen && slices.EqualFunc(svcs, s.memoSvcs, sameLabelled) {
		return *s.memoSet
	}
	res := config.Resolve(s.cfg.file, svcs, s.prev)
	s.prev = res
	set := s.build(res)
	if key := s.key(set); key != s.lastKey {
		s.lastKey = key
		s.rev++
		s.logProblems(res)
		if err := s.nodes.update(set.Clusters, s.cfg); err != nil {
			s.log.Error(err, "routing node calls")
		}
		s.observe(set)
	}
	set.Revision = s.rev
	memo := make([]config.LabelledService, len(svcs))
	for i, ls := range svcs {
		memo[i] = ls
		memo[i].Labels = maps.Clone(ls.Labels) // the cache's maps are not ours to keep
	}
	s.memoGen, s.memoSvcs, s.memoSet = s.stateGen, memo, &set
	return set
}

func sameLabelled(a, b config.LabelledService) bool {
	return a.Stack == b.Stack && a.Service == b.Service && a.ID == b.ID && maps.Equal(a.Labels, b.Labels)
}

// build turns a resolution into the set the reconciler manages, with the
// conditions of the configuration.
func (s *clusterSource) build(res config.Resolution) reconcile.ClusterSet {
	invalid := condition(reconcile.ConditionConfigInvalid, len(s.status.Errors) > 0, "ReloadFailed", "Loaded",
		"the last reload of "+s.cfg.path+" failed; the last good configuration ("+s.cfg.digest+") runs: "+strings.Join(s.status.Errors, "; "))
	set := reconcile.ClusterSet{Config: s.status, Clusters: make([]reconcile.ManagedCluster, 0, len(res.Clusters))}
	set.Config.Errors = slices.Clone(s.status.Errors)
	set.Config.PendingRestart = slices.Clone(s.status.PendingRestart)
	set.Conditions = []reconcile.Condition{
		invalid,
		condition(reconcile.ConditionLabelsInvalid, len(res.Problems) > 0, "LabelProblems", "LabelsValid", strings.Join(res.Problems, "; ")),
		condition(reconcile.ConditionRestartRequired, len(s.status.PendingRestart) > 0, "SettingsChanged", "Running",
			"changed in the file, applied at the next restart (the running values stay): "+strings.Join(s.status.PendingRestart, "; ")),
	}
	for _, rc := range res.Clusters {
		source := reconcile.SourceFile
		if rc.FromLabels {
			source = reconcile.SourceLabels
		}
		set.Clusters = append(set.Clusters, reconcile.ManagedCluster{Cluster: rc.Cluster, Source: source, Labelled: rc.Labelled,
			Conditions: []reconcile.Condition{invalid, condition(reconcile.ConditionLabelConflict, len(rc.Problems) > 0, "LabelsDisagree", "LabelsAgree",
				"the labels do not change the cluster until these are fixed: "+strings.Join(rc.Problems, "; "))}})
	}
	return set
}

// condition is a condition whose message is kept only when it is true.
func condition(typ string, on bool, reason, okReason, msg string) reconcile.Condition {
	c := reconcile.Condition{Type: typ, Status: reconcile.ConditionFalse, Reason: okReason}
	if on {
		if len(msg) > maxConditionMessage {
			msg = msg[:maxConditionMessage] + "..."
		}
		c.Status, c.Reason, c.Message = reconcile.ConditionTrue, reason, msg
	}
	return c
}

// key identifies a set, so that its revision changes when, and only when,
// the set or the loaded configuration does.
func (s *clusterSource) key(set reconcile.ClusterSet) string {
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Sprint(s.cfgGen, err) // cannot happen: the types marshal
	}
	sum := sha256.Sum256(b)
	return fmt.Sprint(s.cfgGen, ":", hex.EncodeToString(sum[:]))
}

// observe has the Rancher client observe the set's clusters (and the
// controller's own service) from its next snapshot on.
func (s *clusterSource) observe(set reconcile.ClusterSet) {
	refs := make([]rancherapi.ClusterRef, 0, len(set.Clusters)+1)
	for _, mc := range set.Clusters {
		refs = append(refs, rancherapi.ClusterRef{Name: mc.Name, Stack: mc.Stack, Services: slices.Clone(mc.Services)})
	}
	if s.self != nil {
		refs = append(refs, *s.self)
	}
	if slices.EqualFunc(refs, s.refs, sameRef) {
		return
	}
	if err := s.scope.SetClusters(refs); err != nil {
		s.log.Error(err, "observing the clusters")
		return
	}
	s.refs = refs
}

func sameRef(a, b rancherapi.ClusterRef) bool {
	return a.Name == b.Name && a.Stack == b.Stack && slices.Equal(a.Services, b.Services)
}

// logProblems logs each label problem once, when it first shows.
func (s *clusterSource) logProblems(res config.Resolution) {
	now := map[string]bool{}
	add := func(cluster string, ps []string) {
		for _, p := range ps {
			now[p] = true
			if !s.logged[p] {
				s.log.Info("label problem", "cluster", cluster, "problem", p)
			}
		}
	}
	add("", res.Problems)
	for _, rc := range res.Clusters {
		add(rc.Cluster.Name, rc.Problems)
	}
	if len(now) == 0 && len(s.logged) > 0 {
		s.log.Info("label problems resolved")
	}
	s.logged = now
}

// use makes a good reload the configuration in effect, with the settings
// that need a restart.
func (s *clusterSource) use(cfg *loaded, pendingRestart []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg, s.cfgGen, s.stateGen = cfg, s.cfgGen+1, s.stateGen+1
	s.status.Digest, s.status.LoadedAt, s.status.Errors = cfg.digest, cfg.at, nil
	s.status.PendingRestart = pendingRestart
	s.status.Reloads++
}

// failed records a reload that failed: the configuration in effect stays.
func (s *clusterSource) failed(errs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Errors = errs
	s.status.Reloads++
	s.status.Failed++
	s.stateGen++
}

// current is the configuration in effect.
func (s *clusterSource) current() *loaded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}
