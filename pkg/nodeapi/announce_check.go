package nodeapi

import (
	"net/netip"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// checkAnnouncement validates an announcement's fields (pure).
func checkAnnouncement(a Announcement) *Error {
	if a.Event != EventUp && a.Event != EventStopping {
		return &Error{Code: CodeBadRequest, Message: `"event" must be "up" or "stopping"`}
	}
	if err := mesh.CheckNodeName(a.Node); err != nil {
		return &Error{Code: CodeBadNodeName, Message: err.Error()}
	}
	if _, err := netip.ParseAddr(a.IP); err != nil {
		return &Error{Code: CodeBadRequest, Message: `"ip" must be an IP address such as "10.42.3.7"`}
	}
	return nil
}

// tokenBucket allows rate events per second on average, burst at once.
type tokenBucket struct {
	rate, burst float64
	now         func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, now: now, tokens: burst, last: now()}
}

// allow takes one token if there is one.
func (b *tokenBucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	if t.After(b.last) {
		b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
		b.last = t
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
