package reconcile

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// memory is what passes keep between them; only a pass uses it (under the
// controller's pass lock).
type memory struct {
	passes   int64
	nodes    nodeBook
	clusters map[string]*clusterMemo
	guard    DropGuard
	fresh    freshReads
	role     LeadershipStatus
}

// clusterMemo is what the last pass that recomputed a cluster left: enough
// to leave the cluster alone while nothing about it changes.
type clusterMemo struct {
	cfg        config.Cluster // the settings it was computed with
	generation uint64
	desired    DesiredCluster // after the drop guard
	holds      mesh.PeerSet
	planned    int       // changes planned for it
	wakeAt     time.Time // earliest backoff end among its nodes
	unknown    bool      // a node the plan needs has no status (its read did not start in time)
	members    mesh.PeerSet
}

func newMemory() *memory {
	return &memory{nodes: newNodeBook(), clusters: map[string]*clusterMemo{}, fresh: freshReads{},
		role: LeadershipStatus{Role: RoleLeader, Reason: "no election: the only controller"}}
}

// forget drops what passes kept about clusters that are not in keep: a
// cluster that left the configuration is left alone, and one that comes
// back starts afresh (as after a restart: revisions are clock-based).
func (m *memory) forget(keep map[string]bool) {
	for name := range m.clusters {
		if !keep[name] {
			delete(m.clusters, name)
		}
	}
	for name := range m.nodes.clusters {
		if !keep[name] {
			delete(m.nodes.clusters, name)
		}
	}
	m.guard.Forget(keep)
}

// pass is one run of observe, desire, read, plan, apply. It holds only the
// state of this run.
type pass struct {
	c        *Controller
	mem      *memory
	job      work
	number   int64
	start    time.Time
	log      logr.Logger
	set      ClusterSet               // the clusters this pass manages
	timeouts map[string]time.Duration // per cluster: the bound of one node call
	clusters []clusterWork            // config order
	stale    bool                     // fresh reads wait too long for the observer
	standby  bool                     // the elector says another controller leads
	reconfig bool                     // the source's clusters changed during the pass
	changes  Changes
	reads    int // node statuses read (attempted)
}

// clusterWork is one cluster's part of a pass.
type clusterWork struct {
	cfg       *config.Cluster
	managed   *ManagedCluster
	obs       mesh.Cluster
	recompute bool
	desired   DesiredCluster
	holds     mesh.PeerSet
	changes   Changes
}

// observe takes the snapshot, applies the fresh reads and decides which
// clusters to recompute. Any error aborts the pass (safety rule 1).
func (p *pass) observe(ctx context.Context) error {
	p.mem.fresh.add(p.job.Fresh) // kept even if this pass aborts
	snap, err := p.c.opts.Observer.Snapshot(ctx, p.job.Relist)
	if err != nil {
		return fmt.Errorf("observing rancher: %w", err)
	}
	var relistedAt time.Time
	if p.job.Relist || snap.HoldsLookups {
		relistedAt = p.start // the snapshot holds every read decided before this pass
	}
	snap, touched, stale := p.mem.fresh.overlay(snap, relistedAt, p.start)
	p.stale = stale
	byName := make(map[string]int, len(snap.Clusters))
	for i, c := range snap.Clusters {
		byName[c.Name] = i
	}
	p.elect(snap)
	p.reconfig = p.c.source.Clusters().Revision != p.set.Revision
	announcedIn := clustersWith(snap, p.job.Announced)
	p.clusters = make([]clusterWork, len(p.set.Clusters))
	for i := range p.set.Clusters {
		mc := &p.set.Clusters[i]
		at, ok := byName[mc.Name]
		if !ok {
			return fmt.Errorf("observing rancher: cluster %s: %w", mc.Name, ErrPartialSnapshot)
		}
		w := clusterWork{cfg: &mc.Cluster, managed: mc, obs: snap.Clusters[at]}
		w.recompute = touched[mc.Name] || announcedIn[mc.Name] || p.mustRecompute(w.obs, mc.Cluster)
		p.clusters[i] = w
	}
	return nil
}

// elect asks the elector whether this controller leads. A controller that
// takes over re-reads every node and recomputes every cluster: what it
// knows was not acted on.
func (p *pass) elect(snap mesh.Snapshot) {
	if p.c.opts.Elector == nil {
		return
	}
	e := p.c.opts.Elector.Elect(snap)
	role := RoleStandby
	if e.Leader {
		role = RoleLeader
	}
	was := p.mem.role
	p.mem.role = LeadershipStatus{Role: role, Self: e.Self, Holder: e.Holder, Reason: e.Reason, Since: was.Since}
	if role != was.Role || p.mem.passes == 1 {
		p.mem.role.Since = p.start
		p.log.Info("leadership", "role", role, "self", e.Self, "leader", e.Holder, "reason", e.Reason, "was", was.Role)
	}
	p.standby = !e.Leader
	if e.Leader && was.Role != RoleLeader {
		p.job.Full = true
	}
}

