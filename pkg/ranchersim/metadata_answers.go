package ranchersim

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// This file renders rancher-metadata's answers from a frozen metaState,
// field by field as Cattle's *MetaData classes serialise them
// (config-item/.../data/metadata/common/{Container,Service,Stack,Host,
// Network,Environment}MetaData.java: null where Cattle has nothing, a
// metadata_kind on every object) and as rancher-metadata's generator
// shapes them per version (config/generator.go: 2015-07-25 lists names
// where later versions list objects, 2016-07-29 lowercases names and drops
// hostId, links come from link objects and are null without any). Objects
// are listed in id order (rancher-metadata lists them in map order:
// clients must not rely on any order).

// metadataVersions are the served API versions; latest is 2016-07-29.
var metadataVersions = []string{"2015-07-25", "2015-12-19", "2016-07-29", "latest"}

// Metadata API versions with a different shape.
const (
	metaV1     = "2015-07-25"
	metaV3     = "2016-07-29"
	metaLatest = "latest"
)

// metaTree is one version's answers: the default answers every caller
// gets, and the "self" of each container's primary IP.
type metaTree struct {
	root   map[string]any
	self   map[string]map[string]any // by primary IP
	noSelf map[string]any            // callers that are no container
}

// answersFor returns the answer tree for a caller: the default answers
// with the caller's "self".
func (t *metaTree) answersFor(ip string) map[string]any {
	out := make(map[string]any, len(t.root)+1)
	for k, v := range t.root {
		out[k] = v
	}
	if self, ok := t.self[ip]; ok {
		out["self"] = self
	} else {
		out["self"] = t.noSelf
	}
	return out
}

// buildMetaTree renders every answer of one API version.
func buildMetaTree(st metaState, version, metaVersion string) *metaTree {
	if version == metaLatest {
		version = metaV3
	}
	r := metaRenderer{st: st, version: version}
	hosts, hostByID := r.hosts()
	containers, containerByID := r.containers()
	services, serviceByID := r.services(containerByID)
	stacks, stackByID := r.stacks(serviceByID)
	t := &metaTree{
		root: map[string]any{
			"version": metaVersion, "containers": containers, "services": services, "stacks": stacks,
			"hosts": hosts, "networks": []any{r.network()},
			// EnvironmentMetaData, merged into the default answers.
			"name": st.projectName, "uuid": st.projectUUID, "region_name": nil,
		},
		self:   map[string]map[string]any{},
		noSelf: map[string]any{},
	}
	if len(st.hosts) > 0 {
		t.noSelf["host"] = hostByID[st.hosts[0].id]
	}
	for _, c := range st.containers {
		if c.ip == "" {
			continue
		}
		self := map[string]any{"container": containerByID[c.id]}
		if svc, ok := serviceByID[c.serviceID]; ok && c.stackUUID != "" {
			self["stack"] = stackByID[c.stackID]
			own := make(map[string]any, len(svc))
			for k, v := range svc {
				own[k] = v
			}
			delete(own, "token") // a container does not learn its service's token
			self["service"] = own
		}
		if h, ok := hostByID[c.hostID]; ok {
			self["host"] = h
		}
		t.self[c.ip] = self
	}
	return t
}

// metaRenderer renders the objects of one version.
type metaRenderer struct {
	st      metaState
	version string
}

// name applies the version's case rule to a name.
func (r metaRenderer) name(s string) string {
	if r.version == metaV3 {
		return strings.ToLower(s)
	}
	return s
}

func (r metaRenderer) hosts() ([]any, map[string]map[string]any) {
	out := []any{}
	byID := map[string]map[string]any{}
	for _, h := range r.st.hosts {
		m := map[string]any{
			"agent_ip": h.agentIP, "name": h.name, "labels": copyLabels(h.labels), "uuid": h.uuid,
			"hostname": h.name, "milli_cpu": int64(4000), "memory": int64(8 << 30), "local_storage_mb": int64(100000),
			"environment_uuid": r.st.projectUUID, "metadata_kind": "host",
		}
		if r.version != metaV3 {
			m["hostId"] = dbID(h.id)
		}
		out = append(out, m)
		byID[h.id] = m
	}
	return out, byID
}

