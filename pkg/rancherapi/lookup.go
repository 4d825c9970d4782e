package rancherapi

import (
	"context"
	"fmt"
	"net"
	"slices"
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
// a column), so the call lists by name, which Cattle filters: one
// name_prefix=<stack>-<service>- list per configured service that may hold
// one of the IPs (the service of the container the cache knows with that
// IP; for an IP the cache does not know, the services that are growing or
// changing, or else every configured service), or one
// name_prefix=<stack>- list of the whole stack when that takes fewer
// pages. Every row is checked here with the member sources (belongs).
// What it reads updates the cache, so the next snapshot sees a joiner
// without a list. A container the cache knows whose name follows neither
// form (older Cattle named containers <stack>_<service>_<n>, which is
// also tried) is read by id. The cost is O(configured services), never
// O(IPs): a scale-up of 50 containers of one service is one request.
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
	out := map[string]mesh.Member{}
	if len(ips) == 0 {
		return out, nil
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
	if len(pl.byID) > maxByID || pl.full {
		if err := relistTable(ctx, c, p, &c.cache.containers, c.listContainers); err != nil {
			return nil, err
		}
		rows = c.cache.liveContainers()
	} else {
		for _, prefix := range pl.prefixes {
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
	}
	want := make(map[string]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
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
	return out, nil
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
	prefixes []string     // name_prefix lists
	byID     []string     // containers no prefix list covers
	full     bool         // list every container instead
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
	cts, ix := c.cache.containers.live(), c.cache.ix
	targets, unplaced := c.placeIPs(pl.services, cts, ips, &pl)
	if unplaced {
		targets = append(targets, growing(pl.services, ix)...)
		if len(targets) == 0 {
			targets = pl.services
		}
	}
	pl.prefixes = c.prefixes(dedupServices(targets), ix, cts)
	return pl, nil
}

// placeIPs finds the configured service of each IP the cache knows (in
// config order), and marks for a by-id read a known container no prefix
// of its service covers; unplaced reports an IP the cache does not know.
func (c *Client) placeIPs(services []svcInStack, cts map[string]container, ips []string, pl *lookupPlan) ([]svcInStack, bool) {
	want := make(map[string]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
	placed, in := map[string]bool{}, map[string]bool{}
	for _, ct := range cts {
		if !want[ct.PrimaryIP] {
			continue
		}
		for _, s := range services {
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
	var targets []svcInStack
	for _, s := range services {
		if in[s.svc.ID] {
			targets = append(targets, s)
		}
	}
	return targets, len(placed) < len(want)
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
func (c *Client) prefixes(targets []svcInStack, ix containerIndex, cts map[string]container) []string {
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
