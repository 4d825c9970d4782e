package ranchersim

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// This file holds the service processes (spring-process-context.xml,
// service.*; UpgradeManagerImpl; DefaultServiceDeploymentPlanner):
// reconcile (scale, restart of stopped units, replacement of failed
// ones), activate, deactivate, remove, in-service upgrade with cancel,
// continue, finish and rollback, and the rolling restart. Each process
// sets its transitioning state at once and queues its work on the
// service's worker, which runs one op at a time as Cattle serialises a
// service's processes; a long op (upgrade, restart) checks at safe points
// that its process still owns the service and returns when another
// (cancelupgrade, rollback, deactivate, remove) took over.

// idleServiceStates are states in which reconcile leaves a service alone
// (every other state is one of Cattle's active service states, in which
// the deployment manager keeps the current units at scale).
var idleServiceStates = map[string]bool{
	"inactive": true, "deactivating": true, "removing": true, "removed": true,
	"requested": true, "registering": true,
}

// Retry backoff of a service whose units fail to come up (Cattle retries
// its reconcile with an exponential backoff).
const (
	retryFirst = time.Second
	retryMax   = 30 * time.Second
)

// launchConfig is what an upgrade changes and a rollback restores.
type launchConfig struct {
	labels, env map[string]string
	image       string
	health      *HealthCheck
	version     string
}

func (svc *service) launch() launchConfig {
	return launchConfig{labels: svc.labels, env: svc.env, image: svc.image, health: svc.health, version: svc.version}
}

func (svc *service) setLaunch(lc launchConfig) {
	svc.labels, svc.env, svc.image, svc.health, svc.version = lc.labels, lc.env, lc.image, lc.health, lc.version
}

// labelsFor returns the launch config labels a container was created
// with (the previous ones for containers of the version before an
// upgrade).
func (svc *service) labelsFor(c *container) map[string]string {
	if svc.prev != nil && c.version == svc.prev.version {
		return svc.prev.labels
	}
	return svc.labels
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

// failLocked records why a unit of a service did not come up: the service
// shows transitioning "error" with the reason, the failure is logged, and
// a reconcile is queued after a backoff that doubles up to retryMax.
func (s *Sim) failLocked(svc *service, reason string) {
	svc.failures++
	svc.errMsg = reason
	delay := retryDelay(svc.failures)
	s.log.Warn("service unit failed", "service", svc.id, "name", svc.name, "reason", reason,
		"failures", svc.failures, "retry", delay)
	s.publishLocked(typeService, svc.id)
	s.enqueueReconcileLocked(svc, delay)
}

// retryDelay is the wait before the n-th retry (n >= 1): 1 s, doubling,
// at most retryMax.
func retryDelay(n int) time.Duration {
	return min(retryFirst<<min(max(n, 1)-1, 10), retryMax)
}

// recoveredLocked clears a service's failure once a unit came up.
func (s *Sim) recoveredLocked(svc *service) {
	if svc.failures == 0 && svc.errMsg == "" {
		return
	}
	svc.failures, svc.errMsg = 0, ""
	s.publishLocked(typeService, svc.id)
}

// reconcile brings a service to its scale (DefaultServiceDeploymentPlanner):
// bad (error) units are removed, extra ones too, highest createIndex
// first and all at once, stopped ones started again, and missing ones
// created.
func (s *Sim) reconcile(ctx context.Context, svc *service) {
	s.mu.Lock()
	if idleServiceStates[svc.state] {
		s.mu.Unlock()
		return
	}
	var add, drop, start, good []*container
	for _, c := range s.unitsLocked(svc) {
		switch c.state {
		case "error", "erroring":
			drop = append(drop, c)
		default:
			good = append(good, c)
		}
	}
	n, want := int64(len(good)), svc.scale
	if n > want {
		drop = append(drop, good[want:]...) // highest createIndex first
		good = good[:want]
	}
	for _, c := range good {
		if c.state == "stopped" {
			start = append(start, c)
		}
	}
	taken := map[int]bool{}
	for i := n; i < want; i++ {
		c, err := s.createContainerLocked(svc, s.freeIndexLocked(svc, taken), svc.version)
		if err != nil {
			s.failLocked(svc, fmt.Sprintf("creating a container for service %s: %v", svc.name, err))
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

// startProcessLocked checks that a service process may start from the
// service's state (Cattle's 409 otherwise) and moves it to the process's
// transitioning state.
func (s *Sim) startProcessLocked(svc *service, action, transitioning string) error {
	if !serviceProcesses[action][svc.state] {
		return conflict(typeService, svc.id, action, svc.state)
	}
	s.setServiceStateLocked(svc, transitioning)
	return nil
}

// finishLocked moves a service to done, if its process still owns it.
func (s *Sim) finishLocked(svc *service, from, done string) {
	if svc.state == from {
		s.setServiceStateLocked(svc, done)
	}
}

// activateLocked starts an inactive service: activating -> active.
func (s *Sim) activateLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "activate", "activating"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "activate", func(ctx context.Context) { s.reconcile(ctx, svc) })
	return nil
}

// deactivateLocked stops every unit: deactivating -> inactive.
func (s *Sim) deactivateLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "deactivate", "deactivating"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "deactivate", func(ctx context.Context) {
		s.mu.Lock()
		units := s.unitsLocked(svc)
		s.mu.Unlock()
		parallel(units, func(c *container) { s.stopContainer(ctx, c, s.opts.StopTimeout) })
		s.mu.Lock()
		s.finishLocked(svc, "deactivating", "inactive")
		s.mu.Unlock()
	})
	return nil
}

