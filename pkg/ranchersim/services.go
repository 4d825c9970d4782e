package ranchersim

import (
	"context"
	"sort"
	"time"
)

// This file holds the service-level processes: reconcile (scale, restart
// of stopped units, replacement of failed ones), activate, deactivate,
// remove, in-service upgrade, finishupgrade, rollback and rolling restart.

// idleServiceStates are states in which reconcile leaves a service alone.
var idleServiceStates = map[string]bool{
	"inactive": true, "deactivating": true, "removing": true, "removed": true,
	"requested": true, "registering": true,
}

// enqueueReconcileLocked queues a reconcile of a service, after delay.
func (s *Sim) enqueueReconcileLocked(svc *service, delay time.Duration) {
	s.enqueueLocked(svc, "reconcile", func(ctx context.Context) {
		if delay > 0 && !s.sleep(ctx, delay) {
			return
		}
		s.reconcile(ctx, svc)
	})
}

// reconcile brings a service to its scale (DefaultServiceDeploymentPlanner):
// missing units are created, extra ones removed highest createIndex first,
// stopped ones started again, failed ones replaced.
func (s *Sim) reconcile(ctx context.Context, svc *service) {
	s.mu.Lock()
	if idleServiceStates[svc.state] {
		s.mu.Unlock()
		return
	}
	var add, drop, start []*container
	var healthy []*container
	for _, c := range s.unitsLocked(svc) {
		switch c.state {
		case "error", "erroring":
			drop = append(drop, c)
		default:
			healthy = append(healthy, c)
		}
	}
	n, want := int64(len(healthy)), svc.scale
	if n > want {
		drop = append(drop, healthy[want:]...) // highest createIndex first
		healthy = healthy[:want]
	}
	for _, c := range healthy {
		if c.state == "stopped" {
			start = append(start, c)
		}
	}
	taken := map[int]bool{}
	for i := n; i < want; i++ {
		c, err := s.createContainerLocked(svc, s.freeIndexLocked(svc, taken), svc.version)
		if err != nil {
			s.log.Error("creating container", "service", svc.id, "err", err)
			break
		}
		add = append(add, c)
	}
	changed := len(add)+len(drop)+len(start) > 0 || svc.currentScale != svc.scale
	if changed && svc.state == "active" {
		s.setServiceStateLocked(svc, "updating-active")
	}
	s.mu.Unlock()

	parallel(drop, func(c *container) { s.removeContainer(ctx, c) })
	parallel(start, func(c *container) { s.startContainer(ctx, c) })
	parallel(add, func(c *container) { s.provision(ctx, c) })

	s.mu.Lock()
	defer s.mu.Unlock()
	svc.currentScale = svc.scale
	if svc.state == "updating-active" || svc.state == "activating" {
		s.setServiceStateLocked(svc, "active")
	}
	if changed {
		s.publishLocked(typeService, svc.id)
	}
}

// refreshServiceHealthLocked recomputes a service's healthState.
//
// UNCONFIRMED: Cattle's exact rule. Chosen: healthy when at least scale
// units run and pass (or have no) health checks; initializing while none
// passes yet but some are initializing; unhealthy when none passes;
// degraded otherwise.
func (s *Sim) refreshServiceHealthLocked(svc *service) {
	var ok, initializing int64
	for _, c := range s.unitsLocked(svc) {
		if c.state != "running" {
			continue
		}
		switch c.healthState {
		case "", "healthy", "updating-healthy":
			ok++
		case "initializing", "reinitializing":
			initializing++
		}
	}
	hs := "degraded"
	switch {
	case ok >= svc.scale:
		hs = "healthy"
	case ok == 0 && initializing > 0:
		hs = "initializing"
	case ok == 0:
		hs = "unhealthy"
	}
	if svc.state == "inactive" || svc.state == "removed" {
		hs = svc.healthState
	}
	if hs != svc.healthState {
		svc.healthState = hs
		s.publishLocked(typeService, svc.id)
	}
}

// activateLocked starts an inactive service: activating -> active.
func (s *Sim) activateLocked(svc *service) error {
	if svc.state != "inactive" && svc.state != "registering" {
		return invalidState("service "+svc.name, svc.state)
	}
	s.setServiceStateLocked(svc, "activating")
	s.enqueueLocked(svc, "activate", func(ctx context.Context) { s.reconcile(ctx, svc) })
	return nil
}

// deactivateLocked stops every unit: deactivating -> inactive.
func (s *Sim) deactivateLocked(svc *service) error {
	if svc.state != "active" && svc.state != "updating-active" {
		return invalidState("service "+svc.name, svc.state)
	}
	s.setServiceStateLocked(svc, "deactivating")
	s.enqueueLocked(svc, "deactivate", func(ctx context.Context) {
		s.mu.Lock()
		units := s.unitsLocked(svc)
		s.mu.Unlock()
		parallel(units, func(c *container) { s.stopContainer(ctx, c, s.opts.StopTimeout) })
		s.mu.Lock()
		s.setServiceStateLocked(svc, "inactive")
		s.mu.Unlock()
	})
	return nil
}

