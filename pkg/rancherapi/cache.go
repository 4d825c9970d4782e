package rancherapi

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// The cache holds every stack, service and container of the environment
// in their slim form (wire.go), fed by lists, by-id reads and the event
// stream's resource.change events, each of which carries the whole object
// as Cattle renders it at send time: applying one replaces the object, and
// a removed object leaves the cache (a tombstone remembers it, see below).
//
// # Ordering
//
// Every event gets a sequence number when the stream reader receives it;
// a read (a list, a page run or a by-id read) notes the last number before
// it starts and the last one when its answer is in. An observation is thus
// a point (an event) or an interval (a read) in the stream's order, and
// offering one to the cache compares it with what the cache holds:
//
//	new \ held     event u                read (s', t']
//	event v        v >= u: newer          v <= s': older; v > t': newer; else ambiguous
//	read (s, t]    u <= s: newer;         t >= t': newer (no event between them:
//	               u > t: older;          either is right until the next event)
//	               else ambiguous
//
// Events from one stream keep their order. An event received before a read
// started was rendered before it: the read is newer. An event received
// after the read's answer is applied (Cattle renders at send time, and any
// later change brings another event). An event received while the read
// ran may be older or newer than what the read saw: the cache does not
// guess; it keeps the event (or the value it held) and marks the object to
// be read again by id (recheck) before the next snapshot is answered.
//
// # Tombstones
//
// A removed object becomes a tombstone carrying the version of the
// observation that removed it, so that an older observation (a list that
// started before the removal, an event still queued) cannot bring it back.
// Tombstones also tell the snapshot that a container a service's cached
// instanceIds still name is gone, without a by-id read. They are dropped
// after a full list once no read in flight and no queued event is older.
//
// # Completeness
//
// The cache answers snapshots only when complete: the event stream is
// connected, and a full list ran entirely after the stream's last
// (re)connect and after the last lost event (the bounded queue between
// reader and applier overflowed). Otherwise a snapshot lists first.

// kind is one of the collections the cache holds.
type kind uint8

const (
	kindStack kind = iota
	kindService
	kindContainer
)

// String returns the Cattle schema of the kind.
func (k kind) String() string {
	return [...]string{schemaStack, schemaService, schemaContainer}[k]
}

// objKey names one object of the cache.
type objKey struct {
	kind kind
	id   string
}

// version places an observation in the stream's order: an event at seq
// (from == to), or a read that ran between from (exclusive) and to.
type version struct {
	from, to uint64
	read     bool
}

func eventVersion(seq uint64) version     { return version{from: seq, to: seq} }
func readVersion(from, to uint64) version { return version{from: from, to: to, read: true} }

// order is how a new observation compares with the held one.
type order uint8

const (
	older order = iota
	newer
	ambiguous
)

// compareVersions compares a new observation n with the held one h (see
// the table in the file comment).
func compareVersions(n, h version) order {
	switch {
	case !n.read && !h.read:
		if n.to >= h.to {
			return newer
		}
		return older
	case !n.read:
		switch {
		case n.to <= h.from:
			return older
		case n.to > h.to:
			return newer
		}
		return ambiguous
	case !h.read:
		switch {
		case h.to <= n.from:
			return newer
		case h.to > n.to:
			return older
		}
		return ambiguous
	default:
		if n.to >= h.to {
			return newer
		}
		return older
	}
}

// object is what a table holds: a slim wire type that can tell whether
// another observation of it carries the same data.
type object[T any] interface {
	same(T) bool
}

// row is one object of a table, or its tombstone (gone).
type row[T object[T]] struct {
	obj  T
	ver  version
	gone bool
}

// table is one collection: rows by id (tombstones included), and the live
// objects by id, kept alongside so that a snapshot reads them without a
// copy. onSet, if set, is told of every change of a live object.
type table[T object[T]] struct {
	kind  kind
	rows  map[string]*row[T]
	objs  map[string]T
	onSet func(id string, old *T, cur *T)
}

func newTable[T object[T]](k kind) table[T] {
	return table[T]{kind: k, rows: map[string]*row[T]{}, objs: map[string]T{}}
}

// live returns the live objects by id. The map is the table's own: the
// caller holds the cache's mu while it reads it and never changes it.
func (t *table[T]) live() map[string]T { return t.objs }

// get returns a live object.
func (t *table[T]) get(id string) (T, bool) {
	obj, ok := t.objs[id]
	return obj, ok
}