// removeServiceLocked removes a service and all its containers:
// removing -> removed, purged later.
func (s *Sim) removeServiceLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "remove", "removing"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "remove", func(ctx context.Context) {
		s.mu.Lock()
		var all []*container
		for _, c := range s.containers {
			if c.serviceID == svc.id && c.removed.IsZero() {
				all = append(all, c)
			}
		}
		s.mu.Unlock()
		parallel(all, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		svc.removed = time.Now()
		svc.removeTime = s.removeTimeFrom(svc.removed)
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
	launch     *launchConfig // the new launch config; nil: a new version of the current one
	launchOnly bool          // the service was inactive: no units to replace
}

// upgradeLocked starts an in-service upgrade: upgrading -> upgraded, old
// containers stopped and kept until finishupgrade (UpgradeManagerImpl).
// An inactive service only takes the new launch config: it has no units
// to replace until it is activated.
func (s *Sim) upgradeLocked(svc *service, p upgradeParams) error {
	inactive := svc.state == "inactive"
	if err := s.startProcessLocked(svc, "upgrade", "upgrading"); err != nil {
		return err
	}
	p.launchOnly = inactive
	if p.batchSize < 1 {
		p.batchSize = 1
	}
	prev := svc.launch()
	next := prev
	if p.launch != nil {
		next = *p.launch
	}
	next.version = newUUID()
	svc.prev, svc.prevVersion = &prev, prev.version
	svc.setLaunch(next)
	svc.upgradeP = &p
	s.publishLocked(typeService, svc.id)
	s.enqueueLocked(svc, "upgrade", func(ctx context.Context) { s.upgrade(ctx, svc, p) })
	return nil
}

// continueUpgradeLocked resumes a canceled upgrade: upgrading -> upgraded.
func (s *Sim) continueUpgradeLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "continueupgrade", "upgrading"); err != nil {
		return err
	}
	p := upgradeParams{batchSize: 1}
	if svc.upgradeP != nil {
		p = *svc.upgradeP
	}
	s.enqueueLocked(svc, "continueupgrade", func(ctx context.Context) { s.upgrade(ctx, svc, p) })
	return nil
}

// upgrade replaces the units of older versions batch by batch while the
// service stays upgrading.
func (s *Sim) upgrade(ctx context.Context, svc *service, p upgradeParams) {
	owns := func() bool { return svc.state == "upgrading" }
	s.mu.Lock()
	var olds []*container
	for _, c := range s.unitsLocked(svc) {
		if c.version != svc.version && !p.launchOnly {
			olds = append(olds, c)
		}
	}
	s.mu.Unlock()
	for i := 0; i < len(olds); i += p.batchSize {
		batch := olds[i:min(i+p.batchSize, len(olds))]
		if !s.stillLocked(owns) {
			return
		}
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
				s.failLocked(svc, fmt.Sprintf("creating a container for service %s: %v", svc.name, err))
				continue
			}
			news = append(news, c)
		}
		s.mu.Unlock()
		parallel(news, func(c *container) { s.provision(ctx, c) })
		if !s.waitSettledUnits(ctx, news, owns) {
			return
		}
		if p.startFirst {
			s.retire(ctx, batch)
		}
		if i+p.batchSize < len(olds) && !s.sleep(ctx, p.interval) {
			return
		}
	}
	s.mu.Lock()
	s.finishLocked(svc, "upgrading", "upgraded")
	s.mu.Unlock()
}

