package reconcile

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/announce"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// freshFor is how long a decided read may wait for the observer to show
// what it read: two of Cattle's 1 s event ticks and then some. Past it the
// observer has likely missed an event, and a re-list is asked for.
const freshFor = 3 * time.Second

// freshRead is a decided read of an announced container: Rancher's view
// of one IP, newer than an observer's event-fed cache may be.
type freshRead struct {
	announce.Decision
	// base is what the snapshot showed for the IP when the read was first
	// applied: once the snapshot shows anything else, it has news the read
	// cannot know, and the read is dropped.
	base  []mesh.Member
	based bool
	stale bool // a re-list was asked for already
}

// freshReads are the decided reads still waiting for the observer, by IP.
type freshReads map[string]*freshRead

// add keeps decided reads; a newer read of an IP replaces an older one.
func (f freshReads) add(ds []announce.Decision) {
	for _, d := range ds {
		f[d.IP] = &freshRead{Decision: d}
	}
}

// overlay returns snap with the fresh reads applied, so that a pass right
// after a decided announcement acts on what the read saw even when the
// observer answers from a cache that has not seen it yet. A read is
// dropped (for good) when the snapshot agrees with it, when the snapshot
// changed since the read was first applied, or when the snapshot was
// listed after the read (relistedAt, zero when the observer did not
// re-list). touched names the clusters a read changed; stale reports a
// read older than freshFor that the observer still does not show. snap is
// not modified.
func (f freshReads) overlay(snap mesh.Snapshot, relistedAt, now time.Time) (mesh.Snapshot, map[string]bool, bool) {
	for ip, r := range f {
		if !relistedAt.IsZero() && r.ReadAt.Before(relistedAt) {
			delete(f, ip)
		}
	}
	if len(f) == 0 {
		return snap, nil, false
	}
	at := positionsOf(snap, f)
	touched := map[string]bool{}
	stale := false
	var edits []edit
	for _, ip := range slices.Sorted(maps.Keys(f)) {
		r := f[ip]
		cur := membersAt(snap, at[ip])
		if !r.based {
			r.base, r.based = cur, true
		}
		if !slices.Equal(cur, r.base) || agrees(r, cur) {
			delete(f, ip)
			continue
		}
		e, ok := editFor(snap, r, at[ip])
		if !ok {
			delete(f, ip) // its service is not in the snapshot: nothing to place it in
			continue
		}
		edits = append(edits, e...)
		touched[snap.Clusters[e[0].at.cluster].Name] = true
		if now.Sub(r.ReadAt) > freshFor && !r.stale {
			r.stale, stale = true, true
		}
	}
	return applyEdits(snap, edits), touched, stale
}

// edit is one change of a snapshot's containers: replace the container at
// a position, append one to a service (at.container unused), or delete the
// one at a position.
type edit struct {
	at       position
	member   mesh.Member
	add, del bool
}

// editFor turns a read into edits: the read container replaces the one
// with its id, or joins its service; a read that found nothing deletes
// the IP's containers. false when the read's service is not in snap.
func editFor(snap mesh.Snapshot, r *freshRead, ps []position) ([]edit, bool) {
	if !r.Found {
		var out []edit
		for _, p := range ps {
			out = append(out, edit{at: p, del: true})
		}
		return out, len(out) > 0
	}
	for _, p := range ps {
		if snap.Clusters[p.cluster].Services[p.service].Containers[p.container].ContainerID == r.Member.ContainerID {
			return []edit{{at: p, member: r.Member}}, true
		}
	}
	for ci, c := range snap.Clusters {
		for si, s := range c.Services {
			if (r.Member.ServiceID != "" && s.ID == r.Member.ServiceID) || (r.Member.ServiceID == "" && s.Name == r.Member.Service) {
				return []edit{{at: position{ci, si, 0}, member: r.Member, add: true}}, true
			}
		}
	}
	return nil, false
}

// applyEdits returns a copy of snap with the edits made; the clusters and
// services it changes are copied first (snap is shared with the observer),
// and the changed clusters' generations become unknown. Deletions go last,
// from the highest index down, so that every position stays valid.
func applyEdits(snap mesh.Snapshot, edits []edit) mesh.Snapshot {
	if len(edits) == 0 {
		return snap
	}
	out := snap
	out.Clusters = slices.Clone(snap.Clusters)
	owned := map[[2]int]bool{}
	svc := func(p position) *mesh.Service {
		c := &out.Clusters[p.cluster]
		if !owned[[2]int{p.cluster, -1}] {
			c.Services, c.Generation = slices.Clone(c.Services), 0
			owned[[2]int{p.cluster, -1}] = true
		}
		if !owned[[2]int{p.cluster, p.service}] {
			c.Services[p.service].Containers = slices.Clone(c.Services[p.service].Containers)
			owned[[2]int{p.cluster, p.service}] = true
		}
		return &c.Services[p.service]
	}
	var dels []position
	for _, e := range edits {
		switch {
		case e.del:
			dels = append(dels, e.at)
		case e.add:
			s := svc(e.at)
			s.Containers = append(s.Containers, e.member)
		default:
			svc(e.at).Containers[e.at.container] = e.member
		}
	}
	slices.SortFunc(dels, func(a, b position) int {
		return cmp.Or(cmp.Compare(b.cluster, a.cluster), cmp.Compare(b.service, a.service), cmp.Compare(b.container, a.container))
	})
	for _, p := range dels {
		s := svc(p)
		s.Containers = slices.Delete(s.Containers, p.container, p.container+1)
	}
	return out
}

// position is where a container sits in a snapshot.
type position struct{ cluster, service, container int }

// positionsOf finds the containers of the snapshot whose IP has a read.
func positionsOf(snap mesh.Snapshot, f freshReads) map[string][]position {
	at := map[string][]position{}
	for ci, c := range snap.Clusters {
		for si, s := range c.Services {
			for mi, m := range s.Containers {
				if _, ok := f[m.IP]; ok {
					at[m.IP] = append(at[m.IP], position{ci, si, mi})
				}
			}
		}
	}
	return at
}

func membersAt(snap mesh.Snapshot, ps []position) []mesh.Member {
	var out []mesh.Member
	for _, p := range ps {
		out = append(out, snap.Clusters[p.cluster].Services[p.service].Containers[p.container])
	}
	return out
}

// agrees reports whether the snapshot already shows what the read saw.
func agrees(r *freshRead, cur []mesh.Member) bool {
	if !r.Found {
		return len(cur) == 0
	}
	return slices.Contains(cur, r.Member)
}
