package rancherapi

import (
	"cmp"
	"slices"
	"strings"

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

// stackServiceKey is the label value of a primary container of svc in stack.
func stackServiceKey(stack, svc string) string {
	return strings.ToLower(stack + "/" + svc)
}

// toMember translates one container of service svc into the domain model.
func toMember(ct container, svc service) mesh.Member {
	return mesh.Member{
		ContainerID: ct.ID,
		Name:        ct.Name,
		Service:     svc.Name,
		ServiceID:   svc.ID,
		IP:          ct.PrimaryIP,
		State:       ct.State,
		HealthState: ct.HealthState,
		CreateIndex: ct.CreateIndex,
		StartCount:  ct.StartCount,
		HostID:      ct.HostID,
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
func matchStacks(names []string, stacks []stack) (map[string]stack, []string, error) {
	found := map[string]stack{}
	for _, st := range stacks {
		if !isLive(st.State, st.Removed) || !slices.Contains(names, st.Name) {
			continue
		}
		if prev, dup := found[st.Name]; dup && prev.ID != st.ID {
			return nil, nil, partialf("two live stacks are named %q (%s and %s)", st.Name, prev.ID, st.ID)
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
func matchServices(want []serviceKey, services []service) (map[serviceKey]service, []serviceKey, error) {
	found := map[serviceKey]service{}
	wanted := make(map[serviceKey]bool, len(want))
	for _, k := range want {
		wanted[k] = true
	}
	for _, svc := range services {
		k := serviceKey{svc.StackID, svc.Name}
		if !isLive(svc.State, svc.Removed) || !wanted[k] {
			continue
		}
		if prev, dup := found[k]; dup && prev.ID != svc.ID {
			return nil, nil, partialf("two live services are named %q in stack %s (%s and %s)", svc.Name, svc.StackID, prev.ID, svc.ID)
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
func missingInstances(services map[serviceKey]service, listed map[string]container) []string {
	var out []string
	for _, svc := range services {
		for _, id := range svc.InstanceIDs {
			if _, ok := listed[id]; !ok {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
