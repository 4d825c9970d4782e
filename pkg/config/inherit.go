package config

import "slices"

// Defaults are the cluster settings of spec.defaults. A cluster inherits
// each one it does not set itself; what neither sets takes the built-in
// default (default.go). Label-defined clusters (labels.go) can set only
// what is not a secret, so their token, timeout and TLS files come from
// here.
type Defaults struct {
	// NodeName is the node-name template (see Cluster.NodeName).
	NodeName string `json:"nodeName"`
	// Admin is how agents are reached: port, scheme, token, timeout, TLS.
	Admin Admin `json:"admin"`
	// Membership is the rule that decides who is a member.
	Membership Membership `json:"membership"`
	// Topology is the shape of the mesh.
	Topology string `json:"topology"`
	// Degree is the boundedDegree topology's degree.
	Degree *int `json:"degree"`
	// Policy is "sync" or "add-only".
	Policy string `json:"policy"`
	// MaxDropPercent is the sudden-drop threshold.
	MaxDropPercent *int `json:"maxDropPercent"`
}

// applyTo fills the settings c does not set with the defaults' (copies:
// c never shares a slice with d).
func (d Defaults) applyTo(c *Cluster) {
	if c.NodeName == "" {
		c.NodeName = d.NodeName
	}
	a := &c.Admin
	if a.Port == 0 {
		a.Port = d.Admin.Port
	}
	if a.Scheme == "" {
		a.Scheme = d.Admin.Scheme
	}
	if a.Token.IsZero() {
		a.Token = d.Admin.Token
	}
	if a.Timeout.Duration == 0 {
		a.Timeout = d.Admin.Timeout
	}
	if a.TLS.IsZero() {
		a.TLS = d.Admin.TLS
	}
	if c.Membership.States == nil {
		c.Membership.States = slices.Clone(d.Membership.States)
	}
	if c.Membership.HealthStates == nil {
		c.Membership.HealthStates = slices.Clone(d.Membership.HealthStates)
	}
	if c.Topology == "" {
		c.Topology = d.Topology
		if c.Degree == nil && d.Degree != nil {
			v := *d.Degree
			c.Degree = &v
		}
	}
	if c.Policy == "" {
		c.Policy = d.Policy
	}
	if c.MaxDropPercent == nil && d.MaxDropPercent != nil {
		v := *d.MaxDropPercent
		c.MaxDropPercent = &v
	}
}

// Cluster returns a cluster of the given name, stack and services with
// the defaults' settings, defaulted: what a label-defined cluster starts
// from.
func (d Defaults) Cluster(name, stack string, services []string) Cluster {
	c := Cluster{Name: name, Stack: stack, Services: slices.Clone(services)}
	d.applyTo(&c)
	c.Default()
	return c
}

// validate checks the settings the defaults set, as a cluster's are
// checked, under path p.
func (d Defaults) validate(v *validator, p string) {
	c := d.Cluster("defaults", "defaults", []string{"defaults"})
	c.validateSettings(v, p)
}
