package ranchersim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// This file runs the container lifecycle as Cattle does (rancher-api.md §6).
// Every function that ends in Locked expects s.mu held; the others take it
// themselves and never hold it across a sleep or a runtime call.

// setStateLocked moves a container to a state and publishes it.
func (s *Sim) setStateLocked(c *container, state string) {
	if c.state == state {
		return
	}
	s.log.Debug("container state", "container", c.id, "name", c.name, "state", state)
	c.state = state
	s.publishLocked(typeContainer, c.id)
	if svc := s.services[c.serviceID]; svc != nil {
		s.refreshServiceHealthLocked(svc)
	}
}

// setHealthLocked moves a container's health state and publishes it.
func (s *Sim) setHealthLocked(c *container, hs string) {
	if c.healthState == hs {
		return
	}
	s.log.Debug("container health", "container", c.id, "health", hs)
	c.healthState = hs
	if hs == "healthy" {
		c.wasHealthy = true
	}
	s.publishLocked(typeContainer, c.id)
	if svc := s.services[c.serviceID]; svc != nil {
		s.refreshServiceHealthLocked(svc)
	}
}

// setServiceStateLocked moves a service to a state and publishes it.
func (s *Sim) setServiceStateLocked(svc *service, state string) {
	if svc.state == state {
		return
	}
	s.log.Debug("service state", "service", svc.id, "name", svc.name, "state", state)
	svc.state = state
	s.publishLocked(typeService, svc.id)
	s.publishLocked(typeStack, svc.stackID)
}

// transition sets a state, then lets it be seen for StepDelay. false when
// the container is gone or the Sim closes.
func (s *Sim) transition(ctx context.Context, c *container, state string) bool {
	s.mu.Lock()
	if !c.removed.IsZero() {
		s.mu.Unlock()
		return false
	}
	s.setStateLocked(c, state)
	s.mu.Unlock()
	return s.sleep(ctx, s.opts.StepDelay)
}

// pickHostLocked returns the active host with the fewest live
// containers, or "" when no host is active.
func (s *Sim) pickHostLocked() string {
	count := map[string]int{}
	for _, c := range s.containers {
		if c.removed.IsZero() {
			count[c.hostID]++
		}
	}
	// A cut-off host still looks fine to Rancher, but placing replacements
	// there would loop forever; prefer reachable hosts.
	best := ""
	better := func(id string) bool {
		if best == "" {
			return true
		}
		a, b := s.hosts[id], s.hosts[best]
		if a.cut != b.cut {
			return !a.cut
		}
		return count[id] < count[best] || (count[id] == count[best] && dbID(id) < dbID(best))
	}
	for id, h := range s.hosts {
		if h.state == "active" && better(id) {
			best = id
		}
	}
	return best
}

// createContainerLocked adds a container in state requested to a service:
// a new id, the next createIndex, an IP, a host, and the unit's name.
func (s *Sim) createContainerLocked(svc *service, serviceIndex int, version string) (*container, error) {
	hostID := s.pickHostLocked()
	if hostID == "" {
		return nil, errors.New("no active host to place it on")
	}
	ip, err := s.ips.allocate()
	if err != nil {
		return nil, fmt.Errorf("no free IP address in %s", s.ips.prefix)
	}
	st := s.stacks[svc.stackID]
	svc.createIndex++
	c := &container{
		id: s.newIDLocked(typeContainer), uuid: newUUID(),
		name:      st.name + "-" + svc.name + "-" + strconv.Itoa(serviceIndex),
		serviceID: svc.id, stackID: svc.stackID, hostID: hostID, ip: ip,
		createIndex: svc.createIndex, serviceIndex: serviceIndex,
		externalID: newDockerID(), deploymentUnit: newUUID(), version: version,
		image: svc.image, created: time.Now(),
	}
	s.containers[c.id] = c
	s.setStateLocked(c, "requested")
	s.publishLocked(typeService, svc.id) // instanceIds changed
	s.publishLocked(typeHost, c.hostID)
	return c, nil
}

// freeIndexLocked returns the lowest service index no live unit uses.
func (s *Sim) freeIndexLocked(svc *service, taken map[int]bool) int {
	for _, c := range s.containers {
		if c.serviceID == svc.id && c.removed.IsZero() {
			taken[c.serviceIndex] = true
		}
	}
	for i := 1; ; i++ {
		if !taken[i] {
			taken[i] = true
			return i
		}
	}
}

