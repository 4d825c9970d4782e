package rancherapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// serviceKey identifies a service by stack id and name.
type serviceKey struct{ stackID, name string }

// resolved is what a snapshot found: the stacks by name, the configured
// services by stack id and name, and, from every live service listed,
// which services name a container in their instanceIds.
type resolved struct {
	stacks   map[string]stack
	services map[serviceKey]service
	claims   map[string][]string // container id -> ids of the services naming it
}

// claimsOf indexes the instanceIds of every live service listed.
func claimsOf(services []service) map[string][]string {
	n := 0
	for _, svc := range services {
		n += len(svc.InstanceIDs)
	}
	out := make(map[string][]string, n)
	for _, svc := range services {
		if !isLive(svc.State, svc.Removed) {
			continue
		}
		for _, id := range svc.InstanceIDs {
			if !slices.Contains(out[id], svc.ID) {
				out[id] = append(out[id], svc.ID)
			}
		}
	}
	return out
}

// claimedBy returns the ids of the listed services that name container id.
func (r resolved) claimedBy(id string) []string { return r.claims[id] }

// containerIndex finds candidate containers of a service quickly: by the
// service's instanceIds, by the containers' serviceIds and serviceId, and
// by label. The cache keeps one up to date (update); newContainerIndex
// builds one over a plain map.
type containerIndex struct {
	byID      map[string]container
	byService map[string]map[string]struct{}
	byLabel   map[string]map[string]struct{}
}

// newContainerIndex indexes the containers; byID is cts itself.
func newContainerIndex(cts map[string]container) containerIndex {
	ix := containerIndex{byID: cts, byService: map[string]map[string]struct{}{}, byLabel: map[string]map[string]struct{}{}}
	for id, ct := range cts {
		ix.add(id, ct)
	}
	return ix
}

// update moves container id from old to cur (either may be nil) in the
// service and label indexes; byID is the cache's own map, already set.
func (ix containerIndex) update(id string, old, cur *container) {
	if old != nil {
		ix.remove(id, *old)
	}
	if cur != nil {
		ix.add(id, *cur)
	}
}

// indexKeys returns the index keys a container is found under: the
// services its ids name, and its stack/service label.
func indexKeys(ct container) ([]string, string) {
	services := ct.ServiceIDs
	if ct.ServiceID != "" && !slices.Contains(ct.ServiceIDs, ct.ServiceID) {
		services = append(slices.Clip(services), ct.ServiceID)
	}
	return services, strings.ToLower(string(ct.Labels.StackService))
}

func (ix containerIndex) add(id string, ct container) {
	services, label := indexKeys(ct)
	for _, sid := range services {
		addTo(ix.byService, sid, id)
	}
	if label != "" {
		addTo(ix.byLabel, label, id)
	}
}

func (ix containerIndex) remove(id string, ct container) {
	services, label := indexKeys(ct)
	for _, sid := range services {
		removeFrom(ix.byService, sid, id)
	}
	if label != "" {
		removeFrom(ix.byLabel, label, id)
	}
}

func addTo(m map[string]map[string]struct{}, key, id string) {
	set := m[key]
	if set == nil {
		set = map[string]struct{}{}
		m[key] = set
	}
	set[id] = struct{}{}
}

