package announce

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Decide reports whether Rancher's view of an announced container settles
// the announcement. found is false when no configured container has the
// IP.
type Decide func(event string, m mesh.Member, found bool) bool

// Decision is an announcement that a read settled.
type Decision struct {
	IP, Event string
	// Member is the container Rancher reported; Found is false when none
	// has the IP.
	Member mesh.Member
	Found  bool
	// ReadAt is when the deciding read started: Rancher's view is at least
	// that recent.
	ReadAt time.Time
}

// Read is the outcome of one read that Take asked for.
type Read struct {
	// IPs and Started are what Take returned and when.
	IPs     []string
	Started time.Time
	// Found holds the containers Rancher reported, by IP.
	Found map[string]mesh.Member
	// Err is the read's error; no announcement is decided by a failed read.
	Err error
}

// follow is one followed IP: its latest announcement and the next offset
// of the plan still to read.
type follow struct {
	event string
	at    time.Time
	step  int
}

// Tracker is the follow-up state machine of announcements. It is not safe
// for concurrent use: one owner (the scheduler) calls it, passing the time.
type Tracker struct {
	plan    Plan
	decide  Decide
	pending map[string]*follow
	bucket  bucket
	reading bool
}

// New returns a Tracker following plan (zero fields take their defaults),
// or an error for a plan whose offsets are not increasing.
func New(plan Plan, decide Decide) (*Tracker, error) {
	p, err := plan.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Tracker{plan: p, decide: decide, pending: map[string]*follow{},
		bucket: bucket{rate: p.Rate, burst: float64(p.Burst)}}, nil
}

// Announce records an announcement of ip at now and starts the plan again
// from its first offset. It returns false, and records nothing, for an
// unknown event or when MaxPending IPs are followed already.
func (t *Tracker) Announce(now time.Time, event, ip string) bool {
	if event != EventUp && event != EventStopping {
		return false
	}
	f, ok := t.pending[ip]
	if !ok {
		if len(t.pending) >= t.plan.MaxPending {
			return false
		}
		f = &follow{}
		t.pending[ip] = f
	}
	f.event, f.at, f.step = event, now, 0
	return true
}

// Pending returns how many IPs are followed.
func (t *Tracker) Pending() int { return len(t.pending) }

// due is when f's next read is due; false when its plan is done.
func (t *Tracker) due(f *follow) (time.Time, bool) {
	offs := t.plan.offsets(f.event)
	if f.step >= len(offs) {
		return time.Time{}, false
	}
	return f.at.Add(offs[f.step]), true
}

// Next returns when Take will next return a read: the earliest due offset,
// no earlier than the bucket allows. false while a read is in flight or
// when nothing is followed.
func (t *Tracker) Next() (time.Time, bool) {
	if t.reading {
		return time.Time{}, false
	}
	var next time.Time
	found := false
	for _, f := range t.pending {
		if d, ok := t.due(f); ok && (!found || d.Before(next)) {
			next, found = d, true
		}
	}
	if !found {
		return time.Time{}, false
	}
	if b := t.bucket.next(); b.After(next) {
		next = b
	}
	return next, true
}

// Take starts a read at now when one is due and the bucket has a token:
// it returns the IPs to read, those due first, then every other pending
// one (sharing the read costs nothing), at most MaxBatch. Nil when no read
// starts; the caller must call Complete for a read it was given.
func (t *Tracker) Take(now time.Time) []string {
	if t.reading {
		return nil
	}
	type cand struct {
		ip  string
		due time.Time
		now bool
	}
	var cands []cand
	anyDue := false
	for ip, f := range t.pending {
		d, _ := t.due(f)
		c := cand{ip, d, !d.After(now)}
		anyDue = anyDue || c.now
		cands = append(cands, c)
	}
	if !anyDue || !t.bucket.take(now) {
		return nil
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.now != b.now {
			if a.now {
				return -1
			}
			return 1
		}
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.ip, b.ip))
	})
	ips := make([]string, 0, min(len(cands), t.plan.MaxBatch))
	for _, c := range cands[:min(len(cands), t.plan.MaxBatch)] {
		ips = append(ips, c.ip)
	}
	t.reading = true
	return ips
}

// Complete takes the outcome of a read and returns the announcements it
// decided, in the order of r.IPs; those are no longer followed. For the
// others, every offset due by r.Started is done; an IP whose plan is done
// is given up.
func (t *Tracker) Complete(r Read) []Decision {
	t.reading = false
	var out []Decision
	for _, ip := range r.IPs {
		f := t.pending[ip]
		if f == nil {
			continue
		}
		if r.Err == nil {
			m, found := r.Found[ip]
			if t.decide(f.event, m, found) {
				out = append(out, Decision{IP: ip, Event: f.event, Member: m, Found: found, ReadAt: r.Started})
				delete(t.pending, ip)
				continue
			}
		}
		for d, ok := t.due(f); ok && !d.After(r.Started); d, ok = t.due(f) {
			f.step++
		}
		if _, ok := t.due(f); !ok {
			delete(t.pending, ip)
		}
	}
	return out
}

// bucket is a token bucket on the caller's clock; it starts full.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
	started             bool
}

func (b *bucket) refill(now time.Time) {
	if !b.started {
		b.tokens, b.last, b.started = b.burst, now, true
		return
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
}

func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// next is when a token is available; zero when one is now.
func (b *bucket) next() time.Time {
	if !b.started || b.tokens >= 1 {
		return time.Time{}
	}
	return b.last.Add(time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second))))
}
