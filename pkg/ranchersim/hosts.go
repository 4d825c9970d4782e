package ranchersim

import (
	"context"
	"time"
)

// This file holds the host processes (host.*: activate, deactivate,
// remove, purge, restore, update) and the evacuate action. An inactive
// host keeps its containers but gets no new ones; evacuate deactivates a
// host and removes its containers, so that their services recreate them
// elsewhere; removing a host removes its containers too.

// hostActionLocked runs a host action.
func (s *Sim) hostActionLocked(h *host, action string, body map[string]any) error {
	switch action {
	case "activate":
		s.setHostStateLocked(h, "active")
	case "deactivate":
		s.setHostStateLocked(h, "inactive")
	case "evacuate":
		s.setHostStateLocked(h, "inactive")
		s.removeHostContainersLocked(h)
	case "remove":
		if !hostProcesses["remove"][h.state] {
			return conflict(typeHost, h.id, "remove", h.state)
		}
		h.removed = time.Now()
		h.removeTime = s.removeTimeFrom(h.removed)
		s.setHostStateLocked(h, "removed")
		s.removeHostContainersLocked(h)
	case "purge":
		h.removeTime = time.Now()
		s.purgeDueLocked(h.removeTime)
	case "restore":
		h.removed, h.removeTime = time.Time{}, time.Time{}
		s.setHostStateLocked(h, "inactive")
	case "update":
		return s.updateHostLocked(h, body)
	case "dockersocket":
		return notSupported("the host action dockersocket (there is no Docker behind the simulator)")
	default:
		return notSupported("the host action " + action)
	}
	return nil
}

func (s *Sim) setHostStateLocked(h *host, state string) {
	if h.state == state {
		return
	}
	h.state = state
	s.publishLocked(typeHost, h.id)
}

// removeHostContainersLocked removes every live container of a host; the
// services reconcile and place replacements on active hosts.
func (s *Sim) removeHostContainersLocked(h *host) {
	for _, c := range s.containers {
		if c.hostID != h.id || !c.removed.IsZero() || c.state == "removing" {
			continue
		}
		svc := s.services[c.serviceID]
		s.goBusyLocked(func(ctx context.Context) {
			s.removeContainer(ctx, c)
			s.reconcileLater(svc)
		})
	}
}

// updateHostLocked applies a host's updatable fields (name, description,
// labels).
func (s *Sim) updateHostLocked(h *host, body map[string]any) error {
	if v, ok := body["description"]; ok {
		d, _ := v.(string)
		h.description = truncate(d, 1024)
	}
	if v, ok := body["name"]; ok {
		name, _ := v.(string)
		if name == "" || len(name) > 255 {
			return invalidInput("InvalidOption", "name must be 1 to 255 characters")
		}
		h.name = name
	}
	if v, ok := body["labels"]; ok {
		h.labels = stringMap(v)
	}
	s.publishLocked(typeHost, h.id)
	return nil
}