// stillLocked evaluates cond with s.mu held.
func (s *Sim) stillLocked(cond func() bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cond()
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

// cancelUpgradeLocked stops an upgrade where it is: canceling-upgrade ->
// canceled-upgrade once the upgrade's current batch is done.
func (s *Sim) cancelUpgradeLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "cancelupgrade", "canceling-upgrade"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "cancelupgrade", func(context.Context) {
		s.mu.Lock()
		s.finishLocked(svc, "canceling-upgrade", "canceled-upgrade")
		s.mu.Unlock()
	})
	return nil
}

// finishUpgradeLocked removes the old containers: finishing-upgrade -> active.
func (s *Sim) finishUpgradeLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "finishupgrade", "finishing-upgrade"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "finishupgrade", func(ctx context.Context) {
		olds := s.oldUnits(svc)
		parallel(olds, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		if svc.state != "finishing-upgrade" {
			s.mu.Unlock()
			return
		}
		svc.prev = nil
		s.setServiceStateLocked(svc, "active")
		s.mu.Unlock()
		s.reconcile(ctx, svc)
	})
	return nil
}

// rollbackLocked removes the new containers, restores the previous launch
// config and starts the old containers again: rolling-back -> active.
func (s *Sim) rollbackLocked(svc *service) error {
	if err := s.startProcessLocked(svc, "rollback", "rolling-back"); err != nil {
		return err
	}
	s.enqueueLocked(svc, "rollback", func(ctx context.Context) {
		s.mu.Lock()
		var news []*container
		for _, c := range s.unitsLocked(svc) {
			if svc.prev != nil && c.version == svc.version {
				news = append(news, c)
			}
		}
		s.mu.Unlock()
		olds := s.oldUnits(svc)
		parallel(news, func(c *container) { s.removeContainer(ctx, c) })
		s.mu.Lock()
		if svc.prev != nil {
			svc.setLaunch(*svc.prev)
			svc.prev = nil
		}
		for _, c := range olds {
			c.upgradeOld = false
		}
		s.mu.Unlock()
		parallel(olds, func(c *container) { s.startContainer(ctx, c) })
		s.mu.Lock()
		if svc.state == "rolling-back" {
			s.setServiceStateLocked(svc, "active")
		}
		s.mu.Unlock()
		s.reconcile(ctx, svc)
	})
	return nil
}

// oldUnits returns a service's live upgrade-old containers.
func (s *Sim) oldUnits(svc *service) []*container {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*container
	for _, c := range s.containers {
		if c.serviceID == svc.id && c.upgradeOld && c.removed.IsZero() {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].createIndex < out[j].createIndex })
	return out
}

// restartLocked is the rolling restart: restarting -> active; per batch the
// same containers stop and start again (startCount + 1).
func (s *Sim) restartLocked(svc *service, batchSize int, interval time.Duration) error {
	if err := s.startProcessLocked(svc, "restart", "restarting"); err != nil {
		return err
	}
	if batchSize < 1 {
		batchSize = 1
	}
	s.enqueueLocked(svc, "restart", func(ctx context.Context) {
		owns := func() bool { return svc.state == "restarting" }
		s.mu.Lock()
		units := s.unitsLocked(svc)
		s.mu.Unlock()
		for i := 0; i < len(units); i += batchSize {
			if !s.stillLocked(owns) {
				return
			}
			batch := units[i:min(i+batchSize, len(units))]
			parallel(batch, func(c *container) { s.stopContainer(ctx, c, s.opts.StopTimeout) })
			parallel(batch, func(c *container) { s.startContainer(ctx, c) })
			if !s.waitSettledUnits(ctx, batch, owns) {
				return
			}
			if i+batchSize < len(units) && !s.sleep(ctx, interval) {
				return
			}
		}
		s.mu.Lock()
		s.finishLocked(svc, "restarting", "active")
		s.mu.Unlock()
	})
	return nil
}
