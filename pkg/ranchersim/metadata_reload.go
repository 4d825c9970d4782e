package ranchersim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// This file is rancher-metadata's reload cycle (rancher-api.md §9.7):
// Cattle pushes a config update on every change, and rancher-metadata
// reloads its answers at most once per -reload-interval-limit (a token
// bucket of one token per interval, network-services passes 1000 ms).
// Between reloads every answer, the version and Rancher DNS (which reads
// metadata, `rancher-dns --metadata-server`) come from one frozen copy of
// the state. The version is a new UUID at every reload that changed an
// answer; long polls wake on reloads and every 5 s.

// Defaults of MetadataOptions.
const (
	// DefaultMetadataReloadInterval is network-services' RELOAD_INTERVAL_LIMIT.
	DefaultMetadataReloadInterval = time.Second
	// NetworkServicesIP is where Rancher serves metadata (port 80) and DNS
	// (port 53) inside every container; the names rancher-metadata and
	// rancher-metadata.rancher.internal resolve to it.
	NetworkServicesIP = "169.254.169.250"
)

// MetadataOptions configure rancher-metadata and Rancher DNS.
type MetadataOptions struct {
	// ReloadInterval is rancher-metadata's -reload-interval-limit: answers
	// (and the version) change at most once per interval, and a change
	// shows at most one interval after it happened. <= 0: the default,
	// DefaultMetadataReloadInterval.
	ReloadInterval time.Duration
	// XFF makes "self" follow the X-Forwarded-For header when a request
	// carries one (rancher-metadata --xff): for metadata behind a proxy.
	XFF bool
}

func (o MetadataOptions) reloadInterval() time.Duration {
	if o.ReloadInterval <= 0 {
		return DefaultMetadataReloadInterval
	}
	return o.ReloadInterval
}

// metaHost, metaStack, metaService and metaContainer are the frozen
// copies a reload takes: values only, nothing shared with the Sim.
type metaHost struct {
	id, name, uuid, agentIP string
	labels                  map[string]string
}

type metaStack struct {
	id, name, uuid string
}

type metaService struct {
	id, name, uuid, token, stackID, state string
	scale, createIndex                    int64
	labels                                map[string]string
	health                                *HealthCheck
}

type metaContainer struct {
	id, name, uuid, externalID        string
	serviceID, stackID, hostID, ip    string
	state, healthState                string
	createIndex, startCount           int64
	serviceIndex                      int
	upgradeOld                        bool
	labels                            map[string]string
	health                            *HealthCheck
	dnsSearch, healthCheckHosts       []string
	serviceName, stackName, stackUUID string
}

// metaState is what metadata knows between two reloads: the project and
// every object it lists, in id order (containers of a service in
// createIndex order).
type metaState struct {
	projectName, projectUUID, networkUUID string
	hosts                                 []metaHost
	stacks                                []metaStack
	services                              []metaService
	containers                            []metaContainer
}

// metaSnapshot is one reload: the state, its version, and the answers
// rendered from it on demand (by API version), shared read-only by every
// request until the next reload.
type metaSnapshot struct {
	version string
	state   metaState
	trees   map[string]*lazyTree // by API version; the map is never written after creation
}

// lazyTree is one version's answers, rendered at the first request.
type lazyTree struct {
	once sync.Once
	tree *metaTree
}

// metadataServer holds the current snapshot and reloads it.
type metadataServer struct {
	s        *Sim
	interval time.Duration
	xff      bool
	salt     string // makes service tokens differ from their uuids

	mu       sync.Mutex
	snap     *metaSnapshot
	seenCh   <-chan struct{} // the Sim's change channel at the last reload
	reloads  int64           // snapshots taken
	reloaded chan struct{}   // closed and replaced at every reload
}

func newMetadataServer(s *Sim, o MetadataOptions) *metadataServer {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &metadataServer{s: s, interval: o.reloadInterval(), xff: o.XFF,
		salt: hex.EncodeToString(b[:]), reloaded: make(chan struct{})}
}

// startMetadata takes the first snapshot and starts the reload loop,
// which ends with the Sim.
func (s *Sim) startMetadata() {
	s.meta = newMetadataServer(s, s.opts.Metadata)
	s.meta.reload()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.meta.run(s.ctx)
	}()
}

// run reloads after every change, at most once per interval, until ctx
// is done.
func (m *metadataServer) run(ctx context.Context) {
	var last time.Time // the bucket starts full: the first change reloads at once
	for {
		m.mu.Lock()
		ch := m.seenCh
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
		if wait := time.Until(last.Add(m.interval)); wait > 0 && !m.s.sleep(ctx, wait) {
			return
		}
		last = time.Now()
		m.reload()
	}
}

// reload freezes the Sim's state; the version changes only when an answer
// would. It holds the Sim's lock throughout, so that WaitMetadata can tell
// a reload that saw a change from one that did not.
func (m *metadataServer) reload() {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	st := m.s.metaStateLocked(m.salt)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snap == nil || !reflect.DeepEqual(m.snap.state, st) {
		m.snap = newMetaSnapshot(newUUID(), st)
	}
	m.seenCh = m.s.changed
	m.reloads++
	close(m.reloaded)
	m.reloaded = make(chan struct{})
}

