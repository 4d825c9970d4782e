package rancherapi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Labels Cattle puts on every container of a service.
const (
	// labelStackService is "<stack>/<service>" for a primary container and
	// "<stack>/<service>/<sidekick>" for a sidekick.
	labelStackService = "io.rancher.stack_service.name"
	// labelStackName is the stack's name.
	labelStackName = "io.rancher.stack.name"
)

// isGone reports whether an object with this state and removed timestamp
// is removed (or on its way to being purged) and so is no member of
// anything. "removing" is not gone yet: it is reported, in its state.
func isGone(state, removed string) bool {
	return removed != "" || state == "removed" || state == "purging" || state == "purged"
}

// isLive reports whether a stack or service with this state counts when
// resolving a name: a removed one, or one being removed while a new one
// of the same name may exist, does not.
func isLive(state, removed string) bool {
	return !isGone(state, removed) && state != "removing"
}

// labelString returns a label's value as a string ("" when absent).
func labelString(labels map[string]interface{}, key string) string {
	v, ok := labels[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// stackServiceKey is the label value of a primary container of svc in stack.
func stackServiceKey(stack, svc string) string {
	return strings.ToLower(stack + "/" + svc)
}

// belongs reports whether container ct is a primary container of service
// svc in stack. Evidence, in order: the stack/service label must match when
// present (so sidekicks and other services' containers are out); then the
// container's serviceIds or the service's instanceIds must link the two,
// or, when the container carries no serviceIds at all, the label alone.
// No list filter is ever trusted: every candidate goes through here.
func belongs(ct client.Container, svc client.Service, stack string) bool {
	if isGone(ct.State, ct.Removed) {
		return false
	}
	label := strings.ToLower(labelString(ct.Labels, labelStackService))
	if label != "" && label != stackServiceKey(stack, svc.Name) {
		return false
	}
	if slices.Contains(ct.ServiceIds, svc.Id) || slices.Contains(svc.InstanceIds, ct.Id) {
		return true
	}
	return len(ct.ServiceIds) == 0 && label != ""
}

// toMember translates one container of service svc into the domain model.
func toMember(ct client.Container, svc client.Service) mesh.Member {
	return mesh.Member{
		ContainerID: ct.Id,
		Name:        ct.Name,
		Service:     svc.Name,
		ServiceID:   svc.Id,
		IP:          ct.PrimaryIpAddress,
		State:       ct.State,
		HealthState: ct.HealthState,
		CreateIndex: ct.CreateIndex,
		StartCount:  ct.StartCount,
		HostID:      ct.HostId,
	}
}

// compareMembers orders members by CreateIndex, then by container id so
// that the order is total.
func compareMembers(a, b mesh.Member) int {
	return cmp.Or(cmp.Compare(a.CreateIndex, b.CreateIndex), cmp.Compare(a.ContainerID, b.ContainerID))
}

// toService translates a service and the candidate containers into the
// domain model: only containers that belong to it, each once, sorted by
// CreateIndex.
func toService(svc client.Service, stack string, candidates []client.Container) mesh.Service {
	out := mesh.Service{ID: svc.Id, Name: svc.Name, State: svc.State, Scale: svc.Scale, Containers: []mesh.Member{}}
	seen := make(map[string]bool, len(candidates))
	for _, ct := range candidates {
		if seen[ct.Id] || !belongs(ct, svc, stack) {
			continue
		}
		seen[ct.Id] = true
		out.Containers = append(out.Containers, toMember(ct, svc))
	}
	slices.SortFunc(out.Containers, compareMembers)
	return out
}

// containerIndex finds candidate containers of a service quickly: by the
// service's instanceIds, by the containers' serviceIds, and by label.
type containerIndex struct {
	byID      map[string]client.Container
	byService map[string][]string
	byLabel   map[string][]string
}

// newContainerIndex indexes the containers that are not gone.
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
		if l := strings.ToLower(labelString(ct.Labels, labelStackService)); l != "" {
			ix.byLabel[l] = append(ix.byLabel[l], id)
		}
	}
	return ix
}

// candidates returns every container that may belong to svc in stack.
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

// serviceKey identifies a service by stack id and name.
type serviceKey struct{ stackID, name string }

// resolved is what a snapshot found: the stacks by name and the services
// by stack id and name.
type resolved struct {
	stacks   map[string]client.Stack
	services map[serviceKey]client.Service
}

// assemble builds the snapshot from resolved stacks and services and the
// containers found, one mesh.Cluster per configured cluster, services in
// config order. Every configured stack and service must be resolved.
func assemble(refs []ClusterRef, r resolved, cts map[string]client.Container) []mesh.Cluster {
	ix := newContainerIndex(cts)
	out := make([]mesh.Cluster, 0, len(refs))
	for _, ref := range refs {
		st := r.stacks[ref.Stack]
		cl := mesh.Cluster{Name: ref.Name, Stack: ref.Stack, StackID: st.Id, Services: make([]mesh.Service, 0, len(ref.Services))}
		for _, name := range ref.Services {
			svc := r.services[serviceKey{st.Id, name}]
			cl.Services = append(cl.Services, toService(svc, ref.Stack, ix.candidates(svc, ref.Stack)))
		}
		out = append(out, cl)
	}
	return out
}

// matchStacks finds each named stack among the listed ones. A name with
// no live stack is returned in missing; two live stacks of one name is an
// inconsistent answer.
func matchStacks(names []string, stacks []client.Stack) (map[string]client.Stack, []string, error) {
	found := map[string]client.Stack{}
	for _, st := range stacks {
		if !isLive(st.State, st.Removed) || !slices.Contains(names, st.Name) {
			continue
		}
		if prev, dup := found[st.Name]; dup && prev.Id != st.Id {
			return nil, nil, partialf("two live stacks are named %q (%s and %s)", st.Name, prev.Id, st.Id)
		}
		found[st.Name] = st
	}
	var missing []string
	for _, n := range names {
		if _, ok := found[n]; !ok {
			missing = append(missing, n)
		}
	}
	return found, missing, nil
}

// matchServices finds each wanted service among the listed ones, checking
// stack id and name itself (the filters may have been ignored).
func matchServices(want []serviceKey, services []client.Service) (map[serviceKey]client.Service, []serviceKey, error) {
	found := map[serviceKey]client.Service{}
	for _, svc := range services {
		k := serviceKey{svc.StackId, svc.Name}
		if !isLive(svc.State, svc.Removed) || !slices.Contains(want, k) {
			continue
		}
		if prev, dup := found[k]; dup && prev.Id != svc.Id {
			return nil, nil, partialf("two live services are named %q in stack %s (%s and %s)", svc.Name, svc.StackId, prev.Id, svc.Id)
		}
		found[k] = svc
	}
	var missing []serviceKey
	for _, k := range want {
		if _, ok := found[k]; !ok {
			missing = append(missing, k)
		}
	}
	return found, missing, nil
}

// missingInstances returns the instance ids of the services that are not
// among the listed containers, sorted and unique.
func missingInstances(services map[serviceKey]client.Service, listed map[string]client.Container) []string {
	var out []string
	for _, svc := range services {
		for _, id := range svc.InstanceIds {
			if _, ok := listed[id]; !ok {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
