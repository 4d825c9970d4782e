package rancherapi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
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