func newMetaSnapshot(version string, st metaState) *metaSnapshot {
	snap := &metaSnapshot{version: version, state: st, trees: map[string]*lazyTree{}}
	for _, v := range metadataVersions {
		snap.trees[v] = &lazyTree{}
	}
	return snap
}

// current returns the snapshot and the channel closed at the next reload.
func (m *metadataServer) current() (*metaSnapshot, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap, m.reloaded
}

// tree returns the answers of one API version, rendered once per
// snapshot.
func (snap *metaSnapshot) tree(version string) *metaTree {
	lt := snap.trees[version]
	lt.once.Do(func() { lt.tree = buildMetaTree(snap.state, version, snap.version) })
	return lt.tree
}

// WaitMetadata blocks until rancher-metadata (and Rancher DNS) answer
// with every change made before the call, which takes at most one reload
// interval, or until ctx is done.
func (s *Sim) WaitMetadata(ctx context.Context) error {
	m := s.meta
	s.mu.Lock()
	m.mu.Lock()
	caughtUp, target := m.seenCh == s.changed, m.reloads
	m.mu.Unlock()
	s.mu.Unlock()
	if caughtUp {
		return nil
	}
	for {
		m.mu.Lock()
		done, ch := m.reloads > target, m.reloaded
		m.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a metadata reload: %w", ctx.Err())
		}
	}
}

// metaStateLocked freezes what metadata shows (Cattle's
// MetaDataInfoDaoImpl): live hosts, stacks and services, and containers
// that are not removing, removed, error or erroring.
func (s *Sim) metaStateLocked(salt string) metaState {
	st := metaState{projectName: s.projectName, projectUUID: s.projectUUID,
		networkUUID: derivedUUID(salt, "network:"+s.projectID)}
	for _, h := range s.sortedHostsLocked() {
		st.hosts = append(st.hosts, metaHost{id: h.id, name: h.name, uuid: h.uuid, agentIP: h.agentIP,
			labels: copyStrings(h.labels)})
	}
	for _, sk := range s.sortedStacksLocked() {
		st.stacks = append(st.stacks, metaStack{id: sk.id, name: sk.name, uuid: sk.uuid})
	}
	for _, svc := range s.sortedServicesLocked() {
		if svc.state == "removed" {
			continue
		}
		st.services = append(st.services, metaService{id: svc.id, name: svc.name, uuid: svc.uuid,
			token: derivedToken(salt, svc.uuid), stackID: svc.stackID, state: svc.state, scale: svc.scale,
			createIndex: svc.createIndex, labels: copyStrings(svc.labels), health: copyHealth(svc.health)})
	}
	for _, c := range s.metadataContainersLocked("") {
		st.containers = append(st.containers, s.metaContainerStateLocked(c, st.hosts))
	}
	return st
}

func (s *Sim) metaContainerStateLocked(c *container, hosts []metaHost) metaContainer {
	mc := metaContainer{id: c.id, name: c.name, uuid: c.uuid, externalID: c.externalID,
		serviceID: c.serviceID, stackID: c.stackID, hostID: c.hostID, ip: c.ip, state: c.state,
		healthState: c.healthState, createIndex: c.createIndex, startCount: c.startCount,
		serviceIndex: c.serviceIndex, upgradeOld: c.upgradeOld, labels: copyStrings(s.labelsLocked(c)),
		dnsSearch: []string{"rancher.internal"}}
	svc, sk := s.services[c.serviceID], s.stacks[c.stackID]
	if sk != nil {
		mc.stackName, mc.stackUUID = sk.name, sk.uuid
		mc.dnsSearch = []string{sk.name + ".rancher.internal", "rancher.internal"}
	}
	if svc != nil {
		mc.serviceName = svc.name
		mc.health = copyHealth(svc.health)
		if sk != nil {
			mc.dnsSearch = []string{sk.name + ".rancher.internal", svc.name + "." + sk.name + ".rancher.internal",
				"rancher.internal"}
		}
	}
	if mc.health != nil {
		mc.healthCheckHosts = healthCheckHosts(hosts, c.hostID)
	}
	return mc
}

// healthCheckHosts picks the hosts that probe a container: up to three
// others (Cattle's healthcheck service prefers other hosts), else its own.
func healthCheckHosts(hosts []metaHost, own string) []string {
	var out []string
	for _, h := range hosts {
		if h.id != own && len(out) < 3 {
			out = append(out, h.uuid)
		}
	}
	if len(out) == 0 {
		for _, h := range hosts {
			if h.id == own {
				out = append(out, h.uuid)
			}
		}
	}
	return out
}

func copyStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyHealth(hc *HealthCheck) *HealthCheck {
	if hc == nil {
		return nil
	}
	c := *hc
	return &c
}

// derivedToken is a service's token: stable for the Sim's life, distinct
// from the uuid, not guessable from it.
func derivedToken(salt, uuid string) string {
	sum := sha256.Sum256([]byte(salt + "token:" + uuid))
	return hex.EncodeToString(sum[:20])
}

// derivedUUID is a stable UUID-shaped value for an object the Sim does
// not model (the managed network).
func derivedUUID(salt, what string) string {
	sum := sha256.Sum256([]byte(salt + what))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