// mustRecompute reports whether a cluster needs this pass: anything but an
// event-like pass over data of the generation the last pass saw, with the
// same settings, and nothing planned, held or waiting for a backoff.
func (p *pass) mustRecompute(obs mesh.Cluster, cfg config.Cluster) bool {
	m := p.mem.clusters[obs.Name]
	return p.job.Full || m == nil || obs.Generation == 0 || obs.Generation != m.generation || !reflect.DeepEqual(m.cfg, cfg) ||
		m.planned > 0 || len(m.holds) > 0 || m.unknown || (!m.wakeAt.IsZero() && !p.start.Before(m.wakeAt))
}

// clustersWith names the clusters that hold a container with one of ips.
func clustersWith(snap mesh.Snapshot, ips []string) map[string]bool {
	if len(ips) == 0 {
		return nil
	}
	want := make(map[string]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
	out := map[string]bool{}
	for _, c := range snap.Clusters {
		for _, s := range c.Services {
			for _, m := range s.Containers {
				if want[m.IP] {
					out[c.Name] = true
				}
			}
		}
	}
	return out
}

// desire computes the desired mesh of each recomputed cluster, holds
// sudden drops, and aligns the node book with it; the others keep their
// last desired mesh.
func (p *pass) desire() {
	announced := make(map[string]bool, len(p.job.Announced))
	for _, ip := range p.job.Announced {
		announced[ip] = true
	}
	for i := range p.clusters {
		w := &p.clusters[i]
		if !w.recompute {
			w.desired = p.mem.clusters[w.cfg.Name].desired
			continue
		}
		w.desired, w.holds = p.mem.guard.GuardCluster(desireCluster(*w.cfg, w.obs))
		p.mem.nodes.sync(w.desired, announced)
		p.logMembers(w)
	}
}

// logMembers logs members added and removed since the cluster was last
// recomputed, and a held drop. The first time, one line per cluster.
func (p *pass) logMembers(w *clusterWork) {
	names := w.desired.MemberNames()
	m := p.mem.clusters[w.cfg.Name]
	name := w.cfg.Name
	if m == nil {
		p.log.Info("cluster observed", "cluster", name, "members", len(names))
	} else {
		for _, n := range names.Minus(m.members) {
			p.log.Info("member added", "cluster", name, "node", n)
		}
		for _, n := range m.members.Minus(names) {
			p.log.Info("member removed", "cluster", name, "node", n)
		}
	}
	if len(w.holds) > 0 {
		prev := 0
		if m != nil {
			prev = len(m.members)
		}
		p.log.Info("holding a sudden drop for a confirming pass", "cluster", name, "nodes", w.holds.Strings(), "members", prev)
	}
}

// logRefused logs, once per node, a member of a bounded-degree cluster
// that is refused its peers because it runs with connect_all true: when
// it is refused and the cluster's last computed mesh did not refuse it.
func (p *pass) logRefused(w *clusterWork) {
	refused := w.desired.Refused()
	if len(refused) == 0 {
		return
	}
	var before mesh.PeerSet
	if m := p.mem.clusters[w.cfg.Name]; m != nil {
		before = m.desired.Refused()
	}
	for _, n := range refused.Minus(before) {
		p.log.Info("refusing a bounded topology to a node that runs with connect_all true: it gets no peers until it runs with -kernel connect_all false",
			"cluster", w.cfg.Name, "node", n, "topology", w.desired.Topology, "degree", w.desired.Degree)
	}
}

// plan calculates each recomputed cluster's changes from the node book,
// through its policy.
func (p *pass) plan() {
	opts := PlanOptions{MinRevision: ClockRevision(p.start), CheckConnections: p.job.Full}
	now := p.c.opts.Now()
	for i := range p.clusters {
		w := &p.clusters[i]
		if !w.recompute {
			continue
		}
		observed := make(map[mesh.NodeName]mesh.NodeStatus, len(w.desired.Members)+len(w.desired.Departing))
		for _, n := range w.desired.Members {
			if st := p.mem.nodes.get(n.Endpoint).known(now); st != nil {
				observed[n.Endpoint.Node] = *st
			}
		}
		for _, n := range w.desired.Departing {
			if st := p.mem.nodes.get(n.Endpoint).known(now); st != nil {
				observed[n.Endpoint.Node] = *st
			}
		}
		w.desired = ExcludeTransitive(w.desired, observed)
		p.logRefused(w)
		w.changes = PolicyFor(w.desired.Policy).Apply(CalculateCluster(w.desired, observed, opts))
		p.changes.Leave = append(p.changes.Leave, w.changes.Leave...)
		p.changes.SetPeers = append(p.changes.SetPeers, w.changes.SetPeers...)
	}
	sortChanges(p.changes.Leave)
	sortChanges(p.changes.SetPeers)
}

// result remembers what the pass computed and returns it for the status
// builder, with the pass's outcome for the scheduler.
func (p *pass) result(err error) (passResult, outcome) {
	now := p.c.opts.Now()
	r := passResult{number: p.number, job: p.job, start: p.start, err: err, changes: p.changes.Len(), reads: p.reads,
		clusters: make([]clusterResult, len(p.clusters)), set: p.set, role: p.mem.role}
	var o outcome
	o.StaleReads = p.stale
	o.Reconfigured = p.reconfig
	planned := p.planned()
	for i, w := range p.clusters {
		cr := clusterResult{managed: w.managed, desired: w.desired, holds: w.holds, recomputed: w.recompute}
		if w.recompute {
			p.mem.clusters[w.cfg.Name] = &clusterMemo{cfg: *w.cfg, generation: w.obs.Generation, desired: w.desired, holds: w.holds,
				planned: w.changes.Len(), wakeAt: p.mem.nodes.wakeAt(w.cfg.Name, now), unknown: p.unknown(w.desired, now),
				members: w.desired.MemberNames()}
			cr.nodes = p.views(w.desired, now, planned)
		}
		m := p.mem.clusters[w.cfg.Name]
		o.HeldDrop = o.HeldDrop || len(m.holds) > 0
		wake := m.wakeAt
		if m.unknown {
			// A status read that did not start in time (or a backoff that
			// ended while the pass ran): the next pass reads it, now, rather
			// than at the next drift pass.
			wake = now
		}
		if !wake.IsZero() && (o.WakeAt.IsZero() || wake.Before(o.WakeAt)) {
			o.WakeAt = wake
		}
		r.clusters[i] = cr
	}
	return r, o
}

// unknown reports whether a node the plan needs has no status while not
// backing off: a read that did not start within StatusTimeout. The next
// pass reads it again.
func (p *pass) unknown(d DesiredCluster, now time.Time) bool {
	for _, m := range d.Members {
		if f := p.mem.nodes.get(m.Endpoint); !m.Held && f != nil && f.status == nil && !f.backingOff(now) {
			return true
		}
	}
	for _, n := range d.Departing {
		if f := p.mem.nodes.get(n.Endpoint); mayBeAlive(n.Container.State) && f != nil && f.status == nil && !f.backingOff(now) {
			return true
		}
	}
	return false
}

// views are what the status shows of a cluster's nodes.
func (p *pass) views(d DesiredCluster, now time.Time, planned map[mesh.Endpoint]*PlannedChange) map[mesh.NodeName]nodeView {
	out := make(map[mesh.NodeName]nodeView, len(d.Members)+len(d.Departing))
	for _, n := range slices.Concat(d.Members, d.Departing) {
		v := p.mem.nodes.get(n.Endpoint).view(now)
		v.plan = planned[n.Endpoint]
		out[n.Endpoint.Node] = v
	}
	return out
}

// planned returns the changes this pass planned and did not send, by node:
// it stands by, or runs dry.
func (p *pass) planned() map[mesh.Endpoint]*PlannedChange {
	var why string
	switch {
	case p.standby:
		why = RoleStandby
	case p.c.opts.DryRun:
		why = "dry-run"
	default:
		return nil
	}
	out := map[mesh.Endpoint]*PlannedChange{}
	for _, ch := range slices.Concat(p.changes.Leave, p.changes.SetPeers) {
		out[ch.Endpoint] = &PlannedChange{Action: ch.Action, Reason: ch.Reason, Revision: ch.Revision, Peers: ch.Peers,
			Added: ch.Added, Removed: ch.Removed, NotSentBecause: why}
	}
	return out
}

// useClusters takes the clusters this pass manages from the source, and
// forgets what passes kept about clusters that left.
func (p *pass) useClusters() {
	p.set = p.c.useClusters()
	p.mem.forget(p.set.names())
	p.timeouts = make(map[string]time.Duration, len(p.set.Clusters))
	for _, mc := range p.set.Clusters {
		p.timeouts[mc.Name] = p.c.opts.CallTimeout
		if p.c.opts.CallTimeout <= 0 {
			p.timeouts[mc.Name] = CallTimeoutFor(mc.Admin.Timeout.Duration)
		}
	}
}

// callContext bounds one call to a node of cluster.
func (p *pass) callContext(ctx context.Context, cluster string) (context.Context, context.CancelFunc) {
	d := p.timeouts[cluster]
	if d <= 0 {
		d = CallTimeoutFor(config.DefaultAdminTimeout)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// run is the pass: observe, desire, read statuses, plan, apply, re-read
// what the changes may have connected. It returns the result for the
// status builder, the outcome for the scheduler, and the pass's error:
// Rancher could not be observed (nothing was done), or some nodes could
// not be read or changed (the others were).
func (p *pass) run(ctx context.Context) (passResult, outcome, error) {
	p.useClusters()
	if err := p.observe(ctx); err != nil {
		return passResult{number: p.number, job: p.job, start: p.start, err: err, aborted: true, set: p.set, role: p.mem.role},
			outcome{Aborted: true, Reconfigured: p.reconfig}, err
	}
	p.desire()
	readErr := p.readStatuses(ctx)
	p.plan()
	var applyErr error
	switch {
	case p.c.opts.DryRun:
		logPlan(p.log, p.changes, "dry run: would change node", 0)
	case p.standby:
		logPlan(p.log, p.changes, "standby: would change node", 1)
	default:
		applyErr = errors.Join(p.apply(ctx), p.refresh(ctx))
	}
	err := errors.Join(readErr, applyErr)
	r, o := p.result(err)
	return r, o, err
}
