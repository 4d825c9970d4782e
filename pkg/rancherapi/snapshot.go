package rancherapi

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// maxByID bounds the by-id reads of one snapshot: the instance ids of the
// configured services that the cache does not hold (removed in between,
// created after the list, or shifted across an offset page boundary) and
// the objects to read again (see cache.go). More than that means the
// lists cannot be trusted, never that the members are gone.
const maxByID = 20

// maxSettleRounds bounds the rounds of by-id reads that settle objects an
// event made ambiguous: each round reads them again, and an object that
// changes during every one of them fails the snapshot (transient).
const maxSettleRounds = 3

// Snapshot returns every configured cluster with all its non-removed
// containers, or an error; never a partial snapshot. It implements
// reconcile.Observer. With relist false it answers from the cache when the
// cache is complete (see cache.go), which costs no request; otherwise, and
// with relist true (the reconciler's resync), it lists Rancher first.
// Concurrent calls share work: one snapshot runs, one more is queued (it
// lists if any of its callers asked to), and each caller gets a snapshot
// started after its call.
//
// Cost of a list: one list of stacks, one of services and one of
// containers, each unfiltered (the cache holds the whole environment) and
// followed through its pages (Options.PageSize rows a page). On top of it,
// from a list or the cache: at most maxByID by-id reads (instances a
// service names that the cache lacks, objects an event made ambiguous),
// and, when the member sources disagree (see judge.go), one more list of
// services. The count is in Snapshot.Requests.
func (c *Client) Snapshot(ctx context.Context, relist bool) (mesh.Snapshot, error) {
	return c.flights.do(ctx, relist, c.snapshot)
}

func (c *Client) snapshot(ctx context.Context, relist bool) (mesh.Snapshot, error) {
	p := &pass{}
	snap, err := c.observe(ctx, p, relist || !c.cache.complete())
	if err != nil {
		return mesh.Snapshot{}, scrub(err, c.secrets()...)
	}
	snap.Requests = p.requests
	return snap, nil
}

// observe lists when asked to, settles what events made ambiguous, and
// answers from the cache. Missing data is never taken for an empty or
// smaller service:
//
//   - a configured stack or service that the cache lacks is looked up once
//     more by name before it is declared missing (a terminal error);
//   - an instance a service names that the cache lacks is read by id;
//   - member sources that disagree get the services read again (their
//     instanceIds are computed when rendered, so a container created after
//     the service was read is named now), then, if the answer came from the
//     cache, everything is listed again;
//   - whatever still disagrees, or a service with scale > 0 and no member
//     that no instanceIds confirm, fails the snapshot (transient).
func (c *Client) observe(ctx context.Context, p *pass, relist bool) (mesh.Snapshot, error) {
	if relist {
		if err := c.relist(ctx, p); err != nil {
			return mesh.Snapshot{}, err
		}
	}
	if err := c.settle(ctx, p, relist); err != nil {
		return mesh.Snapshot{}, err
	}
	refs := c.clusterRefs()
	servicesRead := false
	for range 8 {
		v, err := c.view(refs)
		switch {
		case err != nil:
			return mesh.Snapshot{}, err
		case v.memo != nil:
			return *v.memo, nil
		case len(v.missingStacks) > 0 || len(v.missingServices) > 0:
			err = c.lookUpNames(ctx, p, v)
		case len(v.missing) > maxByID && !relist:
			err, relist = c.relist(ctx, p), true
		case len(v.missing) > maxByID:
			return mesh.Snapshot{}, partialf("listing containers: rancher at %s listed %d fewer containers than the services' instanceIds name (%s...); the answer is inconsistent, will retry",
				c.url.ProjectURL(), len(v.missing), strings.Join(v.missing[:3], ","))
		case len(v.missing) > 0:
			err = c.readAll(ctx, p, kindContainer, v.missing)
		case len(v.j.doubts) > 0 && !servicesRead:
			err, servicesRead = c.relistServices(ctx, p), true
		case len(v.j.doubts) > 0 && !relist:
			err, relist = c.relist(ctx, p), true
		case len(v.j.doubts) > 0:
			return mesh.Snapshot{}, v.j.err(c.url.ProjectURL())
		case c.cache.hasRechecks():
			err = c.settle(ctx, p, relist) // a read above met an event
		default:
			return c.finish(refs, v), nil
		}
		if err != nil {
			return mesh.Snapshot{}, err
		}
	}
	return mesh.Snapshot{}, partialf("reading members: rancher at %s kept changing while it was read; will retry", c.url.ProjectURL())
}

