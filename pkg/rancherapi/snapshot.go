package rancherapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// maxByID bounds the by-id reads of one snapshot: the instance ids of the
// configured services that the container list did not hold (removed in
// between, or shifted across an offset page boundary). More than that
// means the list cannot be trusted, never that the members are gone.
const maxByID = 20

// Snapshot returns every configured cluster with all its non-removed
// containers, or an error; never a partial snapshot. It implements
// reconcile.Observer. Concurrent calls share work: one snapshot runs, one
// more is queued, and each caller gets a snapshot started after its call.
//
// Cost: a list of stacks, a list of services and a list of containers,
// each followed through its pages (Options.PageSize rows a page), plus at
// most maxByID by-id reads; when the answer must be checked (see observe),
// one more list of containers and one more of services. The count is in
// Snapshot.Requests.
func (c *Client) Snapshot(ctx context.Context) (mesh.Snapshot, error) {
	return c.flights.do(ctx, c.snapshot)
}

func (c *Client) snapshot(ctx context.Context) (mesh.Snapshot, error) {
	p := &pass{}
	r, j, err := c.observe(ctx, p)
	if err != nil {
		return mesh.Snapshot{}, scrub(err, c.secrets()...)
	}
	snap := mesh.Snapshot{Clusters: j.clusters, TakenAt: time.Now(), Requests: p.requests}
	c.remember(newLookupCache(c.opts.Clusters, r, snap))
	return snap, nil
}

// observe reads the configured stacks, services and containers and judges
// them. Missing data is never taken for an empty or smaller service:
//
//   - a container list narrowed by stackId that leaves a configured
//     service without a member, with fewer members than its scale, or with
//     sources that disagree is read again without the filter (Cattle
//     honours a filter on a column even where the column is empty, as it is
//     on containers of older servers);
//   - sources that still disagree get the services read again (their
//     instanceIds are computed when rendered, so a container created
//     between the two lists is named now) and the containers they name;
//   - whatever still disagrees, or a service with scale > 0 and no member
//     that no instanceIds confirm, fails the snapshot (transient).
func (c *Client) observe(ctx context.Context, p *pass) (resolved, judgement, error) {
	r, err := c.resolve(ctx, p)
	if err != nil {
		return resolved{}, judgement{}, err
	}
	cts, filtered, err := c.containers(ctx, p, r)
	if err != nil {
		return resolved{}, judgement{}, err
	}
	j := judge(c.opts.Clusters, r, cts)
	if filtered && (len(j.doubts) > 0 || len(j.short) > 0) {
		all, err := c.listContainerMap(ctx, p, nil)
		if err != nil {
			return resolved{}, judgement{}, err
		}
		if err := c.readMissing(ctx, p, r, all); err != nil {
			return resolved{}, judgement{}, err
		}
		ja := judge(c.opts.Clusters, r, all)
		if hiddenMembers(ja, cts) > 0 {
			c.noStackFilter.Store(true) // the filter hid members: no longer use it
		}
		cts, j = all, ja
	}
	if len(j.doubts) > 0 {
		if r.services, r.claims, err = c.resolveServices(ctx, p, r.stacks, c.wantServices(r.stacks)); err != nil {
			return resolved{}, judgement{}, err
		}
		if err := c.readMissing(ctx, p, r, cts); err != nil {
			return resolved{}, judgement{}, err
		}
		j = judge(c.opts.Clusters, r, cts)
		if err := j.err(c.url.ProjectURL()); err != nil {
			return resolved{}, judgement{}, err
		}
	}
	return r, j, nil
}

// hiddenMembers counts the members of j that are not among listed.
func hiddenMembers(j judgement, listed map[string]client.Container) int {
	n := 0
	for _, cl := range j.clusters {
		for _, m := range cl.Members() {
			if _, ok := listed[m.ContainerID]; !ok {
				n++
			}
		}
	}
	return n
}

// stackNames returns the distinct configured stack names, in config order.
func (c *Client) stackNames() []string {
	var out []string
	for _, ref := range c.opts.Clusters {
		if !slices.Contains(out, ref.Stack) {
			out = append(out, ref.Stack)
		}
	}
	return out
}

// resolve finds the configured stacks and services by name. A name that
// is not in the list is looked up once more with a narrow filter before it
// is declared missing (a terminal error), so that a page boundary shifting
// under concurrent changes cannot make a service "not exist".
func (c *Client) resolve(ctx context.Context, p *pass) (resolved, error) {
	stacks, err := c.resolveStacks(ctx, p, c.stackNames())
	if err != nil {
		return resolved{}, err
	}
	services, claims, err := c.resolveServices(ctx, p, stacks, c.wantServices(stacks))
	if err != nil {
		return resolved{}, err
	}
	return resolved{stacks: stacks, services: services, claims: claims}, nil
}

// wantServices lists the configured services by stack id, each once.
func (c *Client) wantServices(stacks map[string]client.Stack) []serviceKey {
	var want []serviceKey
	for _, ref := range c.opts.Clusters {
		for _, s := range ref.Services {
			if k := (serviceKey{stacks[ref.Stack].Id, s}); !slices.Contains(want, k) {
				want = append(want, k)
			}
		}
	}
	return want
}

