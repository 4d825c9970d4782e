package testwait

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPollRetriesUntilNil checks that Poll calls check again until it
// holds.
func TestPollRetriesUntilNil(t *testing.T) {
	calls := 0
	err := Poll(t.Context(), time.Minute, time.Millisecond, func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Poll = %v after %d calls, want nil after 3", err, calls)
	}
}

// TestPollStopsOnPermanent checks that a Permanent error ends Poll at once
// with the wrapped error.
func TestPollStopsOnPermanent(t *testing.T) {
	bad := errors.New("bad")
	calls := 0
	err := Poll(t.Context(), time.Minute, time.Millisecond, func(context.Context) error {
		calls++
		return Permanent(bad)
	})
	if !errors.Is(err, bad) || calls != 1 {
		t.Fatalf("Poll = %v after %d calls, want %v after 1", err, calls, bad)
	}
}

// TestPollReturnsTheLastErrorAtTheDeadline checks the timeout path.
func TestPollReturnsTheLastErrorAtTheDeadline(t *testing.T) {
	last := errors.New("still down")
	err := Poll(t.Context(), 20*time.Millisecond, time.Millisecond, func(context.Context) error { return last })
	if !errors.Is(err, last) {
		t.Fatalf("Poll = %v, want it to wrap %v", err, last)
	}
}
