package ranchersim

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// This file builds rancher-metadata's answers from the simulator's state,
// with the snake_case fields of go-rancher-metadata's types. Everything
// here expects s.mu held.

// inMetadata reports whether Cattle's MetaDataInfoDaoImpl lists a
// container: not removed and not removing, error or erroring. Stopped,
// starting and stopping containers are listed.
func inMetadata(c *container) bool {
	switch c.state {
	case "removing", "removed", "error", "erroring":
		return false
	}
	return true
}

// metadataRootLocked builds the answer tree for one caller. only names the
// top-level key asked for ("" for all), so that a version poll does not
// render every container.
func (s *Sim) metadataRootLocked(version, callerIP, only string) map[string]any {
	root := map[string]any{}
	want := func(k string) bool { return only == "" || strings.EqualFold(only, k) }
	if want("version") {
		root["version"] = s.metaVersion
	}
	if want("containers") {
		var cs []any
		for _, c := range s.metadataContainersLocked("") {
			cs = append(cs, s.metaContainerLocked(c))
		}
		root["containers"] = nonNilList(cs)
	}
	if want("services") {
		var out []any
		for _, svc := range s.sortedServicesLocked() {
			if svc.state != "removed" {
				out = append(out, s.metaServiceLocked(svc, version))
			}
		}
		root["services"] = nonNilList(out)
	}
	if want("stacks") {
		var out []any
		for _, st := range s.sortedStacksLocked() {
			out = append(out, s.metaStackLocked(st, version))
		}
		root["stacks"] = nonNilList(out)
	}
	if want("hosts") {
		var out []any
		for _, h := range s.sortedHostsLocked() {
			out = append(out, s.metaHostLocked(h))
		}
		root["hosts"] = nonNilList(out)
	}
	if want("self") {
		root["self"] = s.metaSelfLocked(callerIP, version)
	}
	return root
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// metadataContainersLocked lists metadata's containers, of one service or
// all (serviceID ""), by createIndex within a service and id otherwise.
func (s *Sim) metadataContainersLocked(serviceID string) []*container {
	var out []*container
	for _, c := range s.sortedContainersLocked() {
		if inMetadata(c) && (serviceID == "" || c.serviceID == serviceID) {
			out = append(out, c)
		}
	}
	if serviceID != "" {
		sort.SliceStable(out, func(i, j int) bool { return out[i].createIndex < out[j].createIndex })
	}
	return out
}

func (s *Sim) metaContainerLocked(c *container) map[string]any {
	svc, st, h := s.services[c.serviceID], s.stacks[c.stackID], s.hosts[c.hostID]
	m := map[string]any{
		"name": c.name, "uuid": c.uuid, "primary_ip": c.ip, "ips": []any{c.ip},
		"primary_mac_address": macOf(c.ip), "ports": []any{}, "service_index": strconv.Itoa(c.serviceIndex),
		"labels": copyLabels(s.labelsLocked(c)), "create_index": c.createIndex, "hostname": c.name,
		"state": c.state, "health_state": c.healthState, "start_count": c.startCount,
		"external_id": c.externalID, "memory_reservation": 0, "milli_cpu_reservation": 0,
		"dns": []any{"169.254.169.250"}, "dns_search": toAnyList(s.dnsSearchLocked(c)),
		"health_check_hosts": []any{}, "network_uuid": "managed-network", "network_from_container_uuid": "",
		"links": map[string]any{}, "system": false,
		"environment_uuid": s.projectUUID, "environment_name": s.projectName,
		"service_name": "", "service_uuid": "", "stack_name": "", "stack_uuid": "", "host_uuid": "",
		"health_check": nil,
	}
	if svc != nil {
		m["service_name"], m["service_uuid"] = svc.name, svc.uuid
		m["health_check"] = metaHealthCheck(svc.health)
	}
	if st != nil {
		m["stack_name"], m["stack_uuid"] = st.name, st.uuid
	}
	if h != nil {
		m["host_uuid"] = h.uuid
	}
	return m
}

func metaHealthCheck(hc *HealthCheck) any {
	if hc == nil {
		return nil
	}
	return map[string]any{
		"port": hc.Port, "request_line": hc.RequestLine, "interval": hc.Interval,
		"response_timeout": hc.ResponseTimeout, "healthy_threshold": hc.HealthyThreshold,
		"unhealthy_threshold": hc.UnhealthyThreshold, "initializing_timeout": hc.InitializingTimeout,
		"reinitializing_timeout": hc.ReinitializingTimeout, "strategy": hc.Strategy,
	}
}

// metaServiceLocked renders a service; in 2015-07-25 its containers are
// names, later they are objects.
func (s *Sim) metaServiceLocked(svc *service, version string) map[string]any {
	st := s.stacks[svc.stackID]
	var cs []any
	for _, c := range s.metadataContainersLocked(svc.id) {
		if version == "2015-07-25" {
			cs = append(cs, c.name)
		} else {
			cs = append(cs, s.metaContainerLocked(c))
		}
	}
	m := map[string]any{
		"name": svc.name, "uuid": svc.uuid, "kind": "service", "scale": svc.scale,
		"create_index": svc.createIndex, "containers": nonNilList(cs), "labels": copyLabels(svc.labels),
		"links": map[string]any{}, "metadata": map[string]any{}, "ports": []any{}, "expose": []any{},
		"external_ips": []any{}, "sidekicks": []any{}, "primary_service_name": svc.name,
		"hostname": "", "vip": "", "fqdn": "", "health_check": metaHealthCheck(svc.health),
		"lb_config": map[string]any{}, "token": svc.uuid, "state": svc.state, "system": false,
		"selector": "", "environment_uuid": s.projectUUID, "environment_name": s.projectName,
		"stack_name": "", "stack_uuid": "",
	}
	if st != nil {
		m["stack_name"], m["stack_uuid"] = st.name, st.uuid
	}
	return m
}

func (s *Sim) metaStackLocked(st *stack, version string) map[string]any {
	var svcs []any
	for _, svc := range s.sortedServicesLocked() {
		if svc.stackID != st.id || svc.state == "removed" {
			continue
		}
		if version == "2015-07-25" {
			svcs = append(svcs, svc.name)
		} else {
			svcs = append(svcs, s.metaServiceLocked(svc, version))
		}
	}
	return map[string]any{"name": st.name, "uuid": st.uuid, "services": nonNilList(svcs), "system": false,
		"environment_name": s.projectName, "environment_uuid": s.projectUUID}
}

func (s *Sim) metaHostLocked(h *host) map[string]any {
	return map[string]any{"name": h.name, "uuid": h.uuid, "agent_ip": h.agentIP, "hostname": h.name,
		"labels": copyLabels(h.labels), "memory": int64(8 << 30), "milli_cpu": 4000,
		"local_storage_mb": 100000, "environment_uuid": s.projectUUID, "state": "active",
		"host_id": dbID(h.id)}
}

// metaSelfLocked answers "self" for a caller: its container, service
// (without token), stack and host; an unknown caller gets only a host, so
// /self/service is 404 for it, as rancher-metadata's default answers.
func (s *Sim) metaSelfLocked(callerIP, version string) map[string]any {
	for _, c := range s.sortedContainersLocked() {
		if c.ip != callerIP || !inMetadata(c) {
			continue
		}
		self := map[string]any{"container": s.metaContainerLocked(c)}
		if svc := s.services[c.serviceID]; svc != nil {
			m := s.metaServiceLocked(svc, version)
			delete(m, "token")
			self["service"] = m
		}
		if st := s.stacks[c.stackID]; st != nil {
			self["stack"] = s.metaStackLocked(st, version)
		}
		if h := s.hosts[c.hostID]; h != nil {
			self["host"] = s.metaHostLocked(h)
		}
		return self
	}
	if hs := s.sortedHostsLocked(); len(hs) > 0 {
		return map[string]any{"host": s.metaHostLocked(hs[0])}
	}
	return map[string]any{}
}

func (s *Sim) sortedStacksLocked() []*stack {
	var out []*stack
	for _, st := range s.stacks {
		if st.state != "removed" {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return dbID(out[i].id) < dbID(out[j].id) })
	return out
}

func (s *Sim) sortedHostsLocked() []*host {
	out := make([]*host, 0, len(s.hosts))
	for _, h := range s.hosts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return dbID(out[i].id) < dbID(out[j].id) })
	return out
}

// macOf derives a MAC from an IPv4 address (02:xx:...), as Rancher's
// managed network does.
func macOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return ""
	}
	b := a.As4()
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", 0x42, b[0], b[1], b[2], b[3])
}