func removeFrom(m map[string]map[string]struct{}, key, id string) {
	if set := m[key]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// candidates returns every container that any source links to svc in
// stack, each once, sorted by id.
func (ix containerIndex) candidates(svc service, stack string) []container {
	out, _ := ix.appendCandidates(nil, nil, svc, stack)
	return out
}

// appendCandidates is candidates into reused buffers: out for the
// containers, ids for scratch. It returns both for the next call.
//
// The three sources usually name the same containers: the instanceIds are
// sorted once, and only the ids the other sources add beyond them (none,
// as a rule) make the whole list sorted again.
func (ix containerIndex) appendCandidates(out []container, ids []string, svc service, stack string) ([]container, []string) {
	ids = append(ids[:0], svc.InstanceIDs...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	named := len(ids)
	for _, set := range [...]map[string]struct{}{ix.byService[svc.ID], ix.byLabel[stackServiceKey(stack, svc.Name)]} {
		for id := range set {
			if _, found := slices.BinarySearch(ids[:named], id); !found {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > named {
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	out = out[:0]
	for _, id := range ids {
		if ct, ok := ix.byID[id]; ok {
			out = append(out, ct)
		}
	}
	return out, ids
}

// judgement is what the listed objects say about the configured clusters.
type judgement struct {
	// clusters: one per configured cluster, services in config order, each
	// with the containers every present source agrees on.
	clusters []mesh.Cluster
	// doubts say why the answer cannot be believed as it is: sources that
	// disagree, or a service with scale > 0 and no member that nothing
	// confirms to be empty.
	doubts []string
	// members counts the members of every service.
	members int
}

// err turns the doubts into a transient error; nil when there are none.
func (j judgement) err(where string) error {
	if len(j.doubts) == 0 {
		return nil
	}
	shown := j.doubts[:min(3, len(j.doubts))]
	more := ""
	if n := len(j.doubts) - len(shown); n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	return partialf("reading members: rancher at %s answered inconsistently, so the services are not believed empty or smaller; will retry: %s%s",
		where, strings.Join(shown, "; "), more)
}

// judge applies the member rule (evidence.verdict) to every configured
// service and reports what cannot be believed. Every configured stack and
// service must be resolved.
func judge(refs []ClusterRef, r resolved, cts map[string]container) judgement {
	return judgeIndexed(refs, r, newContainerIndex(cts))
}

// judgeIndexed is judge over an index of the containers.
func judgeIndexed(refs []ClusterRef, r resolved, ix containerIndex) judgement {
	j := judgement{clusters: make([]mesh.Cluster, 0, len(refs))}
	var (
		cands []container // reused from service to service
		ids   []string
	)
	for _, ref := range refs {
		st := r.stacks[ref.Stack]
		cl := mesh.Cluster{Name: ref.Name, Stack: ref.Stack, StackID: st.ID, Services: make([]mesh.Service, 0, len(ref.Services))}
		for _, name := range ref.Services {
			svc := r.services[serviceKey{st.ID, name}]
			cands, ids = ix.appendCandidates(cands, ids, svc, ref.Stack)
			ms, doubts := judgeService(svc, ref.Stack, cands, r.claimedBy)
			j.doubts = append(j.doubts, doubts...)
			j.members += len(ms.Containers)
			cl.Services = append(cl.Services, ms)
		}
		j.clusters = append(j.clusters, cl)
	}
	return j
}

// judgeService translates one service and its candidate containers: the
// members sorted by CreateIndex, and the doubts about them.
func judgeService(svc service, stack string, candidates []container, claimedBy func(string) []string) (mesh.Service, []string) {
	out := mesh.Service{ID: svc.ID, Name: svc.Name, State: svc.State, Scale: svc.Scale, Containers: make([]mesh.Member, 0, len(candidates))}
	var doubts []string
	for _, ct := range candidates {
		e := gather(ct, svc, stack, claimedBy)
		v := e.verdict()
		if v.conflict != "" {
			doubts = append(doubts, fmt.Sprintf("container %s (%s) of service %s/%s (%s): %s (sources present: %s, agreeing: %s)",
				ct.ID, quote(ct.Name), stack, svc.Name, svc.ID, v.conflict, e.present, e.agree))
			continue
		}
		if v.member {
			out.Containers = append(out.Containers, toMember(ct, svc))
		}
	}
	slices.SortFunc(out.Containers, compareMembers)
	if svc.Scale > 0 && expectsContainers(svc.State) && len(out.Containers) == 0 && svc.InstanceIDs == nil && len(doubts) == 0 {
		doubts = append(doubts, fmt.Sprintf("service %s/%s (%s) has scale %d but no container links to it, and rancher renders no instanceIds that could confirm it has none",
			stack, svc.Name, svc.ID, svc.Scale))
	}
	return out, doubts
}

// expectsContainers reports whether a service in this state should have
// containers for its scale. One that is inactive (never activated, or
// deactivated: its containers are stopped, so none is a peer anyway),
// being created or being removed may well have none; any other state, and
// any state this code does not know, is expected to have them.
func expectsContainers(state string) bool {
	switch state {
	case "inactive", "requested", "registering", "deactivating", "updating-inactive", "removing", "removed", "purging", "purged":
		return false
	}
	return true
}

// assemble is judge's clusters alone, for callers that checked the doubts.
func assemble(refs []ClusterRef, r resolved, cts map[string]container) []mesh.Cluster {
	return judge(refs, r, cts).clusters
}

// quote bounds a name from the server for a message.
func quote(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return fmt.Sprintf("%q", s)
}