// relist lists the three collections, in turn, into the cache. A list that
// ran entirely within one connection of the event stream makes the cache
// complete.
func (c *Client) relist(ctx context.Context, p *pass) error {
	c.cache.mu.Lock()
	epoch := c.cache.epoch
	c.cache.mu.Unlock()
	if err := relistTable(ctx, c, p, &c.cache.stacks); err != nil {
		return err
	}
	if err := c.relistServices(ctx, p); err != nil {
		return err
	}
	if err := relistTable(ctx, c, p, &c.cache.containers); err != nil {
		return err
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if c.cache.epoch == epoch {
		c.cache.listed, c.cache.listedAt = true, epoch
	}
	c.cache.ever = true
	c.cache.collectTombstonesLocked()
	return nil
}

func (c *Client) relistServices(ctx context.Context, p *pass) error {
	return relistTable(ctx, c, p, &c.cache.services)
}

// relistTable lists one collection and installs it as a full list. The
// rows go straight from the pages into the map the cache installs.
func relistTable[T listed[T]](ctx context.Context, c *Client, p *pass, t *table[T]) error {
	c.cache.mu.Lock()
	byID := make(map[string]T, len(t.objs))
	c.cache.mu.Unlock()
	from := c.cache.beginRead()
	err := listOn(ctx, c, c.rc, p, "listing "+t.kind.String()+"s", t.kind.String(), c.listFilters(nil), func(r T) { byID[r.key()] = r })
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.endReadLocked(from)
	if err != nil {
		return err
	}
	install(c.cache, t, byID, readVersion(from, c.cache.position()))
	return nil
}

// offerRows offers the rows of a read that is not a full list (a narrow
// lookup, a targeted list): present objects only, since what such a read
// lacks says nothing. The caller holds the cache's mu.
func offerRows[T listed[T]](c *cache, t *table[T], rows []T, v version) {
	for _, r := range rows {
		offer(c, t, r.key(), r, r.removed(), v)
	}
}

// listed is a wire type the cache holds.
type listed[T any] interface {
	object[T]
	key() string
	removed() bool
}

func (s stack) key() string     { return s.ID }
func (s service) key() string   { return s.ID }
func (c container) key() string { return c.ID }

func (s stack) removed() bool     { return isGone(s.State, s.Removed) }
func (s service) removed() bool   { return isGone(s.State, s.Removed) }
func (c container) removed() bool { return isGone(c.State, c.Removed) }

// settle reads by id the objects an event made ambiguous (see cache.go),
// in rounds; more than maxByID of them are listed again instead, once.
func (c *Client) settle(ctx context.Context, p *pass, listed bool) error {
	for range maxSettleRounds {
		keys := c.cache.rechecks()
		switch {
		case len(keys) == 0:
			return nil
		case len(keys) > maxByID && !listed:
			if err := c.relist(ctx, p); err != nil {
				return err
			}
			listed = true
			continue
		case len(keys) > maxByID:
			return partialf("reading rancher at %s: %d objects changed while they were listed, too many to read again one by one; will retry", c.url.ProjectURL(), len(keys))
		}
		for _, k := range keys {
			if err := c.readAll(ctx, p, k.kind, []string{k.id}); err != nil {
				return err
			}
		}
	}
	if keys := c.cache.rechecks(); len(keys) > 0 {
		return partialf("reading rancher at %s: %s %s kept changing while it was read; will retry", c.url.ProjectURL(), keys[0].kind, keys[0].id)
	}
	return nil
}

// hasRechecks reports whether an object waits for a by-id read.
func (c *cache) hasRechecks() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recheck) > 0
}

