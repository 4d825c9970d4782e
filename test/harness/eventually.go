package harness

import (
	"context"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
)

// DefaultPollInterval is Eventually's pace when every is 0.
const DefaultPollInterval = 100 * time.Millisecond

// Permanent wraps err so that Eventually stops retrying and returns it
// (testwait.Permanent).
func Permanent(err error) error { return testwait.Permanent(err) }

// Eventually is testwait.Poll at DefaultPollInterval when every is 0: it
// calls check until it returns nil, returns a Permanent error, timeout
// passes or ctx is done, and returns the last error. Use generous
// timeouts: the machine may be loaded.
func Eventually(ctx context.Context, timeout, every time.Duration, check func(ctx context.Context) error) error {
	if every <= 0 {
		every = DefaultPollInterval
	}
	return testwait.Poll(ctx, timeout, every, check)
}