// unitsLocked returns a service's current (not upgrade-old) live
// containers, sorted by createIndex.
func (s *Sim) unitsLocked(svc *service) []*container {
	var out []*container
	for _, c := range s.containers {
		if c.serviceID == svc.id && !c.upgradeOld && c.removed.IsZero() && c.state != "removing" {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].createIndex < out[j].createIndex })
	return out
}

// provision runs a new container: instance.create chains instance.start,
// so it goes requested -> creating -> starting -> running, and "stopped"
// (create's done state) is never stored.
func (s *Sim) provision(ctx context.Context, c *container) {
	if !s.transition(ctx, c, "creating") {
		return
	}
	s.startContainer(ctx, c)
}

// startContainer runs starting -> running through the runtime (from
// stopped, or chained from creating, restarting or stopping). The health
// state moves on start (InstanceHealthcheckRegister): a healthy container
// goes healthy -> updating-reinitializing -> reinitializing, any other
// one initializing. A failed start goes erroring -> error with the
// reason in transitioningMessage; the service then retries with a
// backoff, and shows the reason too.
func (s *Sim) startContainer(ctx context.Context, c *container) {
	s.mu.Lock()
	if !c.removed.IsZero() || c.state == "running" || c.state == "removing" {
		s.mu.Unlock()
		return
	}
	c.gen++
	gen := c.gen
	spec := s.specLocked(c)
	s.setStateLocked(c, "starting")
	reinit := c.healthState == "healthy" || c.healthState == "updating-healthy"
	svc := s.services[c.serviceID]
	hasCheck := svc != nil && svc.health != nil
	if hasCheck && reinit {
		s.setHealthLocked(c, "updating-reinitializing")
	}
	s.mu.Unlock()
	if !s.sleep(ctx, s.opts.StepDelay) {
		return
	}
	err := s.runtime.Start(ctx, spec, s.exitedFunc(c.id, gen))
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen != gen || c.state != "starting" {
		return // killed or stopped meanwhile
	}
	if err != nil {
		s.errorLocked(c, err)
		return
	}
	c.startCount++
	if c.firstRunning.IsZero() {
		c.firstRunning = time.Now()
	}
	c.transitioningMsg = ""
	if hasCheck {
		c.healthState = "initializing"
		if reinit {
			c.healthState = "reinitializing"
		}
		s.startHealthLocked(c, *svc.health)
	}
	s.setStateLocked(c, "running")
	if svc != nil {
		s.recoveredLocked(svc)
	}
}

// errorLocked is instance.error after a failed start: erroring -> error,
// the reason in transitioningMessage (transitioning "error").
func (s *Sim) errorLocked(c *container, err error) {
	s.log.Warn("starting container", "container", c.id, "name", c.name, "err", err)
	c.transitioningMsg = err.Error()
	s.setStateLocked(c, "erroring")
	s.setStateLocked(c, "error")
	if svc := s.services[c.serviceID]; svc != nil {
		s.failLocked(svc, fmt.Sprintf("container %s (%s) failed to start: %v", c.name, c.id, err))
	}
}

// stopStates are the states instance.stop starts from.
func stoppable(state string) bool { return instanceProcesses["stop"][state] }

// stopping runs the transitioning part of instance.stop: stopping, with
// the runtime's SIGTERM then SIGKILL. false when there was nothing to stop.
func (s *Sim) stopping(ctx context.Context, c *container, timeout time.Duration) bool {
	s.mu.Lock()
	if !stoppable(c.state) {
		s.mu.Unlock()
		return false
	}
	c.gen++ // what exits now was asked to
	s.cancelHealthLocked(c)
	s.setStateLocked(c, "stopping")
	s.mu.Unlock()
	if err := s.runtime.Stop(ctx, c.id, timeout); err != nil {
		s.log.Warn("stopping container", "container", c.id, "err", err)
	}
	return s.sleep(ctx, s.opts.StepDelay)
}

// stopContainer runs instance.stop to its done state: stopping -> stopped.
func (s *Sim) stopContainer(ctx context.Context, c *container, timeout time.Duration) {
	if !s.stopping(ctx, c, timeout) {
		return
	}
	s.mu.Lock()
	if c.state == "stopping" {
		s.setStateLocked(c, "stopped")
	}
	s.mu.Unlock()
}