// removeServiceLocked removes a service and all its containers.
func (s *Sim) removeServiceLocked(svc *service) error {
	if svc.state == "removed" || svc.state == "removing" {
		return invalidState("service "+svc.name, svc.state)
	}
	s.setServiceStateLocked(svc, "removing")
	s.enqueueLocked(svc, "remove", func(ctx context.Context) {
		s.mu.Lock()
		var all []*container
		for _, c := range s.containers {
			if c.serviceID == svc.id && c.state != "removed" {
				all = append(all, c)
			}
		}
		s.mu.Unlock()
		parallel(all, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		svc.removed = time.Now()
		s.setServiceStateLocked(svc, "removed")
		s.mu.Unlock()
	})
	return nil
}

// upgradeParams is the in-service strategy of an upgrade.
type upgradeParams struct {
	batchSize  int
	startFirst bool
	interval   time.Duration
	labels     map[string]string // nil: unchanged
	env        map[string]string // nil: unchanged
}

// upgradeLocked starts an in-service upgrade: upgrading -> upgraded, old
// containers stopped and kept until finishupgrade (UpgradeManagerImpl).
func (s *Sim) upgradeLocked(svc *service, p upgradeParams) error {
	if svc.state != "active" {
		return invalidState("service "+svc.name, svc.state)
	}
	if p.batchSize < 1 {
		p.batchSize = 1
	}
	s.setServiceStateLocked(svc, "upgrading")
	s.enqueueLocked(svc, "upgrade", func(ctx context.Context) { s.upgrade(ctx, svc, p) })
	return nil
}

func (s *Sim) upgrade(ctx context.Context, svc *service, p upgradeParams) {
	s.mu.Lock()
	olds := s.unitsLocked(svc)
	svc.prevVersion, svc.version = svc.version, newUUID()
	if p.labels != nil {
		svc.labels = p.labels
	}
	if p.env != nil {
		svc.env = p.env
	}
	s.mu.Unlock()
	for i := 0; i < len(olds); i += p.batchSize {
		batch := olds[i:min(i+p.batchSize, len(olds))]
		if !p.startFirst {
			s.retire(ctx, batch)
		}
		// UNCONFIRMED: whether new containers reuse the old unit's name.
		// Chosen: yes, a new container takes its deployment unit's index.
		s.mu.Lock()
		var news []*container
		for _, o := range batch {
			c, err := s.createContainerLocked(svc, o.serviceIndex, svc.version)
			if err != nil {
				s.log.Error("creating container", "service", svc.id, "err", err)
				continue
			}
			news = append(news, c)
		}
		s.mu.Unlock()
		parallel(news, func(c *container) { s.provision(ctx, c) })
		s.waitSettledUnits(ctx, news)
		if p.startFirst {
			s.retire(ctx, batch)
		}
		if i+p.batchSize < len(olds) && !s.sleep(ctx, p.interval) {
			return
		}
	}
	s.mu.Lock()
	if svc.state == "upgrading" {
		s.setServiceStateLocked(svc, "upgraded")
	}
	s.mu.Unlock()
}

// retire marks containers as upgrade-old and stops them (kept, not removed).
func (s *Sim) retire(ctx context.Context, cs []*container) {
	s.mu.Lock()
	for _, c := range cs {
		c.upgradeOld = true
	}
	s.mu.Unlock()
	parallel(cs, func(c *container) { s.stopContainer(ctx, c, s.opts.StopTimeout) })
}

// finishUpgradeLocked removes the old containers: finishing-upgrade -> active.
func (s *Sim) finishUpgradeLocked(svc *service) error {
	if svc.state != "upgraded" {
		return invalidState("service "+svc.name, svc.state)
	}
	s.setServiceStateLocked(svc, "finishing-upgrade")
	s.enqueueLocked(svc, "finishupgrade", func(ctx context.Context) {
		olds := s.oldUnits(svc)
		parallel(olds, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		s.setServiceStateLocked(svc, "active")
		s.mu.Unlock()
		s.reconcile(ctx, svc)
	})
	return nil
}

// rollbackLocked removes the new containers and starts the old ones again:
// rolling-back -> active.
func (s *Sim) rollbackLocked(svc *service) error {
	if svc.state != "upgraded" && svc.state != "canceled-upgrade" {
		return invalidState("service "+svc.name, svc.state)
	}
	s.setServiceStateLocked(svc, "rolling-back")
	s.enqueueLocked(svc, "rollback", func(ctx context.Context) {
		s.mu.Lock()
		news := s.unitsLocked(svc)
		s.mu.Unlock()
		olds := s.oldUnits(svc)
		parallel(news, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		svc.version = svc.prevVersion
		for _, c := range olds {
			c.upgradeOld = false
		}
		s.mu.Unlock()
		parallel(olds, func(c *container) { s.startContainer(ctx, c) })
		s.mu.Lock()
		s.setServiceStateLocked(svc, "active")
		s.mu.Unlock()
	})
	return nil
}

// oldUnits returns a service's live upgrade-old containers.
func (s *Sim) oldUnits(svc *service) []*container {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*container
	for _, c := range s.containers {
		if c.serviceID == svc.id && c.upgradeOld && c.state != "removed" {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].createIndex < out[j].createIndex })
	return out
}

// restartLocked is the rolling restart: restarting -> active; per batch the
// same containers stop and start again (startCount + 1).
func (s *Sim) restartLocked(svc *service, batchSize int, interval time.Duration) error {
	if svc.state != "active" {
		return invalidState("service "+svc.name, svc.state)
	}
	if batchSize < 1 {
		batchSize = 1
	}
	s.setServiceStateLocked(svc, "restarting")
	s.enqueueLocked(svc, "restart", func(ctx context.Context) {
		s.mu.Lock()
		units := s.unitsLocked(svc)
		s.mu.Unlock()
		for i := 0; i < len(units); i += batchSize {
			batch := units[i:min(i+batchSize, len(units))]
			parallel(batch, func(c *container) { s.stopContainer(ctx, c, s.opts.StopTimeout) })
			parallel(batch, func(c *container) { s.startContainer(ctx, c) })
			s.waitSettledUnits(ctx, batch)
			if i+batchSize < len(units) && !s.sleep(ctx, interval) {
				return
			}
		}
		s.mu.Lock()
		s.setServiceStateLocked(svc, "active")
		s.mu.Unlock()
	})
	return nil
}
