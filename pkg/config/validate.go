package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in the file, with the path of the field.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// knownStates and knownHealthStates are the container states and health
// states that Rancher 1.6 reports.
func knownStates() []string {
	return []string{"requested", "creating", "starting", "running", "stopping", "stopped",
		"restarting", "updating-running", "updating-stopped", "migrating", "erroring", "error",
		"removing", "removed", "purging", "purged"}
}

func knownHealthStates() []string {
	return []string{"", "initializing", "healthy", "unhealthy", "reinitializing",
		"updating-healthy", "updating-unhealthy", "updating-reinitializing"}
}

// nameRE is what a cluster name may look like: it appears in metrics
// labels and URLs.
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)

// Validate checks the file and returns every problem at once, joined, each
// a *FieldError. Call Default first.
func (f *File) Validate() error {
	var v validator
	if f.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q, got %q", APIVersion, f.APIVersion)
	}
	if f.Kind != Kind {
		v.add("kind", "must be %q, got %q", Kind, f.Kind)
	}
	if f.Metadata.Name == "" {
		v.add("metadata.name", "is required: name this environment, e.g. \"production\"")
	}
	f.Spec.Controller.validate(&v, "spec.controller")
	f.Spec.Defaults.validate(&v, "spec.defaults")
	if len(f.Spec.Clusters) == 0 && f.Spec.Defaults.Admin.Token.IsZero() {
		v.add("spec.clusters", "must list at least one cluster, or set spec.defaults.admin.token for the clusters that service labels define (%s)", LabelCluster)
	}
	seen := map[string]int{}
	for i, c := range f.Spec.Clusters {
		p := fmt.Sprintf("spec.clusters[%d]", i)
		c.validate(&v, p)
		if j, dup := seen[c.Name]; dup && c.Name != "" {
			v.add(p+".name", "duplicate cluster name %q (also spec.clusters[%d].name)", c.Name, j)
		} else {
			seen[c.Name] = i
		}
	}
	return v.err()
}

func (c Controller) validate(v *validator, p string) {
	positive := func(name string, d Duration) {
		if d.Duration <= 0 {
			v.add(p+"."+name, "must be positive")
		}
	}
	positive("resyncInterval", c.ResyncInterval)
	positive("driftInterval", c.DriftInterval)
	positive("minEventGap", c.MinEventGap)
	if c.Parallelism < 1 || c.Parallelism > 1024 {
		v.add(p+".parallelism", "must be between 1 and 1024")
	}
	a := p + ".announce"
	if c.Announce.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Announce.Listen); err != nil {
			v.add(a+".listen", "must be host:port such as \":4100\": %v", err)
		}
		if c.Announce.Token.IsZero() {
			v.add(a+".token", "is required when listen is set: use fromEnv or fromFile")
		}
	}
	validateSecretRef(v, a+".token", c.Announce.Token)
	if !c.Announce.TLS.IsZero() && c.Announce.Listen == "" {
		v.add(a+".tls", "has no effect without listen: set listen, or remove tls")
	}
	validatePair(v, a+".tls", c.Announce.TLS.CertFile, c.Announce.TLS.KeyFile)
	if c.Announce.RatePerSecond < 1 {
		v.add(a+".ratePerSecond", "must be at least 1")
	}
}

func (c Cluster) validate(v *validator, p string) {
	switch {
	case c.Name == "":
		v.add(p+".name", "is required")
	case !nameRE.MatchString(c.Name):
		v.add(p+".name", "%q must be lowercase letters, digits, '-', '_' or '.'", c.Name)
	}
	if c.Stack == "" {
		v.add(p+".stack", "is required: the Rancher stack that holds the services")
	}
	if len(c.Services) == 0 {
		v.add(p+".services", "must list at least one Rancher service")
	}
	seen := make(map[string]int, len(c.Services))
	for i, s := range c.Services {
		if s == "" {
			v.add(fmt.Sprintf("%s.services[%d]", p, i), "must not be empty")
		} else if j, dup := seen[s]; dup {
			v.add(fmt.Sprintf("%s.services[%d]", p, i), "duplicate service %q (also %s.services[%d])", s, p, j)
		} else {
			seen[s] = i
		}
	}
	if checkNodeName(c.NodeName) == nil && c.Stack != "" {
		for _, s := range c.Services {
			if err := checkRenderedNodeName(c.NodeName, c.Stack, s); s != "" && err != nil {
				v.add(p+".nodeName", "%v", err)
				break
			}
		}
	}
	if c.Admin.Token.IsZero() {
		v.add(p+".admin.token", "is required: set fromEnv or fromFile here or in spec.defaults.admin.token (agents refuse calls without a token)")
	}
	c.validateSettings(v, p)
}

