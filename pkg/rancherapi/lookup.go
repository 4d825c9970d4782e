package rancherapi

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// maxLookupIPs bounds the IPs of one ContainersByIP call (the reconciler
// batches at most a few dozen).
const maxLookupIPs = 1000

// svcInStack is a resolved configured service and its stack's name.
type svcInStack struct {
	svc   service
	stack string
}

// ContainersByIP reads the containers of the configured services whose
// primary IP is one of ips, for the fast path after nodes announce
// themselves; an IP without such a container is absent from the map. It
// implements reconcile.ContainerLookup.
//
// Cattle cannot filter containers by IP (primaryIpAddress is computed, not
// a column), so the call reads by what Cattle does filter and sort, and
// checks every row here with the member sources (belongs):
//
//   - for an IP whose container the cache knows: one
//     name_prefix=<stack>-<service>- list of its service (older Cattle
//     named containers <stack>_<service>_<n>, which is followed), or one
//     name_prefix=<stack>- list of the whole stack when that takes fewer
//     pages; a known container named like neither is read by id;
//   - for an IP the cache does not know (a container announced before its
//     creation event arrived): one page of the newest containers
//     (sort=id&order=desc; Cattle's ids grow), which settles it when it
//     reaches containers the cache already held; otherwise (a scale-up
//     larger than the page, or a sort Cattle did not honour) the services
//     that are growing or changing are listed by name, or else every
//     configured service.
//
// What it reads goes into the cache, so the next snapshot sees a joiner
// without a list. The cost is O(configured services), never O(IPs): a
// scale-up of 50 containers at once is one or two requests.
func (c *Client) ContainersByIP(ctx context.Context, ips []string) (map[string]mesh.Member, error) {
	if len(ips) > maxLookupIPs {
		return nil, terminal(fmt.Errorf("looking up containers: %d IPs in one call, at most %d", len(ips), maxLookupIPs))
	}
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			return nil, terminal(fmt.Errorf("looking up containers: %s is not an IP address", quote(ip)))
		}
	}
	p := &pass{}
	out, err := c.containersByIP(ctx, p, ips)
	return out, scrub(err, c.secrets()...)
}