func (r metaRenderer) containers() ([]any, map[string]map[string]any) {
	out := []any{}
	byID := map[string]map[string]any{}
	hostUUID := map[string]string{}
	for _, h := range r.st.hosts {
		hostUUID[h.id] = h.uuid
	}
	svcUUID := map[string]string{}
	for _, svc := range r.st.services {
		svcUUID[svc.id] = svc.uuid
	}
	for _, c := range r.st.containers {
		m := map[string]any{
			"name": r.name(c.name), "uuid": c.uuid, "primary_ip": nullable(c.ip), "ips": ipList(c.ip),
			"ports": []any{}, "labels": copyLabels(c.labels), "create_index": c.createIndex,
			"host_uuid": nullable(hostUUID[c.hostID]), "hostname": nil, "health_state": nullable(c.healthState),
			"start_count": c.startCount, "service_index": strconv.Itoa(c.serviceIndex), "state": c.state,
			"external_id": nullable(c.externalID), "primary_mac_address": nullable(macOf(c.ip)),
			"memory_reservation": nil, "milli_cpu_reservation": nil, "network_uuid": r.st.networkUUID,
			"network_from_container_uuid": nil, "system": false, "dns": []any{NetworkServicesIP},
			"dns_search": toAnyList(c.dnsSearch), "health_check_hosts": toAnyList(c.healthCheckHosts),
			"environment_uuid": r.st.projectUUID, "links": nil, "metadata": map[string]any{},
			"health_check": metaHealthCheck(c.health), "metadata_kind": "container",
			"service_name": nil, "service_uuid": nil, "stack_name": nil, "stack_uuid": nil,
		}
		if c.serviceName != "" {
			m["service_name"], m["service_uuid"] = r.name(c.serviceName), nullable(svcUUID[c.serviceID])
		}
		if c.stackName != "" {
			m["stack_name"], m["stack_uuid"] = r.name(c.stackName), c.stackUUID
		}
		out = append(out, m)
		byID[c.id] = m
	}
	return out, byID
}

// metaHealthCheck is ServiceMetaData.HealthCheck: six fields, null
// without a check.
func metaHealthCheck(hc *HealthCheck) any {
	if hc == nil {
		return nil
	}
	return map[string]any{
		"port": hc.Port, "request_line": nullable(hc.RequestLine), "interval": hc.Interval,
		"response_timeout": hc.ResponseTimeout, "healthy_threshold": hc.HealthyThreshold,
		"unhealthy_threshold": hc.UnhealthyThreshold,
	}
}

// services renders services with their containers: names in 2015-07-25,
// objects later (in createIndex order).
func (r metaRenderer) services(containerByID map[string]map[string]any) ([]any, map[string]map[string]any) {
	out := []any{}
	byID := map[string]map[string]any{}
	stacks := map[string]metaStack{}
	for _, sk := range r.st.stacks {
		stacks[sk.id] = sk
	}
	members := map[string][]metaContainer{}
	for _, c := range r.st.containers {
		members[c.serviceID] = append(members[c.serviceID], c)
	}
	for _, svc := range r.st.services {
		cs := members[svc.id]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].createIndex < cs[j].createIndex })
		list := []any{}
		for _, c := range cs {
			if r.version == metaV1 {
				list = append(list, r.name(c.name))
			} else {
				list = append(list, containerByID[c.id])
			}
		}
		sk := stacks[svc.stackID]
		m := map[string]any{
			"name": r.name(svc.name), "uuid": svc.uuid, "stack_name": r.name(sk.name), "stack_uuid": nullable(sk.uuid),
			"kind": "service", "hostname": nil, "vip": nil, "create_index": svc.createIndex, "external_ips": []any{},
			"sidekicks": []any{}, "ports": []any{}, "labels": copyLabels(svc.labels), "metadata": map[string]any{},
			"scale": svc.scale, "fqdn": nil, "expose": []any{}, "health_check": metaHealthCheck(svc.health),
			"system": false, "lb_config": nil, "primary_service_name": r.name(svc.name),
			"environment_uuid": r.st.projectUUID, "state": svc.state, "token": svc.token,
			"metadata_kind": "service", "containers": list, "links": nil,
		}
		out = append(out, m)
		byID[svc.id] = m
	}
	return out, byID
}

// stacks renders stacks with their services: names in 2015-07-25, objects
// later.
func (r metaRenderer) stacks(serviceByID map[string]map[string]any) ([]any, map[string]map[string]any) {
	out := []any{}
	byID := map[string]map[string]any{}
	for _, sk := range r.st.stacks {
		list := []any{}
		for _, svc := range r.st.services {
			if svc.stackID != sk.id {
				continue
			}
			if r.version == metaV1 {
				list = append(list, r.name(svc.name))
			} else {
				list = append(list, serviceByID[svc.id])
			}
		}
		m := map[string]any{
			"name": r.name(sk.name), "uuid": sk.uuid, "environment_name": r.st.projectName,
			"environment_uuid": r.st.projectUUID, "system": false, "metadata_kind": "stack", "services": list,
		}
		out = append(out, m)
		byID[sk.id] = m
	}
	return out, byID
}

// network is the environment's managed network (NetworkMetaData).
func (r metaRenderer) network() map[string]any {
	return map[string]any{
		"name": "managed", "uuid": r.st.networkUUID, "environment_uuid": r.st.projectUUID, "is_default": true,
		"host_ports": true, "metadata": map[string]any{}, "default_policy_action": "allow", "policy": nil,
		"metadata_kind": "network",
	}
}

// ipList is ContainerMetaData.ips: the primary IP if any.
func ipList(ip string) []any {
	if ip == "" {
		return []any{}
	}
	return []any{ip}
}

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
