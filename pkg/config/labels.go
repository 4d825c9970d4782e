package config

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Labels that define clusters, set on a Rancher service's launch config
// (the labels of its docker-compose entry). A service labelled
// io.drover.cluster=NAME joins the cluster NAME of its stack; the others
// each set one setting of that cluster, as the YAML field of the same name
// would. Secrets never come from labels: a label-defined cluster takes its
// token (and its admin timeout and TLS files) from spec.defaults.
const (
	// LabelPrefix starts every drover label; an unknown label with it is
	// an error, as an unknown YAML field is.
	LabelPrefix = "io.drover."
	// LabelCluster names the cluster the service joins (required).
	LabelCluster = "io.drover.cluster"
	// LabelNodeName is the node-name template (nodeName).
	LabelNodeName = "io.drover.node_name"
	// LabelAdminPort and LabelAdminScheme are admin.port and admin.scheme.
	LabelAdminPort   = "io.drover.admin.port"
	LabelAdminScheme = "io.drover.admin.scheme"
	// LabelStates and LabelHealthStates are membership.states and
	// membership.healthStates, comma-separated ("none": no health check).
	LabelStates       = "io.drover.membership.states"
	LabelHealthStates = "io.drover.membership.health_states"
	// LabelPolicy is policy: sync or add-only.
	LabelPolicy = "io.drover.policy"
	// LabelMaxDropPercent is maxDropPercent.
	LabelMaxDropPercent = "io.drover.max_drop_percent"
	// LabelTopology and LabelDegree are topology (fullMesh or
	// boundedDegree) and degree.
	LabelTopology = "io.drover.topology"
	LabelDegree   = "io.drover.degree"
	// LabelPaused=true is policy add-only: peers are only ever added (the
	// etcd operator's io.rancher.operator paused flag, for incidents).
	LabelPaused = "io.drover.paused"
)

// Bounds of a label value: Rancher stores what a compose file says, and
// an error quotes at most maxQuoted bytes of it.
const (
	maxLabelValue = 1024
	maxListItems  = 32
	maxQuoted     = 64
)

// LabelError is one problem with a service's drover labels.
type LabelError struct {
	// Service is "stack/service".
	Service string
	// Label is the label's key.
	Label string
	Msg   string
}

func (e *LabelError) Error() string {
	return "service " + e.Service + ": label " + e.Label + ": " + e.Msg
}

// labelSettings is what one service's labels set; nil (or an empty
// string) is a setting they leave alone.
type labelSettings struct {
	nodeName     string
	port         *int
	scheme       string
	states       []string
	healthStates []string
	policy       string
	maxDrop      *int
	topology     string
	degree       *int
}

// parseLabels reads the drover labels of a service: the cluster it names
// (empty when it names none that is valid) and its settings, with every
// problem, each naming the service and the label.
func parseLabels(svc LabelledService) (string, labelSettings, []error) {
	var s labelSettings
	var errs []error
	where := svc.Stack + "/" + svc.Service
	bad := func(label, format string, args ...any) {
		errs = append(errs, &LabelError{Service: where, Label: label, Msg: fmt.Sprintf(format, args...)})
	}
	paused := false
	cluster, clusterBad := "", false
	for _, key := range slices.Sorted(maps.Keys(svc.Labels)) {
		if !strings.HasPrefix(key, LabelPrefix) {
			continue
		}
		raw := svc.Labels[key]
		if len(raw) > maxLabelValue {
			bad(key, "the value is %d bytes long, over the limit of %d", len(raw), maxLabelValue)
			continue
		}
		v := strings.TrimSpace(raw)
		switch key {
		case LabelCluster:
			if v == "" || !nameRE.MatchString(v) || len(v) > 63 {
				bad(key, "%s must be a cluster name of at most 63 lowercase letters, digits, '-', '_' or '.'", quote(raw))
				clusterBad = true
				continue
			}
			cluster = v
		case LabelNodeName:
			if err := checkNodeName(v); err != nil {
				bad(key, "%v", err)
				continue
			}
			s.nodeName = v
		case LabelAdminPort:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 || v != strconv.Itoa(n) {
				bad(key, "%s must be a port number between 1 and 65535", quote(raw))
				continue
			}
			s.port = &n
		case LabelAdminScheme:
			if v != "http" && v != "https" {
				bad(key, "must be \"http\" or \"https\", got %s", quote(raw))
				continue
			}
			s.scheme = v
		case LabelStates:
			if list, ok := parseList(v, knownStates(), func(f string, a ...any) { bad(key, f, a...) }); ok {
				s.states = list
			}
		case LabelHealthStates:
			if list, ok := parseList(v, knownHealthStates(), func(f string, a ...any) { bad(key, f, a...) }); ok {
				s.healthStates = list
			}
		case LabelPolicy:
			if v != PolicySync && v != PolicyAddOnly {
				bad(key, "must be %q or %q, got %s", PolicySync, PolicyAddOnly, quote(raw))
				continue
			}
			s.policy = v
		case LabelMaxDropPercent:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 || v != strconv.Itoa(n) {
				bad(key, "%s must be a whole number between 1 and 100", quote(raw))
				continue
			}
			s.maxDrop = &n
		case LabelTopology:
			if v != TopologyFullMesh && v != TopologyBoundedDegree {
				bad(key, "must be %q or %q, got %s", TopologyFullMesh, TopologyBoundedDegree, quote(raw))
				continue
			}
			s.topology = v
		case LabelDegree:
			n, err := strconv.Atoi(v)
			if err != nil || n < MinDegree || n > MaxDegree || v != strconv.Itoa(n) {
				bad(key, "%s must be a whole number between %d and %d", quote(raw), MinDegree, MaxDegree)
				continue
			}
			s.degree = &n
		case LabelPaused:
			switch v {
			case "true":
				paused = true
			case "false":
			default:
				bad(key, "must be \"true\" or \"false\", got %s", quote(raw))
			}
		default:
			bad(key, "unknown label: drover reads %s", strings.Join(knownLabels(), ", "))
		}
	}
	if paused {
		if s.policy == PolicySync {
			bad(LabelPaused, "true contradicts %s=%s: remove one of them", LabelPolicy, PolicySync)
		}
		s.policy = PolicyAddOnly
	}
	if s.degree != nil && s.topology != TopologyBoundedDegree {
		bad(LabelDegree, "is set without %s=%s: the degree bounds only that topology", LabelTopology, TopologyBoundedDegree)
		s.degree = nil
	}
	if cluster == "" && !clusterBad {
		bad(LabelCluster, "is required with the other %s labels: name the cluster the service joins", LabelPrefix+"*")
	}
	return cluster, s, errs
}