// rechecks returns the objects waiting for a by-id read, sorted.
func (c *cache) rechecks() []objKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]objKey, 0, len(c.recheck))
	for k := range c.recheck {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b objKey) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

// readAll reads objects of one kind by id, one after the other, into the
// cache: a 404 or a removed object is gone.
func (c *Client) readAll(ctx context.Context, p *pass, k kind, ids []string) error {
	for _, id := range ids {
		var err error
		switch k {
		case kindStack:
			_, _, err = readOne(ctx, c, p, &c.cache.stacks, id)
		case kindService:
			_, _, err = readOne(ctx, c, p, &c.cache.services, id)
		default:
			_, _, err = readOne(ctx, c, p, &c.cache.containers, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readOne reads one object by id into the cache; found is false on a 404.
func readOne[T listed[T]](ctx context.Context, c *Client, p *pass, t *table[T], id string) (T, bool, error) {
	from := c.cache.beginRead()
	obj, found, err := byID[T](ctx, c, p, t.kind.String(), id)
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.endReadLocked(from)
	if err != nil {
		return obj, false, err
	}
	offer(c.cache, t, id, obj, !found || obj.removed(), readVersion(from, c.cache.position()))
	return obj, found, nil
}

// lookUpNames looks the configured stacks and services the cache lacks up
// by name, so that a page boundary shifting under concurrent changes
// cannot make one "not exist"; what is still missing is a terminal error.
func (c *Client) lookUpNames(ctx context.Context, p *pass, v view) error {
	for _, name := range v.missingStacks {
		if err := lookUp(ctx, c, p, &c.cache.stacks, c.listStacks, map[string]string{"name": name}); err != nil {
			return err
		}
		if _, still, _ := matchStacks([]string{name}, c.cache.liveStacks()); len(still) > 0 {
			return terminal(fmt.Errorf("stack %q not found in the Rancher environment at %s: check spec.clusters[].stack in the config and that the API key belongs to this environment", name, c.url.ProjectURL()))
		}
	}
	for _, k := range v.missingServices {
		if err := lookUp(ctx, c, p, &c.cache.services, c.listServices, map[string]string{"stackId": k.stackID, "name": k.name}); err != nil {
			return err
		}
		if _, still, _ := matchServices([]serviceKey{k}, c.cache.liveServices()); len(still) > 0 {
			return terminal(fmt.Errorf("service %q not found in stack %s of the Rancher environment at %s: check spec.clusters[].services in the config", k.name, stackName(v.r.stacks, k.stackID), c.url.ProjectURL()))
		}
	}
	return nil
}

// lookUp runs a narrow list and offers what it found.
func lookUp[T listed[T]](ctx context.Context, c *Client, p *pass, t *table[T], fetch func(context.Context, *pass, map[string]string) ([]T, error), filters map[string]string) error {
	from := c.cache.beginRead()
	rows, err := fetch(ctx, p, filters)
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.endReadLocked(from)
	if err != nil {
		return err
	}
	offerRows(c.cache, t, rows, readVersion(from, c.cache.position()))
	return nil
}

func (c *cache) liveStacks() []stack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return liveValues(&c.stacks)
}

func (c *cache) liveServices() []service {
	c.mu.Lock()
	defer c.mu.Unlock()
	return liveValues(&c.services)
}

func stackIDs(stacks map[string]stack) []string {
	var out []string
	for _, st := range stacks {
		out = append(out, st.ID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func stackName(stacks map[string]stack, id string) string {
	for name, st := range stacks {
		if st.ID == id {
			return fmt.Sprintf("%q (%s)", name, id)
		}
	}
	return id
}