// validateSettings checks what a cluster sets besides its name, stack and
// services (spec.defaults is checked with it too).
func (c Cluster) validateSettings(v *validator, p string) {
	if err := checkNodeName(c.NodeName); err != nil {
		v.add(p+".nodeName", "%v", err)
	}
	if c.Admin.Port < 1 || c.Admin.Port > 65535 {
		v.add(p+".admin.port", "must be between 1 and 65535")
	}
	if c.Admin.Scheme != "http" && c.Admin.Scheme != "https" {
		v.add(p+".admin.scheme", "must be \"http\" or \"https\", got %q", c.Admin.Scheme)
	}
	c.Admin.TLS.validate(v, p+".admin.tls", c.Admin.Scheme)
	validateSecretRef(v, p+".admin.token", c.Admin.Token)
	if c.Admin.Timeout.Duration <= 0 {
		v.add(p+".admin.timeout", "must be positive")
	}
	checkList(v, p+".membership.states", c.Membership.States, knownStates())
	checkList(v, p+".membership.healthStates", c.Membership.HealthStates, knownHealthStates())
	c.validateTopology(v, p)
	if c.Policy != PolicySync && c.Policy != PolicyAddOnly {
		v.add(p+".policy", "must be %q or %q, got %q", PolicySync, PolicyAddOnly, c.Policy)
	}
	if c.MaxDropPercent != nil && (*c.MaxDropPercent < 1 || *c.MaxDropPercent > 100) {
		v.add(p+".maxDropPercent", "must be between 1 and 100")
	}
}

// dnsNameRE is a host name: the name checked in an agent's certificate.
var dnsNameRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$`)

func (t AdminTLS) validate(v *validator, p, scheme string) {
	if t.IsZero() {
		return
	}
	if scheme != "https" {
		v.add(p, "is set but admin.scheme is %q: set scheme: https, or remove tls", scheme)
	}
	if t.ServerName != "" && (len(t.ServerName) > 253 || !dnsNameRE.MatchString(t.ServerName)) && net.ParseIP(t.ServerName) == nil {
		v.add(p+".serverName", "%q must be a DNS name such as \"hello.drover.internal\" (the name in the agents' certificate) or an IP address", t.ServerName)
	}
	validatePair(v, p, t.CertFile, t.KeyFile)
}

// validatePair checks that a certificate and its key come together.
func validatePair(v *validator, p, certFile, keyFile string) {
	switch {
	case certFile != "" && keyFile == "":
		v.add(p+".keyFile", "is required with certFile: the certificate's private key")
	case certFile == "" && keyFile != "":
		v.add(p+".certFile", "is required with keyFile: the certificate that goes with the key")
	}
}

func validateSecretRef(v *validator, p string, r SecretRef) {
	n := 0
	for _, set := range []bool{r.FromEnv != "", r.FromFile != "", r.Value != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		v.add(p, "set only one of fromEnv, fromFile and value")
	}
}

func checkList(v *validator, p string, got, known []string) {
	if len(got) == 0 {
		v.add(p, "must not be empty")
	}
	for i, s := range got {
		if !slices.Contains(known, s) {
			v.add(fmt.Sprintf("%s[%d]", p, i), "unknown value %q: one of %s", s, strings.Join(quoteAll(known), ", "))
		}
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// Warnings returns advice about valid but risky settings, e.g. inline tokens.
func (f *File) Warnings() []string {
	var out []string
	if f.Spec.Controller.Announce.Token.Value != "" {
		out = append(out, "spec.controller.announce.token.value: the token is inline in the config file; anyone who can read the file can drive your nodes. Use fromEnv or fromFile.")
	}
	if f.Spec.Defaults.Admin.Token.Value != "" {
		out = append(out, "spec.defaults.admin.token.value: the token is inline in the config file; anyone who can read the file can drive your nodes. Use fromEnv or fromFile.")
	}
	for i, c := range f.Spec.Clusters {
		if c.Admin.Token.Value != "" && c.Admin.Token != f.Spec.Defaults.Admin.Token {
			out = append(out, fmt.Sprintf("spec.clusters[%d].admin.token.value: the token is inline in the config file; anyone who can read the file can drive your nodes. Use fromEnv or fromFile.", i))
		}
		out = append(out, c.topologyWarnings(fmt.Sprintf("spec.clusters[%d]", i))...)
		if c.Policy == PolicyAddOnly {
			out = append(out, fmt.Sprintf("spec.clusters[%d].policy: add-only: peers are never removed from cluster %q until the policy is set back to sync", i, c.Name))
		}
	}
	return out
}

type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error { return errors.Join(v.errs...) }