// parseList reads a comma-separated list of known values ("none" stands
// for "" among health states).
func parseList(v string, known []string, bad func(string, ...any)) ([]string, bool) {
	parts := strings.Split(v, ",")
	if len(parts) > maxListItems {
		bad("lists %d values, over the limit of %d", len(parts), maxListItems)
		return nil, false
	}
	out := make([]string, 0, len(parts))
	ok := true
	for _, p := range parts {
		p = strings.TrimSpace(p)
		value := p
		if slices.Contains(known, "") && p == "none" {
			value = ""
		}
		switch {
		case p == "":
			bad("%s has an empty value: separate values with commas, e.g. \"healthy,none\"", quote(v))
			ok = false
		case !slices.Contains(known, value):
			bad("unknown value %s: one of %s", quote(p), strings.Join(quoteAll(known), ", "))
			ok = false
		case !slices.Contains(out, value):
			out = append(out, value)
		}
	}
	return out, ok
}

// apply sets what the labels set on c.
func (s labelSettings) apply(c *Cluster) {
	if s.nodeName != "" {
		c.NodeName = s.nodeName
	}
	if s.port != nil {
		c.Admin.Port = *s.port
	}
	if s.scheme != "" {
		c.Admin.Scheme = s.scheme
	}
	if s.states != nil {
		c.Membership.States = slices.Clone(s.states)
	}
	if s.healthStates != nil {
		c.Membership.HealthStates = slices.Clone(s.healthStates)
	}
	if s.policy != "" {
		c.Policy = s.policy
	}
	if s.maxDrop != nil {
		v := *s.maxDrop
		c.MaxDropPercent = &v
	}
	if s.topology != "" {
		c.Topology = s.topology
		c.Degree = nil
	}
	if s.degree != nil {
		v := *s.degree
		c.Degree = &v
	}
}

// tunables are the settings labels can set, each read from a defaulted
// cluster as its label would spell it.
func tunables() []struct {
	label string
	get   func(Cluster) string
} {
	return []struct {
		label string
		get   func(Cluster) string
	}{
		{LabelNodeName, func(c Cluster) string { return c.NodeName }},
		{LabelAdminPort, func(c Cluster) string { return strconv.Itoa(c.Admin.Port) }},
		{LabelAdminScheme, func(c Cluster) string { return c.Admin.Scheme }},
		{LabelStates, func(c Cluster) string { return strings.Join(c.Membership.States, ",") }},
		{LabelHealthStates, func(c Cluster) string { return labelList(c.Membership.HealthStates) }},
		{LabelPolicy, func(c Cluster) string { return c.Policy }},
		{LabelMaxDropPercent, func(c Cluster) string {
			if c.MaxDropPercent == nil {
				return strconv.Itoa(DefaultMaxDropPercent)
			}
			return strconv.Itoa(*c.MaxDropPercent)
		}},
		{LabelTopology, func(c Cluster) string { return c.Topology }},
		{LabelDegree, func(c Cluster) string { return strconv.Itoa(c.DegreeOf()) }},
	}
}

// differences names each setting in which two defaulted clusters differ,
// as "LABEL is A on WHO-A and B on WHO-B".
func differences(a Cluster, whoA string, b Cluster, whoB string) []string {
	var out []string
	for _, t := range tunables() {
		if va, vb := t.get(a), t.get(b); va != vb {
			out = append(out, fmt.Sprintf("%s is %q on %s and %q on %s", t.label, va, whoA, vb, whoB))
		}
	}
	return out
}

// labelList spells a health-state list as a label would ("" is none).
func labelList(states []string) string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = cmp.Or(s, "none")
	}
	return strings.Join(out, ",")
}

func knownLabels() []string {
	return []string{LabelCluster, LabelNodeName, LabelAdminPort, LabelAdminScheme, LabelStates, LabelHealthStates,
		LabelPolicy, LabelMaxDropPercent, LabelTopology, LabelDegree, LabelPaused}
}

// quote quotes at most maxQuoted bytes of s.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}
