package ranchersim

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"time"
)

// This file runs health checks as Rancher 1.6 does: the service's
// healthCheck is probed against the container's IP every interval;
// healthyThreshold consecutive successes make it healthy, unhealthyThreshold
// consecutive failures unhealthy (failures do not count while
// initializing or reinitializing: unhealthy is reached only from
// healthy); a container that does not become healthy within
// initializingTimeout (reinitializingTimeout after a restart) is removed
// and replaced, unless the strategy is none.

// healthVerdict is what one probe result changes.
type healthVerdict int

const (
	verdictNone healthVerdict = iota
	verdictHealthy
	verdictUnhealthy
	verdictTimedOut // initializing too long: removed and replaced
)

// decideHealth is the pure health state machine: given the current health
// state, the run of consecutive successes or failures, and the time since
// checking began, it returns what happens.
func decideHealth(state string, successes, failures int64, elapsed time.Duration, hc HealthCheck) healthVerdict {
	switch state {
	case "initializing", "reinitializing":
		if successes >= hc.HealthyThreshold {
			return verdictHealthy
		}
		timeout := hc.InitializingTimeout
		if state == "reinitializing" {
			timeout = hc.ReinitializingTimeout
		}
		// HealthcheckCleanupMonitorImpl leaves strategy none alone.
		if hc.Strategy != "none" && elapsed >= time.Duration(timeout)*time.Millisecond {
			return verdictTimedOut
		}
	case "healthy":
		if failures >= hc.UnhealthyThreshold {
			return verdictUnhealthy
		}
	case "unhealthy":
		if successes >= hc.HealthyThreshold {
			return verdictHealthy
		}
	}
	return verdictNone
}

// startHealthLocked starts probing a running container.
func (s *Sim) startHealthLocked(c *container, hc HealthCheck) {
	s.cancelHealthLocked(c)
	ctx, cancel := context.WithCancel(s.ctx)
	c.stopHealth = cancel
	gen := c.gen
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.monitorHealth(ctx, c, gen, hc)
	}()
}

func (s *Sim) cancelHealthLocked(c *container) {
	if c.stopHealth != nil {
		c.stopHealth()
		c.stopHealth = nil
	}
}

// monitorHealth probes until the container stops or is replaced.
func (s *Sim) monitorHealth(ctx context.Context, c *container, gen int, hc HealthCheck) {
	began := time.Now()
	tick := time.NewTicker(time.Duration(hc.Interval) * time.Millisecond)
	defer tick.Stop()
	var successes, failures int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ok := s.probe(ctx, c, hc)
		if ok {
			successes, failures = successes+1, 0
		} else {
			successes, failures = 0, failures+1
		}
		s.mu.Lock()
		if c.gen != gen || c.state != "running" {
			s.mu.Unlock()
			return
		}
		v := decideHealth(c.healthState, successes, failures, time.Since(began), hc)
		s.mu.Unlock()
		if !s.applyVerdict(ctx, c, gen, v, hc) {
			return
		}
	}
}

// applyVerdict moves the health state through updating-healthy or
// updating-unhealthy. false when monitoring ends (the container is being
// replaced or is gone).
func (s *Sim) applyVerdict(ctx context.Context, c *container, gen int, v healthVerdict, hc HealthCheck) bool {
	switch v {
	case verdictNone:
		return true
	case verdictTimedOut:
		return s.cleanUpStuck(c, gen)
	}
	via, to := "updating-healthy", "healthy"
	if v != verdictHealthy {
		via, to = "updating-unhealthy", "unhealthy"
	}
	s.mu.Lock()
	if c.gen != gen || c.state != "running" {
		s.mu.Unlock()
		return false
	}
	s.setHealthLocked(c, via)
	s.mu.Unlock()
	if !s.sleep(ctx, s.opts.StepDelay) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen != gen || c.state != "running" {
		return false
	}
	s.setHealthLocked(c, to)
	if v == verdictHealthy || !s.shouldRecreateLocked(c, v, hc) {
		return true
	}
	svc := s.services[c.serviceID]
	if svc == nil {
		return false
	}
	s.log.Info("recreating unhealthy container", "container", c.id, "service", svc.id)
	s.enqueueLocked(svc, "recreate", func(ctx context.Context) {
		s.removeContainer(ctx, c)
		s.reconcile(ctx, svc)
	})
	return false
}

// cleanUpStuck removes a container stuck initializing or reinitializing
// past its timeout (HealthcheckCleanupMonitorImpl: the instance is
// removed, its health state left as it is); the service replaces it.
func (s *Sim) cleanUpStuck(c *container, gen int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[c.serviceID]
	if c.gen != gen || c.state != "running" || svc == nil {
		return false
	}
	s.log.Info("removing container stuck initializing", "container", c.id, "health", c.healthState)
	s.enqueueLocked(svc, "health cleanup", func(ctx context.Context) {
		s.removeContainer(ctx, c)
		s.reconcile(ctx, svc)
	})
	return false
}

// shouldRecreateLocked applies the health check strategy
// (RecreateHealthCheckActionHandler): recreate (default) always;
// recreateOnQuorum only while more than half the scale is healthy; none
// never.
func (s *Sim) shouldRecreateLocked(c *container, _ healthVerdict, hc HealthCheck) bool {
	switch hc.Strategy {
	case "none":
		return false
	case "recreateOnQuorum":
		svc := s.services[c.serviceID]
		if svc == nil {
			return false
		}
		var healthy int64
		for _, u := range s.unitsLocked(svc) {
			if u.state == "running" && u.healthState == "healthy" {
				healthy++
			}
		}
		return healthy > svc.scale/2
	}
	return true
}

// probe runs one health check. Forced failures (FailHealth) and cut-off
// hosts fail; NoopRuntime passes; otherwise the request line is really sent
// to IP:port, and a 2xx or 3xx status line passes (as haproxy's httpchk).
// An empty request line is a TCP connect check.
func (s *Sim) probe(ctx context.Context, c *container, hc HealthCheck) bool {
	s.mu.Lock()
	forced := c.forceFail
	cut := s.hosts[c.hostID] != nil && s.hosts[c.hostID].cut
	ip := c.ip
	s.mu.Unlock()
	if forced || cut {
		return false
	}
	if isNoop(s.runtime) {
		return true
	}
	return probeHTTP(ctx, net.JoinHostPort(ip, strconv.FormatInt(hc.Port, 10)), hc.RequestLine,
		time.Duration(hc.ResponseTimeout)*time.Millisecond)
}

// probeHTTP sends requestLine to addr and checks the status line.
func probeHTTP(ctx context.Context, addr, requestLine string, timeout time.Duration) bool {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	if requestLine == "" {
		return true
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(requestLine + "\r\n\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return false
	}
	code, err := strconv.Atoi(f[1])
	return err == nil && code >= 200 && code < 400
}
