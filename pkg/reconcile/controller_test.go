package reconcile

import (
	"context"
	"testing"
)

func mustPass(t *testing.T, c *Controller) {
	t.Helper()
	if err := c.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}
