package reconcile

import (
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// nodeBook is what the controller knows about each node between passes:
// its last status, its backoff, its last push, and which container run it
// belongs to. Entries are grouped by cluster, so that a pass that leaves a
// cluster alone never walks its nodes. Only passes use it (under the
// controller's pass lock).
type nodeBook struct {
	clusters map[string]map[mesh.NodeName]*nodeFacts
}

// nodeFacts is one node's entry. Statuses and push results are values
// that are replaced, never mutated: a Status built from them may share
// them.
type nodeFacts struct {
	container containerKey
	member    bool             // a member at the last sync (else departing)
	status    *mesh.NodeStatus // nil: unknown, read it
	failures  int              // consecutive failed calls
	until     time.Time        // calls held back until then
	lastPush  *PushResult
}

// containerKey identifies one run of a container: a new id or start count
// means the node behind a name restarted, and what was known is void.
type containerKey struct {
	id     string
	starts int64
}

func newNodeBook() nodeBook {
	return nodeBook{clusters: map[string]map[mesh.NodeName]*nodeFacts{}}
}

// sync aligns a cluster's entries with its desired nodes: a node whose
// container changed, or that announced itself, starts from nothing; a node
// that turned member ends its backoff (calls that failed while its
// container was still starting, refused before the agent listens, must
// not hold back its join); nodes that are gone are forgotten.
func (b nodeBook) sync(dc DesiredCluster, announced map[string]bool) {
	old := b.clusters[dc.Name]
	cur := make(map[mesh.NodeName]*nodeFacts, len(dc.Members)+len(dc.Departing))
	add := func(n DesiredNode, member bool) {
		key := containerKey{n.Container.ContainerID, n.Container.StartCount}
		f := old[n.Endpoint.Node]
		switch {
		case f == nil:
			f = &nodeFacts{container: key}
		case f.container != key || announced[n.Container.IP]:
			f = &nodeFacts{container: key, lastPush: f.lastPush} // the last push stays on show
		case member && !f.member:
			f.failures, f.until = 0, time.Time{}
		}
		f.member = member
		cur[n.Endpoint.Node] = f
	}
	for _, n := range dc.Members {
		add(n, true)
	}
	for _, n := range dc.Departing {
		add(n, false)
	}
	b.clusters[dc.Name] = cur
}

// get returns a node's entry; nil for a node the book does not hold.
func (b nodeBook) get(ep mesh.Endpoint) *nodeFacts { return b.clusters[ep.Cluster][ep.Node] }

// backingOff reports whether calls to the node are held back at now.
func (f *nodeFacts) backingOff(now time.Time) bool { return f != nil && now.Before(f.until) }

// known returns the status a plan can rely on: nil when unknown or while
// the node backs off.
func (f *nodeFacts) known(now time.Time) *mesh.NodeStatus {
	if f == nil || f.backingOff(now) {
		return nil
	}
	return f.status
}

// answered records a status the node reported; its backoff ends.
func (f *nodeFacts) answered(st mesh.NodeStatus) {
	f.status, f.failures, f.until = &st, 0, time.Time{}
}

// failed records a failed call at now: the status is unknown, and calls
// back off exponentially.
func (f *nodeFacts) failed(now time.Time, base, limit time.Duration) {
	f.status = nil
	f.failures++
	f.until = now.Add(backoffDelay(f.failures, base, limit))
}

// wakeAt is the earliest backoff end after now among a cluster's nodes;
// zero when none backs off.
func (b nodeBook) wakeAt(cluster string, now time.Time) time.Time {
	var next time.Time
	for _, f := range b.clusters[cluster] {
		if f.backingOff(now) && (next.IsZero() || f.until.Before(next)) {
			next = f.until
		}
	}
	return next
}

// view is what the status shows of a node.
func (f *nodeFacts) view(now time.Time) nodeView {
	if f == nil {
		return nodeView{}
	}
	v := nodeView{observed: f.status, lastPush: f.lastPush}
	if f.backingOff(now) {
		v.backoffUntil = f.until
	}
	return v
}
