package rancherapi

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Lock order: cache.mu before Client.mu.

// refSet is the configured clusters and a counter of their replacements.
type refSet struct {
	list []ClusterRef
	gen  uint64
}

// SetClusters replaces the configured clusters (a live reload); the next
// Snapshot, and every lookup after it, observes the new ones. The cache
// holds every stack, service and container of the environment, so no
// request is needed for the change itself. It validates refs as New does
// and keeps the current clusters when they are invalid.
func (c *Client) SetClusters(refs []ClusterRef) error {
	if err := validateClusters(refs); err != nil {
		return terminal(fmt.Errorf("invalid clusters: %w", err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs = refSet{list: slices.Clone(refs), gen: c.refs.gen + 1}
	// Until the next snapshot resolves the new clusters' ids, events are
	// judged by stack names and labels alone (in doubt: relevant).
	c.scope = scope{stackNames: stackNames(c.refs.list), members: c.scope.members}
	return nil
}

// clusterRefs returns the configured clusters now.
func (c *Client) clusterRefs() refSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refs
}

// validateClusters reports every problem of refs at once. An empty list
// is valid: the clusters may all come from labels (Options.WatchLabel),
// found in the cache that a snapshot of no cluster lists.
func validateClusters(refs []ClusterRef) error {
	var errs []error
	for i, r := range refs {
		if r.Stack == "" {
			errs = append(errs, fmt.Errorf("clusters[%d].stack: required", i))
		}
		if len(r.Services) == 0 {
			errs = append(errs, fmt.Errorf("clusters[%d].services: at least one is required", i))
		}
	}
	return errors.Join(errs...)
}

// stackNames returns the distinct configured stack names, in config order.
func stackNames(refs []ClusterRef) []string {
	var out []string
	for _, ref := range refs {
		if !slices.Contains(out, ref.Stack) {
			out = append(out, ref.Stack)
		}
	}
	return out
}

// wantServices lists the configured services by stack id, each once.
func wantServices(refs []ClusterRef, stacks map[string]stack) []serviceKey {
	var want []serviceKey
	seen := map[serviceKey]bool{}
	for _, ref := range refs {
		for _, s := range ref.Services {
			if k := (serviceKey{stacks[ref.Stack].ID, s}); !seen[k] {
				seen[k] = true
				want = append(want, k)
			}
		}
	}
	return want
}

// view is what the cache says about the configured clusters now, and
// what must be read before it can be believed.
type view struct {
	// memo is the last answer, when nothing changed since it was judged.
	memo *mesh.Snapshot
	r    resolved
	j    judgement
	// missingStacks and missingServices are configured names the cache
	// lacks; missing the instance ids the services name that the cache
	// neither holds nor knows removed.
	missingStacks   []string
	missingServices []serviceKey
	missing         []string
	// changes and refsGen say what the view was judged from.
	changes, refsGen uint64
}

// view resolves refs against the cache and judges the members.
func (c *Client) view(refs refSet) (view, error) {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	v := view{changes: c.cache.changes, refsGen: refs.gen}
	if m := c.memoFor(v.changes, refs.gen); m != nil {
		v.memo = m
		return v, nil
	}
	stacks, missing, err := matchStacks(stackNames(refs.list), slices.Collect(maps.Values(c.cache.stacks.live())))
	if err != nil {
		return view{}, err
	}
	v.r.stacks = stacks
	if v.missingStacks = missing; len(missing) > 0 {
		return v, nil
	}
	all := slices.Collect(maps.Values(c.cache.services.live()))
	services, missingSvc, err := matchServices(wantServices(refs.list, stacks), all)
	if err != nil {
		return view{}, err
	}
	v.r.services, v.r.claims = services, c.cache.claimsLocked(all)
	if v.missingServices = missingSvc; len(missingSvc) > 0 {
		return v, nil
	}
	cts := c.cache.containers.live()
	v.missing = slices.DeleteFunc(missingInstances(services, cts), func(id string) bool {
		r := c.cache.containers.rows[id]
		return r != nil && r.gone
	})
	if len(v.missing) == 0 {
		v.j = judgeIndexed(refs.list, v.r, c.cache.ix)
	}
	return v, nil
}

// answer is the last snapshot judged from the cache.
type answer struct {
	changes, refsGen uint64
	snap             mesh.Snapshot
}

// generation is the generation handed out for a cluster's data.
type generation struct {
	gen  uint64
	data mesh.Cluster
}

// memoFor returns the last answer when the cache and the configured
// clusters are as they were when it was judged.
func (c *Client) memoFor(changes, refsGen uint64) *mesh.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || c.last.changes != changes || c.last.refsGen != refsGen {
		return nil
	}
	s := c.last.snap
	s.TakenAt = time.Now()
	return &s
}

// finish turns a judged view into the answer: each cluster keeps its
// generation while its data is the same as in the last answer, and gets a
// new one otherwise.
func (c *Client) finish(refs refSet, v view) mesh.Snapshot {
	clusters := v.j.clusters
	c.mu.Lock()
	defer c.mu.Unlock()
	gens := make(map[string]generation, len(clusters))
	for i, cl := range clusters {
		if g, ok := c.gens[cl.Name]; ok && sameCluster(g.data, cl) {
			clusters[i].Generation = g.gen
		} else {
			c.lastGen++
			clusters[i].Generation = c.lastGen
		}
		gens[cl.Name] = generation{gen: clusters[i].Generation, data: clusters[i]}
	}
	c.gens = gens
	// ContainersByIP puts what it reads in the cache (newer observations
	// win), so a snapshot holds every read that finished before it.
	snap := mesh.Snapshot{Clusters: clusters, TakenAt: time.Now(), HoldsLookups: true}
	c.last = &answer{changes: v.changes, refsGen: refs.gen, snap: snap}
	c.scope = scopeOf(refs.list, v.r, clusters)
	return snap
}

// sameCluster reports whether two answers hold the same data for a
// cluster (the generation aside).
func sameCluster(a, b mesh.Cluster) bool {
	return a.Name == b.Name && a.Stack == b.Stack && a.StackID == b.StackID &&
		slices.EqualFunc(a.Services, b.Services, func(x, y mesh.Service) bool {
			return x.ID == y.ID && x.Name == y.Name && x.State == y.State && x.Scale == y.Scale &&
				slices.Equal(x.Containers, y.Containers)
		})
}

// LabelledService is a service whose primary launch config carries a
// label, as the cache holds it.
type LabelledService struct {
	Stack, StackID, Service, ServiceID string
	// Labels are the launch config's labels.
	Labels map[string]string
}

// LabelledServices returns the live services of the environment whose
// launch config carries label key, sorted by stack then service name, for
// clusters defined by labels (issue 16): a caller builds ClusterRefs from
// them and passes them to SetClusters. complete reports whether the cache
// was complete; when it is not, the answer may lack services (list first
// with Snapshot).
func (c *Client) LabelledServices(key string) ([]LabelledService, bool) {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	var out []LabelledService
	names := map[string]string{}
	for id, st := range c.cache.stacks.live() {
		if isLive(st.State, st.Removed) {
			names[id] = st.Name
		}
	}
	for _, svc := range c.cache.services.live() {
		stackName, ok := names[svc.StackID]
		if _, has := svc.LaunchConfig.Labels[key]; !has || !ok || !isLive(svc.State, svc.Removed) {
			continue
		}
		labels := make(map[string]string, len(svc.LaunchConfig.Labels))
		for k, v := range svc.LaunchConfig.Labels {
			labels[k] = string(v)
		}
		out = append(out, LabelledService{Stack: stackName, StackID: svc.StackID, Service: svc.Name, ServiceID: svc.ID, Labels: labels})
	}
	slices.SortFunc(out, func(a, b LabelledService) int {
		return cmp.Or(strings.Compare(a.Stack, b.Stack), strings.Compare(a.Service, b.Service))
	})
	return out, c.cache.completeLocked()
}
