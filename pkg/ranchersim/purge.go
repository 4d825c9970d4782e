package ranchersim

import (
	"math/rand/v2"
	"time"
)

// This file purges removed objects as Cattle does: remove sets removeTime
// to the removal instant plus object.remove.time.delay.seconds (negative:
// a random delay up to its absolute value, -600 by default), and a
// monitor purges, every PurgeInterval, what is past its removeTime.
// Until then a removed object is readable by id (state "removed"); after
// it, it is gone (404). Purges publish nothing: Cattle drops events of
// objects whose removed is set and whose state is not "removed".

// removeTimeFrom returns when an object removed at t is purged.
func (s *Sim) removeTimeFrom(t time.Time) time.Time {
	d := s.opts.RemoveDelay
	if d < 0 {
		d = time.Duration(rand.Int64N(int64(-d) + 1))
	}
	return t.Add(d)
}

// purgeLoop runs the purge monitor until the Sim closes.
func (s *Sim) purgeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			s.purgeDueLocked(now)
			s.mu.Unlock()
		}
	}
}

// due reports whether a removed object's purge time has come.
func due(removed, removeTime, now time.Time) bool {
	return !removed.IsZero() && !removeTime.After(now)
}

// purgeDueLocked purges every removed object past its removeTime.
func (s *Sim) purgeDueLocked(now time.Time) {
	changed := false
	for id, c := range s.containers {
		if due(c.removed, c.removeTime, now) && c.state == "removed" {
			delete(s.containers, id)
			changed = true
		}
	}
	for id, svc := range s.services {
		if due(svc.removed, svc.removeTime, now) && svc.state == "removed" && !s.hasContainersLocked(id) {
			delete(s.services, id)
			changed = true
		}
	}
	for id, st := range s.stacks {
		if due(st.removed, st.removeTime, now) && st.state == "removed" && !s.hasServicesLocked(id) {
			delete(s.stacks, id)
			changed = true
		}
	}
	for id, h := range s.hosts {
		if due(h.removed, h.removeTime, now) && h.state == "removed" {
			delete(s.hosts, id)
			changed = true
		}
	}
	if changed {
		s.notifyLocked()
	}
}

func (s *Sim) hasContainersLocked(serviceID string) bool {
	for _, c := range s.containers {
		if c.serviceID == serviceID {
			return true
		}
	}
	return false
}

func (s *Sim) hasServicesLocked(stackID string) bool {
	for _, svc := range s.services {
		if svc.stackID == stackID {
			return true
		}
	}
	return false
}
