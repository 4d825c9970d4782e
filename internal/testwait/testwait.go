package testwait

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

const (
	// DefaultTimeout is Eventually's and EventuallyNil's bound when the
	// caller passes 0: far beyond what any condition needs on an idle
	// machine.
	DefaultTimeout = 60 * time.Second
	// DefaultEvery is the pace of Eventually and EventuallyNil, and of
	// Poll when every is 0: short next to a test's waits, long next to a
	// loop's cost.
	DefaultEvery = 10 * time.Millisecond
)

// permanentError makes Poll give up at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Poll stops retrying and returns it.
func Permanent(err error) error { return permanentError{err} }

// Poll calls check every `every` (DefaultEvery when 0) until it returns
// nil, returns a Permanent error, timeout passes or ctx is done; then it
// returns the last error. Each check gets a context bounded by the
// remaining time.
func Poll(ctx context.Context, timeout, every time.Duration, check func(ctx context.Context) error) error {
	if every <= 0 {
		every = DefaultEvery
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if perm, ok := errors.AsType[permanentError](err); ok {
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

// Eventually fails t unless cond holds within timeout (DefaultTimeout
// when 0); what names the condition in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	EventuallyNil(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errors.New(what)
	})
}

// EventuallyNil fails t unless check returns nil within timeout
// (DefaultTimeout when 0), with check's last error; a Permanent error
// fails it at once.
func EventuallyNil(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := Poll(t.Context(), timeout, DefaultEvery, func(context.Context) error { return check() }); err != nil {
		t.Fatalf("waiting: %v", err)
	}
}