// set records the live value of id (nil: none) and tells onSet.
func (t *table[T]) set(id string, cur *T) {
	old, had := t.objs[id]
	if cur == nil && !had {
		return
	}
	if cur == nil {
		delete(t.objs, id)
	} else {
		t.objs[id] = *cur
	}
	if t.onSet != nil {
		var oldp *T
		if had {
			oldp = &old
		}
		t.onSet(id, oldp, cur)
	}
}

// cache is the store. Its fields are guarded by mu, except seq.
type cache struct {
	// seq numbers received events; reads note it (see version).
	seq atomic.Uint64
	// losses counts the times events were dropped.
	losses atomic.Int64

	mu         sync.Mutex
	stacks     table[stack]
	services   table[service]
	containers table[container]
	// ix indexes the live containers by the services they name (kept by
	// the containers table's onSet).
	ix containerIndex
	// claims is claimsOf the live services, rebuilt after they change.
	claims      map[string][]string
	claimsStale bool
	tombstones  int
	// recheck: objects to read again by id, each with the stream position
	// a read must start after to settle it.
	recheck map[objKey]uint64
	// reads: the start positions of the reads in flight (position -> count).
	reads map[uint64]int
	// applied is the seq of the last event the applier handled.
	applied uint64
	// changes counts every change of the cached data.
	changes uint64

	up       bool   // the event stream is connected
	epoch    uint64 // bumped on every connect, disconnect and lost event
	listed   bool   // a full list was installed in epoch listedAt
	listedAt uint64
	ever     bool // a full list was ever installed
}

// Bounds of the cache's bookkeeping; beyond either the cache is not
// trusted (incomplete) until the next full list, which resets both.
const (
	// maxTombstones bounds the removed objects remembered between lists:
	// far more than any environment removes between two resyncs.
	maxTombstones = 100_000
	// maxRechecks bounds the objects waiting for a by-id read.
	maxRechecks = 10_000
)

func newCache() *cache {
	c := &cache{
		stacks: newTable[stack](kindStack), services: newTable[service](kindService),
		containers: newTable[container](kindContainer),
		recheck:    map[objKey]uint64{}, reads: map[uint64]int{},
	}
	c.ix = newContainerIndex(c.containers.objs)
	c.containers.onSet = c.ix.update
	c.services.onSet = func(string, *service, *service) { c.claimsStale = true }
	c.claimsStale = true
	return c
}

// claimsLocked returns which live services name each container in their
// instanceIds; all are the live services.
func (c *cache) claimsLocked(all []service) map[string][]string {
	if c.claimsStale {
		c.claims, c.claimsStale = claimsOf(all), false
	}
	return c.claims
}

// position returns the stream position now, for a read's bounds.
func (c *cache) position() uint64 { return c.seq.Load() }

// beginRead registers a read starting now and returns its start; endRead
// must follow.
func (c *cache) beginRead() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := c.seq.Load()
	c.reads[from]++
	return from
}

// endRead unregisters a read; the caller holds mu.
func (c *cache) endReadLocked(from uint64) {
	if c.reads[from]--; c.reads[from] <= 0 {
		delete(c.reads, from)
	}
}

// complete reports whether the cache may answer a snapshot.
func (c *cache) complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.completeLocked()
}

func (c *cache) completeLocked() bool {
	return c.up && c.listed && c.listedAt == c.epoch
}

// invalidateLocked makes the cache incomplete until the next full list.
func (c *cache) invalidateLocked() { c.epoch++ }

// connected records a (re)connect of the event stream: nothing that
// happened while it was down was seen, so a full list is due.
func (c *cache) connected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = true
	c.invalidateLocked()
}

// disconnected records that the event stream is down: snapshots list.
func (c *cache) disconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = false
	c.invalidateLocked()
}

// lost records that events were dropped (the queue overflowed).
func (c *cache) lost() {
	c.losses.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidateLocked()
}

// markRecheckLocked asks for object key to be read again by a read that
// starts after position after.
func (c *cache) markRecheckLocked(key objKey, after uint64) {
	if prev, ok := c.recheck[key]; !ok || after > prev {
		c.recheck[key] = after
	}
	if len(c.recheck) > maxRechecks {
		c.invalidateLocked()
	}
}

// settleRecheckLocked drops the recheck of key when v is newer than what
// made it ambiguous.
func (c *cache) settleRecheckLocked(key objKey, v version) {
	after, ok := c.recheck[key]
	if !ok {
		return
	}
	if (!v.read && v.to > after) || (v.read && v.from >= after) {
		delete(c.recheck, key)
	}
}