func (c *Client) containersByIP(ctx context.Context, p *pass, ips []string) (map[string]mesh.Member, error) {
	if len(ips) == 0 {
		return map[string]mesh.Member{}, nil
	}
	if !c.cache.installed() {
		if _, err := c.Snapshot(ctx, false); err != nil {
			return nil, err
		}
	}
	pl, err := c.planLookup(ips)
	if err != nil {
		return nil, err
	}
	var rows []container
	targets := pl.placed
	if len(pl.unplaced) > 0 {
		got, conclusive, err := c.lookUpNewest(ctx, p, len(pl.unplaced))
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
		if !conclusive && !foundAll(pl.unplaced, got) {
			targets = append(targets, c.fallbackTargets(pl.services)...)
		}
	}
	if len(pl.byID) > maxByID {
		if err := relistTable(ctx, c, p, &c.cache.containers); err != nil {
			return nil, err
		}
		return pl.answer(ips, c.cache.liveContainers()), nil
	}
	for _, prefix := range c.prefixes(dedupServices(targets)) {
		got, err := c.lookUpContainers(ctx, p, map[string]string{"name_prefix": prefix})
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	for _, id := range pl.byID {
		ct, found, err := readOne(ctx, c, p, &c.cache.containers, id)
		if err != nil {
			return nil, err
		}
		if found {
			rows = append(rows, ct)
		}
	}
	return pl.answer(ips, rows), nil
}

// answer picks, for each IP, the container of a configured service among
// rows with that primary IP: a running one first, then the newest.
func (pl lookupPlan) answer(ips []string, rows []container) map[string]mesh.Member {
	want := make(map[string]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
	out := map[string]mesh.Member{}
	for _, ct := range rows {
		if !want[ct.PrimaryIP] || ct.removed() {
			continue
		}
		for _, s := range pl.services {
			if !belongs(ct, s.svc, s.stack) {
				continue
			}
			m := toMember(ct, s.svc)
			if old, ok := out[ct.PrimaryIP]; !ok || betterMatch(m, old) {
				out[ct.PrimaryIP] = m
			}
		}
	}
	return out
}

// foundAll reports whether rows hold a container for each IP.
func foundAll(ips []string, rows []container) bool {
	for _, ip := range ips {
		if !slices.ContainsFunc(rows, func(ct container) bool { return ct.PrimaryIP == ip }) {
			return false
		}
	}
	return true
}

// newestPage sizes the newest-containers read: four rows for each IP it
// must settle (a scale-up brings at most that many new containers to
// step over), plus 20 to reach containers the cache held; one page
// whatever the environment's size.
func newestPage(unplaced, pageSize int) int { return min(pageSize, 20+4*unplaced) }

// lookUpNewest reads the most recently created containers (ids
// descending: Cattle's ids grow) into the cache, for IPs the cache does
// not know yet: a container announced before its creation event arrived
// is among them. conclusive reports that the page reached containers the
// cache held before (so every newer one was read) or the environment's
// end, with the ids in the order asked for (Cattle honoured the sort).
func (c *Client) lookUpNewest(ctx context.Context, p *pass, unplaced int) ([]container, bool, error) {
	limit := newestPage(unplaced, c.opts.PageSize)
	filters := c.listFilters(map[string]string{"sort": "id", "order": "desc"})
	filters["limit"] = fmt.Sprint(limit)
	from := c.cache.beginRead()
	rows, next, err := firstPage[container](ctx, c, p, "listing the newest containers", schemaContainer, filters)
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.endReadLocked(from)
	if err != nil {
		return nil, false, err
	}
	sorted, reachedKnown := true, false
	for i, ct := range rows {
		if i > 0 && dbID(ct.ID) >= dbID(rows[i-1].ID) {
			sorted = false
		}
		if _, ok := c.cache.containers.get(ct.ID); ok {
			reachedKnown = true
		}
	}
	offerRows(c.cache, &c.cache.containers, rows, readVersion(from, c.cache.position()))
	return rows, sorted && (reachedKnown || (next == "" && len(rows) < limit)), nil
}

// dbID is the number in a Cattle id ("1i123" -> 123); -1 when there is none.
func dbID(id string) int64 {
	i := strings.LastIndexFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	n, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// fallbackTargets are the services to list for IPs the newest containers
// did not settle: the growing ones, or else every configured service.
func (c *Client) fallbackTargets(services []svcInStack) []svcInStack {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if g := growing(services, c.cache.ix); len(g) > 0 {
		return g
	}
	return services
}

// betterMatch prefers, among containers sharing an IP, a running one,
// then the newest.
func betterMatch(m, than mesh.Member) bool {
	if (m.State == "running") != (than.State == "running") {
		return m.State == "running"
	}
	return m.CreateIndex > than.CreateIndex
}

// lookupPlan is what one ContainersByIP call reads.
type lookupPlan struct {
	services []svcInStack // the configured services the cache resolves
	placed   []svcInStack // the services of the IPs the cache knows
	unplaced []string     // IPs the cache knows no container of a configured service with
	byID     []string     // known containers no prefix list covers
}

// planLookup decides the reads from the cache (see ContainersByIP).
func (c *Client) planLookup(ips []string) (lookupPlan, error) {
	refs := c.clusterRefs()
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	var pl lookupPlan
	stacks, _, err := matchStacks(stackNames(refs.list), liveValues(&c.cache.stacks))
	if err != nil {
		return pl, err
	}
	services, _, err := matchServices(wantServices(refs.list, stacks), liveValues(&c.cache.services))
	if err != nil {
		return pl, err
	}
	for _, ref := range refs.list {
		for _, name := range ref.Services {
			if svc, ok := services[serviceKey{stacks[ref.Stack].ID, name}]; ok && !slices.ContainsFunc(pl.services, func(s svcInStack) bool { return s.svc.ID == svc.ID }) {
				pl.services = append(pl.services, svcInStack{svc, ref.Stack})
			}
		}
	}
	c.placeIPs(c.cache.containers.live(), ips, &pl)
	return pl, nil
}

// placeIPs finds the configured service of each IP the cache knows (in
// config order), and marks for a by-id read a known container no prefix
// of its service covers; the other IPs are unplaced.
func (c *Client) placeIPs(cts map[string]container, ips []string, pl *lookupPlan) {
	want := make(map[string]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
	placed, in := map[string]bool{}, map[string]bool{}
	for _, ct := range cts {
		if !want[ct.PrimaryIP] {
			continue
		}
		for _, s := range pl.services {
			if !belongs(ct, s.svc, s.stack) {
				continue
			}
			placed[ct.PrimaryIP], in[s.svc.ID] = true, true
			if !hasPrefix(ct.Name, servicePrefix(s, "-")) && !hasPrefix(ct.Name, servicePrefix(s, "_")) {
				pl.byID = append(pl.byID, ct.ID)
			}
		}
	}
	slices.Sort(pl.byID)
	for _, s := range pl.services {
		if in[s.svc.ID] {
			pl.placed = append(pl.placed, s)
		}
	}
	for _, ip := range ips {
		if !placed[ip] && !slices.Contains(pl.unplaced, ip) {
			pl.unplaced = append(pl.unplaced, ip)
		}
	}
}

// growing returns the services that may hold a container the cache has
// not seen yet: not active (being upgraded, restarted, activated...), or
// with fewer containers that may be peers than their scale.
func growing(services []svcInStack, ix containerIndex) []svcInStack {
	var out []svcInStack
	for _, s := range services {
		live := 0
		for _, ct := range ix.candidates(s.svc, s.stack) {
			if mayBePeer(ct.State) && belongs(ct, s.svc, s.stack) {
				live++
			}
		}
		if s.svc.State != "active" || int64(live) < s.svc.Scale {
			out = append(out, s)
		}
	}
	return out
}

// prefixes returns the name_prefix lists that cover the target services:
// per stack, one per service, or one for the whole stack when that takes
// fewer pages (estimated from the cache).
func (c *Client) prefixes(targets []svcInStack) []string {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	ix, cts := c.cache.ix, c.cache.containers.live()
	byStack := map[string][]svcInStack{}
	var stacks []string
	for _, s := range targets {
		if _, ok := byStack[s.stack]; !ok {
			stacks = append(stacks, s.stack)
		}
		byStack[s.stack] = append(byStack[s.stack], s)
	}
	var out []string
	for _, st := range stacks {
		ss := byStack[st]
		sep := separator(ss[0], ix)
		inStack := 0
		for _, ct := range cts {
			if hasPrefix(ct.Name, st+sep) {
				inStack++
			}
		}
		if pages := inStack/c.opts.PageSize + 1; pages < len(ss) {
			out = append(out, st+sep)
			continue
		}
		for _, s := range ss {
			out = append(out, servicePrefix(s, separator(s, ix)))
		}
	}
	return out
}

// separator returns how the service's containers are named: "-" (Rancher
// 1.2 and later: <stack>-<service>-<n>) unless the cache holds one named
// with "_" (older Cattle: <stack>_<service>_<n>).
func separator(s svcInStack, ix containerIndex) string {
	for _, ct := range ix.candidates(s.svc, s.stack) {
		if hasPrefix(ct.Name, servicePrefix(s, "_")) {
			return "_"
		}
	}
	return "-"
}

func servicePrefix(s svcInStack, sep string) string { return s.stack + sep + s.svc.Name + sep }

func hasPrefix(name, prefix string) bool {
	return len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

func dedupServices(ss []svcInStack) []svcInStack {
	var out []svcInStack
	for _, s := range ss {
		if !slices.ContainsFunc(out, func(o svcInStack) bool { return o.svc.ID == s.svc.ID }) {
			out = append(out, s)
		}
	}
	return out
}

// lookUpContainers runs a targeted list of containers and offers its rows
// to the cache.
func (c *Client) lookUpContainers(ctx context.Context, p *pass, filters map[string]string) ([]container, error) {
	from := c.cache.beginRead()
	rows, err := c.listContainers(ctx, p, filters)
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.endReadLocked(from)
	if err != nil {
		return nil, err
	}
	offerRows(c.cache, &c.cache.containers, rows, readVersion(from, c.cache.position()))
	return rows, nil
}

// installed reports whether a full list was ever installed.
func (c *cache) installed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ever
}

func (c *cache) liveContainers() []container {
	c.mu.Lock()
	defer c.mu.Unlock()
	return liveValues(&c.containers)
}

// liveValues returns a table's live objects sorted by id; the caller
// holds the cache's mu.
func liveValues[T object[T]](t *table[T]) []T {
	live := t.live()
	out := make([]T, 0, len(live))
	for _, id := range sortedKeys(live) {
		out = append(out, live[id])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
