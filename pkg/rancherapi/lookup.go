package rancherapi

import (
	"context"
	"fmt"
	"net"
	"slices"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// lookupPageSize is the limit of the fast lookup: enough for the few
// containers that can share an IP, small enough that an ignored filter
// costs little.
const lookupPageSize = 20

// svcInStack is a resolved configured service and its stack's name.
type svcInStack struct {
	svc   client.Service
	stack string
}

// lookupCache is what ContainerByIP keeps from the last good snapshot: the
// configured services and the IP of each container seen.
type lookupCache struct {
	r        resolved
	services []svcInStack
	ipOf     map[string]string
}

func newLookupCache(refs []ClusterRef, r resolved, snap mesh.Snapshot) *lookupCache {
	lc := &lookupCache{r: r, services: configuredServices(refs, r), ipOf: map[string]string{}}
	for _, cl := range snap.Clusters {
		for _, m := range cl.Members() {
			lc.ipOf[m.ContainerID] = m.IP
		}
	}
	return lc
}

// configuredServices lists the resolved services in config order.
func configuredServices(refs []ClusterRef, r resolved) []svcInStack {
	var out []svcInStack
	for _, ref := range refs {
		for _, name := range ref.Services {
			if svc, ok := r.services[serviceKey{r.stacks[ref.Stack].Id, name}]; ok {
				out = append(out, svcInStack{svc, ref.Stack})
			}
		}
	}
	return out
}

func (c *Client) remember(lc *lookupCache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = lc
}

// cache returns the last lookup cache, resolving stacks and services when
// no snapshot has succeeded yet.
func (c *Client) cache(ctx context.Context, p *pass) (*lookupCache, error) {
	c.mu.Lock()
	lc := c.last
	c.mu.Unlock()
	if lc != nil {
		return lc, nil
	}
	r, err := c.resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	return newLookupCache(c.opts.Clusters, r, mesh.Snapshot{}), nil
}

// findByIP picks, among cts, the container with this primary IP that
// belongs to one of services: a running one first, then the newest.
func findByIP(cts []client.Container, ip string, services []svcInStack) (mesh.Member, bool) {
	var best mesh.Member
	found := false
	for _, ct := range cts {
		if ct.PrimaryIpAddress != ip {
			continue
		}
		for _, s := range services {
			if !belongs(ct, s.svc, s.stack) {
				continue
			}
			m := toMember(ct, s.svc)
			if !found || betterMatch(m, best) {
				best, found = m, true
			}
		}
	}
	return best, found
}

func betterMatch(m, than mesh.Member) bool {
	if (m.State == "running") != (than.State == "running") {
		return m.State == "running"
	}
	return m.CreateIndex > than.CreateIndex
}

// ContainerByIP returns the non-removed container of a configured service
// whose primary IP is ip; ok is false when there is none. It implements
// reconcile.ContainerLookup and is the fast path after a node announces
// itself: one filtered list request, whose result is checked here because
// Cattle may ignore the primaryIpAddress filter. When the filter was not
// honoured it falls back to the services' instanceIds: one services list
// and a by-id read of each instance whose IP is not known from the last
// snapshot (a full container list if there are more than a few).
func (c *Client) ContainerByIP(ctx context.Context, ip string) (mesh.Member, bool, error) {
	if net.ParseIP(ip) == nil {
		return mesh.Member{}, false, terminal(fmt.Errorf("looking up container: %q is not an IP address", ip))
	}
	p := &pass{}
	m, ok, err := c.containerByIP(ctx, p, ip)
	return m, ok, scrub(err, c.secrets()...)
}

func (c *Client) containerByIP(ctx context.Context, p *pass, ip string) (mesh.Member, bool, error) {
	lc, err := c.cache(ctx, p)
	if err != nil {
		return mesh.Member{}, false, err
	}
	filters := c.pageFilters(map[string]string{"primaryIpAddress": ip})
	filters["limit"] = fmt.Sprint(lookupPageSize)
	page, err := c.containerPage(ctx, p, filters)
	if err != nil {
		return mesh.Member{}, false, err
	}
	if m, ok := findByIP(page.Data, ip, lc.services); ok {
		return m, true, nil
	}
	if filterHonoured(page, ip) && !slices.ContainsFunc(page.Data, func(ct client.Container) bool { return ct.PrimaryIpAddress == ip }) {
		return mesh.Member{}, false, nil
	}
	return c.containerByIPSlow(ctx, p, ip, lc)
}

// filterHonoured reports whether a one-page answer to a primaryIpAddress
// filter is conclusive: every row has that IP and there is no next page.
func filterHonoured(page *client.ContainerCollection, ip string) bool {
	if page.Pagination != nil && (page.Pagination.Next != "" || page.Pagination.Partial) {
		return false
	}
	for _, ct := range page.Data {
		if ct.PrimaryIpAddress != ip {
			return false
		}
	}
	return true
}

// containerByIPSlow re-reads the configured services and checks the
// instances whose IP the last snapshot did not know (or knew as ip).
func (c *Client) containerByIPSlow(ctx context.Context, p *pass, ip string, lc *lookupCache) (mesh.Member, bool, error) {
	var want []serviceKey
	for k := range lc.r.services {
		want = append(want, k)
	}
	extra := map[string]string{}
	if ids := stackIDs(lc.r.stacks); len(ids) == 1 {
		extra["stackId"] = ids[0]
	}
	list, err := c.listServices(ctx, p, extra)
	if err != nil {
		return mesh.Member{}, false, err
	}
	found, _, err := matchServices(want, list)
	if err != nil {
		return mesh.Member{}, false, err
	}
	fresh := configuredServices(c.opts.Clusters, resolved{stacks: lc.r.stacks, services: found})
	var ids []string
	for _, s := range fresh {
		for _, id := range s.svc.InstanceIds {
			if known, ok := lc.ipOf[id]; !ok || known == ip {
				ids = append(ids, id)
			}
		}
	}
	var cts []client.Container
	if len(ids) > maxByID {
		if cts, err = c.listContainers(ctx, p, nil); err != nil {
			return mesh.Member{}, false, err
		}
	}
	for i := 0; i < len(ids) && len(ids) <= maxByID; i++ {
		ct, err := c.containerByID(ctx, p, ids[i])
		if err != nil {
			return mesh.Member{}, false, err
		}
		if ct != nil {
			cts = append(cts, *ct)
		}
	}
	m, ok := findByIP(cts, ip, fresh)
	return m, ok, nil
}
