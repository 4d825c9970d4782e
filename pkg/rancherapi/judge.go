package rancherapi

import (
	"fmt"
	"slices"
	"strings"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// serviceKey identifies a service by stack id and name.
type serviceKey struct{ stackID, name string }

// resolved is what a snapshot found: the stacks by name, the configured
// services by stack id and name, and, from every live service listed,
// which services name a container in their instanceIds.
type resolved struct {
	stacks   map[string]client.Stack
	services map[serviceKey]client.Service
	claims   map[string][]string // container id -> ids of the services naming it
}

// claimsOf indexes the instanceIds of every live service listed.
func claimsOf(services []client.Service) map[string][]string {
	out := map[string][]string{}
	for _, svc := range services {
		if !isLive(svc.State, svc.Removed) {
			continue
		}
		for _, id := range svc.InstanceIds {
			if !slices.Contains(out[id], svc.Id) {
				out[id] = append(out[id], svc.Id)
			}
		}
	}
	return out
}

// claimedBy returns the ids of the listed services that name container id.
func (r resolved) claimedBy(id string) []string { return r.claims[id] }

// containerIndex finds candidate containers of a service quickly: by the
// service's instanceIds, by the containers' serviceIds and serviceId, and
// by label.
type containerIndex struct {
	byID      map[string]client.Container
	byService map[string][]string
	byLabel   map[string][]string
}

// newContainerIndex indexes the containers.
func newContainerIndex(cts map[string]client.Container) containerIndex {
	ix := containerIndex{byID: cts, byService: map[string][]string{}, byLabel: map[string][]string{}}
	ids := make([]string, 0, len(cts))
	for id := range cts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ct := cts[id]
		for _, sid := range ct.ServiceIds {
			ix.byService[sid] = append(ix.byService[sid], id)
		}
		if ct.ServiceId != "" && !slices.Contains(ct.ServiceIds, ct.ServiceId) {
			ix.byService[ct.ServiceId] = append(ix.byService[ct.ServiceId], id)
		}
		if l := strings.ToLower(labelString(ct.Labels, labelStackService)); l != "" {
			ix.byLabel[l] = append(ix.byLabel[l], id)
		}
	}
	return ix
}

// candidates returns every container that any source links to svc in
// stack, each once, in a stable order.
func (ix containerIndex) candidates(svc client.Service, stack string) []client.Container {
	var out []client.Container
	seen := map[string]bool{}
	add := func(ids []string) {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if ct, ok := ix.byID[id]; ok {
				out = append(out, ct)
			}
		}
	}
	add(svc.InstanceIds)
	add(ix.byService[svc.Id])
	add(ix.byLabel[stackServiceKey(stack, svc.Name)])
	return out
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
	// short names the services with scale > 0 and no member, or fewer
	// members than their scale and no instanceIds to say which containers
	// they have: not wrong by itself (a scale-up in progress), but a reason
	// to look again without the stack filter. (Where instanceIds are
	// rendered, a container the filter hid is one they name and the list
	// lacks: it is read by id.)
	short []string
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
func judge(refs []ClusterRef, r resolved, cts map[string]client.Container) judgement {
	ix := newContainerIndex(cts)
	j := judgement{clusters: make([]mesh.Cluster, 0, len(refs))}
	for _, ref := range refs {
		st := r.stacks[ref.Stack]
		cl := mesh.Cluster{Name: ref.Name, Stack: ref.Stack, StackID: st.Id, Services: make([]mesh.Service, 0, len(ref.Services))}
		for _, name := range ref.Services {
			svc := r.services[serviceKey{st.Id, name}]
			ms, doubts := judgeService(svc, ref.Stack, ix.candidates(svc, ref.Stack), r.claimedBy)
			j.doubts = append(j.doubts, doubts...)
			if n := len(ms.Containers); svc.Scale > 0 && expectsContainers(svc.State) && (n == 0 || (svc.Scale > int64(n) && svc.InstanceIds == nil)) {
				j.short = append(j.short, fmt.Sprintf("%s/%s has %d of scale %d", ref.Stack, name, len(ms.Containers), svc.Scale))
			}
			j.members += len(ms.Containers)
			cl.Services = append(cl.Services, ms)
		}
		j.clusters = append(j.clusters, cl)
	}
	return j
}

// judgeService translates one service and its candidate containers: the
// members sorted by CreateIndex, and the doubts about them.
func judgeService(svc client.Service, stack string, candidates []client.Container, claimedBy func(string) []string) (mesh.Service, []string) {
	out := mesh.Service{ID: svc.Id, Name: svc.Name, State: svc.State, Scale: svc.Scale, Containers: []mesh.Member{}}
	var doubts []string
	for _, ct := range candidates {
		e := gather(ct, svc, stack, claimedBy)
		v := e.verdict()
		if v.conflict != "" {
			doubts = append(doubts, fmt.Sprintf("container %s (%s) of service %s/%s (%s): %s (sources present: %s, agreeing: %s)",
				ct.Id, quote(ct.Name), stack, svc.Name, svc.Id, v.conflict, e.present, e.agree))
			continue
		}
		if v.member {
			out.Containers = append(out.Containers, toMember(ct, svc))
		}
	}
	slices.SortFunc(out.Containers, compareMembers)
	if svc.Scale > 0 && expectsContainers(svc.State) && len(out.Containers) == 0 && svc.InstanceIds == nil && len(doubts) == 0 {
		doubts = append(doubts, fmt.Sprintf("service %s/%s (%s) has scale %d but no container links to it, and rancher renders no instanceIds that could confirm it has none",
			stack, svc.Name, svc.Id, svc.Scale))
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
func assemble(refs []ClusterRef, r resolved, cts map[string]client.Container) []mesh.Cluster {
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
