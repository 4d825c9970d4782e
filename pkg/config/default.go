package config

import (
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Defaults. Each carries the reason for its value.
const (
	// DefaultResyncInterval: the controller's cache of Rancher is fed by
	// the event stream and listed again on every reconnect, so a resync
	// only repairs an event Cattle dropped while the stream stayed up. One
	// costs 2 + ceil(containers/1000) requests (stacks, services, then
	// containers at 1,000 a page): every 10 minutes that is 24 requests an
	// hour at 2,000 containers, 72 at 10,000, and at most 150 up to 23,000.
	DefaultResyncInterval = 10 * time.Minute
	// DefaultDriftInterval: re-reading node statuses is cheap (one small GET
	// per node) and 10 s notices a silently lost host long before
	// net_ticktime (45-75 s).
	DefaultDriftInterval = 10 * time.Second
	// DefaultMinEventGap merges a burst of events into one pass while
	// adding little latency to a join.
	DefaultMinEventGap = 100 * time.Millisecond
	// DefaultParallelism bounds concurrent admin calls; each is a small
	// HTTP request, so 32 keeps a pass over 2,000 nodes short without
	// opening thousands of sockets.
	DefaultParallelism = 32
	// DefaultAnnounceRate, DefaultAdminPort and DefaultAdminTimeout are
	// the protocol's (pkg/mesh/defaults.go carries their reasons).
	DefaultAnnounceRate = mesh.DefaultAnnounceRate
	DefaultAdminPort    = mesh.DefaultAdminPort
	DefaultAdminTimeout = mesh.DefaultAdminTimeout
	// DefaultNodeName is the recipe's naming: basename@primary IP.
	DefaultNodeName = "{{service}}@{{primaryIP}}"
	// DefaultMaxDropPercent: losing more than half a cluster at once is more
	// often a bad observation than a real event; hold it for one pass.
	DefaultMaxDropPercent = 50
)

// DefaultStates and DefaultHealthStates return the default membership
// rule: running, and healthy (or no health check), as rancher-dns and
// external-dns filter.
func DefaultStates() []string       { return []string{"running"} }
func DefaultHealthStates() []string { return []string{"healthy", "updating-healthy", ""} }

// Default fills every unset field with its default: a cluster's from
// spec.defaults, then from the built-in defaults. It is idempotent.
func (f *File) Default() {
	c := &f.Spec.Controller
	setDuration(&c.ResyncInterval, DefaultResyncInterval)
	setDuration(&c.DriftInterval, DefaultDriftInterval)
	setDuration(&c.MinEventGap, DefaultMinEventGap)
	if c.Parallelism == 0 {
		c.Parallelism = DefaultParallelism
	}
	if c.Announce.RatePerSecond == 0 {
		c.Announce.RatePerSecond = DefaultAnnounceRate
	}
	for i := range f.Spec.Clusters {
		f.Spec.Defaults.applyTo(&f.Spec.Clusters[i])
		f.Spec.Clusters[i].Default()
	}
}

// Default fills every unset field of the cluster with its default.
func (c *Cluster) Default() {
	if c.NodeName == "" {
		c.NodeName = DefaultNodeName
	}
	if c.Admin.Port == 0 {
		c.Admin.Port = DefaultAdminPort
	}
	if c.Admin.Scheme == "" {
		c.Admin.Scheme = "http"
	}
	setDuration(&c.Admin.Timeout, DefaultAdminTimeout)
	if c.Membership.States == nil {
		c.Membership.States = DefaultStates()
	}
	if c.Membership.HealthStates == nil {
		c.Membership.HealthStates = DefaultHealthStates()
	}
	for i, h := range c.Membership.HealthStates {
		if h == "none" {
			c.Membership.HealthStates[i] = ""
		}
	}
	c.defaultTopology()
	if c.Policy == "" {
		c.Policy = PolicySync
	}
	if c.MaxDropPercent == nil {
		v := DefaultMaxDropPercent
		c.MaxDropPercent = &v
	}
}

func setDuration(d *Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}
