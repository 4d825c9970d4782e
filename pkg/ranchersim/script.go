package ranchersim

import (
	"fmt"
	"sort"
	"time"
)

// This file is the scripting API for tests: the same effects as the API
// calls, addressed by stack and service name.

// ContainerView is the simulator's truth about one container.
type ContainerView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	IP          string `json:"ip"`
	State       string `json:"state"`
	HealthState string `json:"healthState"`
	CreateIndex int64  `json:"createIndex"`
	StartCount  int64  `json:"startCount"`
	HostID      string `json:"hostId"`
	ServiceID   string `json:"serviceId"`
}

// CreateStack creates a stack and returns its id (it is activating,
// then active a step later). Creating a stack whose name exists returns
// the existing id.
func (s *Sim) CreateStack(name string) (string, error) {
	if !validName(name) {
		return "", invalidInput("InvalidFormat", fmt.Sprintf("stack name %q is not valid", truncate(name, 64)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stackByNameLocked(name); st != nil {
		return st.id, nil
	}
	return s.newStackLocked(name).id, nil
}

// CreateService creates a service in a stack and returns its id. With
// StartOnCreate it is activated and brought to scale; otherwise it stays
// inactive until activated.
func (s *Sim) CreateService(stackName string, spec ServiceSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stackByNameLocked(stackName)
	if st == nil {
		return "", notFound("stack " + stackName)
	}
	return s.createServiceLocked(st, spec)
}

// imageOrDefault returns image, or DefaultImage when empty.
func imageOrDefault(image string) string {
	if image == "" {
		return DefaultImage
	}
	return image
}

func (s *Sim) stackByNameLocked(name string) *stack {
	for _, st := range s.stacks {
		if st.name == name && st.removed.IsZero() && st.state != "removing" {
			return st
		}
	}
	return nil
}

func (s *Sim) serviceByNameLocked(st *stack, name string) *service {
	for _, svc := range s.services {
		if svc.stackID == st.id && svc.name == name && svc.removed.IsZero() && svc.state != "removing" {
			return svc
		}
	}
	return nil
}

// lookup finds a live service by stack and service name, with s.mu held.
func (s *Sim) lookupLocked(stackName, serviceName string) (*service, error) {
	st := s.stackByNameLocked(stackName)
	if st == nil {
		return nil, notFound("stack " + stackName)
	}
	svc := s.serviceByNameLocked(st, serviceName)
	if svc == nil {
		return nil, notFound("service " + stackName + "/" + serviceName)
	}
	return svc, nil
}

// withService runs fn on a named service with s.mu held.
func (s *Sim) withService(stackName, serviceName string, fn func(*service) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookupLocked(stackName, serviceName)
	if err != nil {
		return err
	}
	return fn(svc)
}

// scaleLocked is PUT {"scale": n}: updating-active -> active.
func (s *Sim) scaleLocked(svc *service, n int64) error {
	if svc.state == "removed" || svc.state == "removing" {
		return invalidState("service "+svc.name, svc.state)
	}
	svc.scale = n
	if svc.state == "active" {
		s.setServiceStateLocked(svc, "updating-active")
	}
	s.publishLocked(typeService, svc.id)
	s.enqueueReconcileLocked(svc, 0)
	return nil
}

// Scale sets a service's scale, as PUT of the service does.
func (s *Sim) Scale(stackName, serviceName string, n int) error {
	if n < 0 {
		return invalidInput("MinLimitExceeded", "scale must be at least 0")
	}
	return s.withService(stackName, serviceName, func(svc *service) error { return s.scaleLocked(svc, int64(n)) })
}

// Upgrade starts an in-service upgrade (new launch config version; new
// containers replace old ones in batches, old ones stopped and kept).
func (s *Sim) Upgrade(stackName, serviceName string, batchSize int, startFirst bool, interval time.Duration) error {
	return s.withService(stackName, serviceName, func(svc *service) error {
		svc.upgrade = map[string]any{"type": "serviceUpgrade", "toServiceStrategy": nil,
			"inServiceStrategy": map[string]any{"type": "inServiceUpgradeStrategy", "batchSize": batchSize,
				"intervalMillis": interval.Milliseconds(), "startFirst": startFirst}}
		return s.upgradeLocked(svc, upgradeParams{batchSize: batchSize, startFirst: startFirst, interval: interval})
	})
}

// FinishUpgrade removes the old containers of an upgraded service.
func (s *Sim) FinishUpgrade(stackName, serviceName string) error {
	return s.withService(stackName, serviceName, s.finishUpgradeLocked)
}

// Rollback removes the new containers of an upgraded service and starts
// the old ones again.
func (s *Sim) Rollback(stackName, serviceName string) error {
	return s.withService(stackName, serviceName, s.rollbackLocked)
}

// Restart is the rolling restart: same containers, startCount + 1.
func (s *Sim) Restart(stackName, serviceName string, batchSize int, interval time.Duration) error {
	return s.withService(stackName, serviceName, func(svc *service) error {
		return s.restartLocked(svc, batchSize, interval)
	})
}

// KillContainer makes a running container die outside Rancher (the runtime
// kills it): it becomes stopped, then the service starts it again (same
// id, startCount + 1).
func (s *Sim) KillContainer(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containers[id]
	if c == nil {
		return notFound("container " + id)
	}
	if c.state != "running" && c.state != "starting" {
		return invalidState("container "+id, c.state)
	}
	s.handleDeathLocked(c, true)
	return nil
}

// FailHealth forces (or stops forcing) health probe failures of a
// container, whatever the runtime.
func (s *Sim) FailHealth(id string, failing bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containers[id]
	if c == nil {
		return notFound("container " + id)
	}
	c.forceFail = failing
	return nil
}

// Containers returns every container of a service, in any state including
// removed, sorted by CreateIndex.
func (s *Sim) Containers(stackName, serviceName string) []ContainerView {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ContainerView
	for _, st := range s.stacks {
		if st.name != stackName {
			continue
		}
		for _, c := range s.containers {
			svc := s.services[c.serviceID]
			if c.stackID == st.id && svc != nil && svc.name == serviceName {
				out = append(out, viewOf(c))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreateIndex < out[j].CreateIndex })
	return out
}

func viewOf(c *container) ContainerView {
	return ContainerView{ID: c.id, Name: c.name, IP: c.ip, State: c.state, HealthState: c.healthState,
		CreateIndex: c.createIndex, StartCount: c.startCount, HostID: c.hostID, ServiceID: c.serviceID}
}

// AccessKey returns the API access key.
func (s *Sim) AccessKey() string { return s.opts.AccessKey }

// SecretKey returns the API secret key.
func (s *Sim) SecretKey() string { return s.opts.SecretKey }

// ProjectID returns the project (environment) id, e.g. "1a5".
func (s *Sim) ProjectID() string { return s.projectID }

// Requests returns API request counts by "METHOD /path-pattern", with the
// /v2-beta/projects/<id> prefix left out and ids written {id}: e.g.
// "GET /containers", "GET /services/{id}", "PUT /services/{id}",
// "POST /services/{id}?action=upgrade", "GET /subscribe", "GET /schemas".
func (s *Sim) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

func (s *Sim) countRequest(pattern string) {
	s.mu.Lock()
	s.requests[pattern]++
	s.mu.Unlock()
}
