package reconcile

import "time"

// ScheduleRunOnce asks for a pass as soon as MinEventGap allows: at now if
// the last pass started at least MinEventGap ago, otherwise when the gap
// ends. Calls until then share that one pass. Safe for concurrent use.
func (c *Controller) ScheduleRunOnce(now time.Time) {
	c.mu.Lock()
	due := c.lastStart.Add(c.opts.MinEventGap)
	if due.Before(now) {
		due = now
	}
	c.scheduleLocked(due)
	c.mu.Unlock()
}

// scheduleAt asks for a pass at t (no earlier than MinEventGap after the
// last start).
func (c *Controller) scheduleAt(t time.Time) {
	c.mu.Lock()
	if gap := c.lastStart.Add(c.opts.MinEventGap); t.Before(gap) {
		t = gap
	}
	c.scheduleLocked(t)
	c.mu.Unlock()
}

func (c *Controller) scheduleLocked(t time.Time) {
	if c.nextRun.IsZero() || t.Before(c.nextRun) {
		c.nextRun = t
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// ShouldRunOnce reports whether a pass is due at now: one was scheduled,
// or the resync or drift interval has passed. When it returns true it
// records that the pass starts at now.
func (c *Controller) ShouldRunOnce(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	drift := !now.Before(c.nextDrift)
	sync := !now.Before(c.nextSync)
	triggered := !c.nextRun.IsZero() && !now.Before(c.nextRun)
	if !drift && !sync && !triggered {
		return false
	}
	c.lastStart = now
	c.nextRun = time.Time{}
	c.nextSync = now.Add(c.opts.ResyncInterval)
	c.fullNext = drift
	if drift {
		c.nextDrift = now.Add(c.opts.DriftInterval)
	}
	return true
}

// takeFull reports whether the pass that ShouldRunOnce allowed is a drift
// pass.
func (c *Controller) takeFull() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fullNext
}

// untilNext is how long the loop may sleep.
func (c *Controller) untilNext(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.nextDrift
	if c.nextSync.Before(next) {
		next = c.nextSync
	}
	if !c.nextRun.IsZero() && c.nextRun.Before(next) {
		next = c.nextRun
	}
	return max(next.Sub(now), 0)
}

// takeAnnounced returns and clears the IPs announced since the last pass.
func (c *Controller) takeAnnounced() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.announced
	c.announced = map[string]bool{}
	return a
}
