package harness

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultPollInterval is Eventually's pace when every is 0.
const DefaultPollInterval = 100 * time.Millisecond

// permanentError makes Eventually give up at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Eventually stops retrying and returns it.
func Permanent(err error) error { return permanentError{err} }

// Eventually calls check every `every` (DefaultPollInterval when 0) until
// it returns nil, returns a Permanent error, timeout passes or ctx is
// done; then it returns the last error. Each check gets a context bounded
// by the remaining time. Use generous timeouts: the machine may be loaded.
func Eventually(ctx context.Context, timeout, every time.Duration, check func(ctx context.Context) error) error {
	if every <= 0 {
		every = DefaultPollInterval
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not within %s: %w", timeout, err)
		case <-t.C:
		}
	}
}