func (c *Client) resolveStacks(ctx context.Context, p *pass, names []string) (map[string]client.Stack, error) {
	extra := map[string]string{}
	if len(names) == 1 {
		extra["name"] = names[0]
	}
	list, err := c.listStacks(ctx, p, extra)
	if err != nil {
		return nil, err
	}
	found, missing, err := matchStacks(names, list)
	if err != nil {
		return nil, err
	}
	for _, name := range missing {
		again, err := c.listStacks(ctx, p, map[string]string{"name": name})
		if err != nil {
			return nil, err
		}
		m, still, err := matchStacks([]string{name}, again)
		if err != nil {
			return nil, err
		}
		if len(still) > 0 {
			return nil, terminal(fmt.Errorf("stack %q not found in the Rancher environment at %s: check spec.clusters[].stack in the config and that the API key belongs to this environment", name, c.url.ProjectURL()))
		}
		found[name] = m[name]
	}
	return found, nil
}

// resolveServices finds the wanted services and, from every live service
// listed, which containers they name (see resolved.claims).
func (c *Client) resolveServices(ctx context.Context, p *pass, stacks map[string]client.Stack, want []serviceKey) (map[serviceKey]client.Service, map[string][]string, error) {
	extra := map[string]string{}
	if ids := stackIDs(stacks); len(ids) == 1 {
		extra["stackId"] = ids[0]
	}
	list, err := c.listServices(ctx, p, extra)
	if err != nil {
		return nil, nil, err
	}
	found, missing, err := matchServices(want, list)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range missing {
		again, err := c.listServices(ctx, p, map[string]string{"stackId": k.stackID, "name": k.name})
		if err != nil {
			return nil, nil, err
		}
		m, still, err := matchServices([]serviceKey{k}, again)
		if err != nil {
			return nil, nil, err
		}
		if len(still) > 0 {
			return nil, nil, terminal(fmt.Errorf("service %q not found in stack %s of the Rancher environment at %s: check spec.clusters[].services in the config", k.name, stackName(stacks, k.stackID), c.url.ProjectURL()))
		}
		found[k] = m[k]
		list = append(list, m[k])
	}
	return found, claimsOf(list), nil
}

// containers returns the non-removed containers that may belong to the
// resolved services, by id, and whether the list was narrowed by stackId.
// The list is narrowed when a single stack is configured; every service's
// instanceIds must then be found in it, read by id, or confirmed gone.
// When the narrowed list lacks many of them, the stackId filter is not
// reliable here (Cattle may leave the column empty on containers): the
// list is done again unfiltered, and later snapshots no longer use the
// filter.
func (c *Client) containers(ctx context.Context, p *pass, r resolved) (map[string]client.Container, bool, error) {
	extra := map[string]string{}
	if ids := stackIDs(r.stacks); len(ids) == 1 && !c.noStackFilter.Load() {
		extra["stackId"] = ids[0]
	}
	byID, err := c.listContainerMap(ctx, p, extra)
	if err != nil {
		return nil, false, err
	}
	if missing := missingInstances(r.services, byID); len(extra) > 0 && (len(missing) > maxByID || 2*len(missing) > instanceCount(r.services)) {
		c.noStackFilter.Store(true)
		if byID, err = c.listContainerMap(ctx, p, nil); err != nil {
			return nil, false, err
		}
		extra = nil
	}
	if err := c.readMissing(ctx, p, r, byID); err != nil {
		return nil, false, err
	}
	return byID, len(extra) > 0, nil
}

// readMissing reads by id the instances the services name that byID
// lacks (removed in between, created after the list, or shifted across an
// offset page boundary) and adds those that are not gone. More than
// maxByID of them means the list cannot be trusted.
func (c *Client) readMissing(ctx context.Context, p *pass, r resolved, byID map[string]client.Container) error {
	missing := slices.DeleteFunc(missingInstances(r.services, byID), func(id string) bool { return p.gone[id] })
	if len(missing) > maxByID {
		return partialf("listing containers: rancher at %s listed %d fewer containers than the services' instanceIds name (%s...); the answer is inconsistent, will retry",
			c.url.ProjectURL(), len(missing), strings.Join(missing[:3], ","))
	}
	for _, id := range missing {
		ct, err := c.containerByID(ctx, p, id)
		if err != nil {
			return err
		}
		if ct == nil || isGone(ct.State, ct.Removed) {
			if p.gone == nil {
				p.gone = map[string]bool{}
			}
			p.gone[id] = true
			continue
		}
		byID[ct.Id] = *ct
	}
	return nil
}

func (c *Client) listContainerMap(ctx context.Context, p *pass, extra map[string]string) (map[string]client.Container, error) {
	list, err := c.listContainers(ctx, p, extra)
	if err != nil {
		return nil, err
	}
	out := make(map[string]client.Container, len(list))
	for _, ct := range list {
		if !isGone(ct.State, ct.Removed) {
			out[ct.Id] = ct
		}
	}
	return out, nil
}

func stackIDs(stacks map[string]client.Stack) []string {
	var out []string
	for _, st := range stacks {
		out = append(out, st.Id)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func stackName(stacks map[string]client.Stack, id string) string {
	for name, st := range stacks {
		if st.Id == id {
			return fmt.Sprintf("%q (%s)", name, id)
		}
	}
	return id
}

// instanceCount is the number of instance ids the services name.
func instanceCount(services map[serviceKey]client.Service) int {
	n := 0
	for _, svc := range services {
		n += len(svc.InstanceIds)
	}
	return n
}