// removeContainer removes a container: a running one goes running ->
// stopping -> removing -> removed (instance.stop chained with
// instance.remove, "stopped" never stored), a stopped one stopped ->
// removing -> removed. Its IP is released, it leaves instanceIds, and it
// stays readable by id until purged.
func (s *Sim) removeContainer(ctx context.Context, c *container) {
	s.removeContainerAfterStop(ctx, c, s.opts.StopTimeout)
}

func (s *Sim) removeContainerAfterStop(ctx context.Context, c *container, timeout time.Duration) {
	stopped := s.stopping(ctx, c, timeout)
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	ok := instanceProcesses["remove"][c.state] || (stopped && c.state == "stopping")
	s.mu.Unlock()
	if !ok {
		return // stopped by something else meanwhile, or already removing
	}
	if !s.transition(ctx, c, "removing") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.state != "removing" {
		return
	}
	c.removed = time.Now()
	c.removeTime = s.removeTimeFrom(c.removed)
	s.ips.release(c.ip)
	s.setStateLocked(c, "removed")
	s.publishLocked(typeService, c.serviceID)
	s.publishLocked(typeHost, c.hostID)
}

// restartContainer is instance.restart, which chains stop and start:
// running -> restarting -> stopping -> starting -> running, same id,
// startCount + 1.
func (s *Sim) restartContainer(ctx context.Context, c *container) {
	s.mu.Lock()
	if c.state != "running" {
		s.mu.Unlock()
		return
	}
	s.setStateLocked(c, "restarting")
	s.mu.Unlock()
	if !s.sleep(ctx, s.opts.StepDelay) || !s.stopping(ctx, c, s.opts.StopTimeout) {
		return
	}
	s.startContainer(ctx, c)
}

// exitedFunc is handed to the runtime: the container died by itself.
func (s *Sim) exitedFunc(id string, gen int) func(error) {
	return func(err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.containers[id]
		if c == nil || c.gen != gen || s.closed {
			return
		}
		if c.state != "running" && c.state != "starting" {
			return
		}
		s.log.Info("container died", "container", id, "err", err)
		s.handleDeathLocked(c, false)
	}
}

// handleDeathLocked is a Docker "die" event: stopping -> stopped, then the
// service reconcile starts it again (same id, startCount + 1). kill first
// makes the runtime kill what still runs.
//
// UNCONFIRMED: the exact order Cattle goes through; chosen: the states of
// instance.stop, then a start through the service's reconcile. The IP is
// kept across restarts (also UNCONFIRMED; the managed network retains it).
func (s *Sim) handleDeathLocked(c *container, kill bool) {
	c.gen++
	s.cancelHealthLocked(c)
	s.setStateLocked(c, "stopping")
	s.goBusyLocked(func(ctx context.Context) {
		if kill {
			if err := s.runtime.Stop(ctx, c.id, 0); err != nil {
				s.log.Warn("killing container", "container", c.id, "err", err)
			}
		}
		if !s.sleep(ctx, s.opts.StepDelay) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.state == "stopping" {
			s.setStateLocked(c, "stopped")
		}
		if svc := s.services[c.serviceID]; svc != nil && !c.upgradeOld {
			s.enqueueReconcileLocked(svc, 0)
		}
	})
}

// parallel runs fn for every container at once and waits.
func parallel(cs []*container, fn func(c *container)) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(c)
		}()
	}
	wg.Wait()
}

// waitSettledUnits waits until each container has reached running with a
// final health state (healthy, unhealthy, or no health check) or gave up
// (stopped, error, removed), as Cattle's upgrade waits for health. false
// when owns (checked with s.mu held) stops holding or the Sim closes.
func (s *Sim) waitSettledUnits(ctx context.Context, cs []*container, owns func() bool) bool {
	for {
		s.mu.Lock()
		if !owns() {
			s.mu.Unlock()
			return false
		}
		done := true
		for _, c := range cs {
			switch c.state {
			case "removed", "error", "stopped":
			case "running":
				if c.healthState != "" && c.healthState != "healthy" && c.healthState != "unhealthy" {
					done = false
				}
			default:
				done = false
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}