// offer records one observation of object id in t: obj, or its absence
// when gone. It reports whether the cached data changed.
func offer[T object[T]](c *cache, t *table[T], id string, obj T, gone bool, v version) bool {
	key := objKey{t.kind, id}
	c.settleRecheckLocked(key, v)
	r := t.rows[id]
	if r == nil {
		t.rows[id] = &row[T]{obj: obj, ver: v, gone: gone}
		if gone {
			c.addTombstoneLocked()
			return false
		}
		t.set(id, &obj)
		c.changes++
		return true
	}
	switch compareVersions(v, r.ver) {
	case older:
		return false
	case ambiguous:
		c.markRecheckLocked(key, max(v.to, r.ver.to))
		if v.read {
			return false // keep what is held; the recheck decides
		}
	}
	changed := r.gone != gone || (!gone && !r.obj.same(obj))
	switch {
	case gone && !r.gone:
		c.addTombstoneLocked()
	case !gone && r.gone:
		c.tombstones--
	}
	r.obj, r.ver, r.gone = obj, v, gone
	if changed {
		if gone {
			t.set(id, nil)
		} else {
			t.set(id, &obj)
		}
		c.changes++
	}
	return changed
}

func (c *cache) addTombstoneLocked() {
	if c.tombstones++; c.tombstones > maxTombstones {
		c.invalidateLocked()
	}
}

// install offers a full list of t read at v: every listed object, and the
// absence of every held object the list lacks. An object that was present
// and is missing without any event saying so is, when there are at most
// maxByID of them, marked for a by-id read rather than dropped (an offset
// page that shifted under a concurrent removal skips a row); beyond that
// the list is believed (after a long disconnect, many were removed).
func install[T listed[T]](c *cache, t *table[T], list map[string]T, v version) {
	for id, obj := range list {
		offer(c, t, id, obj, obj.removed(), v)
	}
	var unconfirmed []string
	for id, r := range t.rows {
		if _, ok := list[id]; ok || r.gone {
			continue
		}
		switch compareVersions(v, r.ver) {
		case newer:
			unconfirmed = append(unconfirmed, id)
		case ambiguous:
			c.markRecheckLocked(objKey{t.kind, id}, max(v.to, r.ver.to))
		}
	}
	if len(unconfirmed) <= maxByID {
		for _, id := range unconfirmed {
			c.markRecheckLocked(objKey{t.kind, id}, v.to)
		}
		return
	}
	var zero T
	for _, id := range unconfirmed {
		offer(c, t, id, zero, true, v)
	}
}

// collectTombstonesLocked drops the tombstones no read in flight and no
// queued event can be older than.
func (c *cache) collectTombstonesLocked() {
	limit := c.applied
	for from := range c.reads {
		limit = min(limit, from)
	}
	collect(c, &c.stacks, limit)
	collect(c, &c.services, limit)
	collect(c, &c.containers, limit)
}

func collect[T object[T]](c *cache, t *table[T], limit uint64) {
	for id, r := range t.rows {
		if r.gone && r.ver.to <= limit {
			delete(t.rows, id) // a tombstone has no live object
			c.tombstones--
		}
	}
}

// same implementations: whether two observations carry the same data.

func (s stack) same(o stack) bool { return s == o }

func (s service) same(o service) bool {
	return s.ID == o.ID && s.Type == o.Type && s.Name == o.Name && s.StackID == o.StackID &&
		s.State == o.State && s.Removed == o.Removed && s.Scale == o.Scale &&
		(s.InstanceIDs == nil) == (o.InstanceIDs == nil) && slices.Equal(s.InstanceIDs, o.InstanceIDs) &&
		maps.Equal(s.LaunchConfig.Labels, o.LaunchConfig.Labels)
}

func (c container) same(o container) bool {
	return c.ID == o.ID && c.Name == o.Name && c.State == o.State && c.Removed == o.Removed &&
		c.HealthState == o.HealthState && c.PrimaryIP == o.PrimaryIP && c.CreateIndex == o.CreateIndex &&
		c.StartCount == o.StartCount && c.HostID == o.HostID && c.StackID == o.StackID &&
		c.ServiceID == o.ServiceID && slices.Equal(c.ServiceIDs, o.ServiceIDs) && c.Labels == o.Labels
}
