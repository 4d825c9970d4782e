package ranchersim

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Fixture describes a Rancher environment: its project, hosts, stacks and
// services. It is read from YAML (strict: unknown fields are errors).
//
//	project: {id: 1a5, name: Default}
//	hosts: [{name: sim-host-1}]
//	stacks:
//	  - name: demo
//	    services:
//	      - name: hello
//	        scale: 3
//	        labels: {app: hello}
//	        healthCheck: {port: 4001, requestLine: "GET /v1/health HTTP/1.0"}
type Fixture struct {
	Project FixtureProject `json:"project"`
	Hosts   []FixtureHost  `json:"hosts,omitempty"`
	Stacks  []FixtureStack `json:"stacks,omitempty"`
	// Shape is merged with Options.Shape (a knob set in either is on).
	Shape Shape `json:"shape,omitempty"`
	// RemoveDelay and PurgeInterval are Options.RemoveDelay and
	// Options.PurgeInterval as Go durations ("-10m", "2s"); Options win
	// when set.
	RemoveDelay   string `json:"removeDelay,omitempty"`
	PurgeInterval string `json:"purgeInterval,omitempty"`
}

// FixtureProject is the environment. ID defaults to DefaultProjectID and
// must look like a Cattle account id ("1a<n>"); Name defaults to
// DefaultProjectName.
type FixtureProject struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// FixtureHost is one Rancher host. Without hosts the project has one,
// "sim-host-1".
type FixtureHost struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// FixtureStack is a stack and its services.
type FixtureStack struct {
	Name     string        `json:"name"`
	Services []ServiceSpec `json:"services,omitempty"`
}

// ServiceSpec describes a service (fixture entry or CreateService argument).
type ServiceSpec struct {
	Name string `json:"name"`
	// Scale is the number of containers.
	Scale int `json:"scale"`
	// Labels are the launch config labels, copied onto every container
	// next to the io.rancher.* labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Environment is the launch config environment, passed to the runtime.
	Environment map[string]string `json:"environment,omitempty"`
	// HealthCheck is optional; zero fields take Rancher's defaults.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// StartOnCreate activates the service at once (fixture services are
	// always activated).
	StartOnCreate bool `json:"startOnCreate,omitempty"`
	// Image is the launch config's imageUuid, e.g. "docker:nginx:1.13".
	// Default DefaultImage.
	Image string `json:"image,omitempty"`
	// NoSystemLabels leaves Cattle's io.rancher.* labels off the
	// containers (as on containers Rancher did not create), so that they
	// carry only Labels.
	NoSystemLabels bool `json:"noSystemLabels,omitempty"`
}

// DefaultImage is the imageUuid of services that name none.
const DefaultImage = "docker:drover/sim:latest"

// HealthCheck is a service's health check, with Cattle's field names and
// units (milliseconds).
type HealthCheck struct {
	Port        int64  `json:"port"`
	RequestLine string `json:"requestLine,omitempty"`
	// Interval defaults to 2000 ms.
	Interval int64 `json:"interval,omitempty"`
	// ResponseTimeout defaults to 2000 ms.
	ResponseTimeout int64 `json:"responseTimeout,omitempty"`
	// HealthyThreshold defaults to 2 consecutive successes.
	HealthyThreshold int64 `json:"healthyThreshold,omitempty"`
	// UnhealthyThreshold defaults to 3 consecutive failures.
	UnhealthyThreshold int64 `json:"unhealthyThreshold,omitempty"`
	// InitializingTimeout defaults to 60000 ms.
	InitializingTimeout int64 `json:"initializingTimeout,omitempty"`
	// ReinitializingTimeout defaults to 60000 ms.
	ReinitializingTimeout int64 `json:"reinitializingTimeout,omitempty"`
	// Strategy is "recreate" (default), "none" or "recreateOnQuorum".
	Strategy string `json:"strategy,omitempty"`
}

// withDefaults returns a copy with Rancher's defaults in zero fields.
func (h HealthCheck) withDefaults() HealthCheck {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&h.Interval, 2000)
	def(&h.ResponseTimeout, 2000)
	def(&h.HealthyThreshold, 2)
	def(&h.UnhealthyThreshold, 3)
	def(&h.InitializingTimeout, 60000)
	def(&h.ReinitializingTimeout, 60000)
	if h.Strategy == "" {
		h.Strategy = "recreate"
	}
	return h
}

var (
	projectIDPattern = regexp.MustCompile(`^1a[1-9][0-9]*$`)
	namePattern      = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)
)

// LoadFixture reads and parses a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading fixture: %w", err)
	}
	f, err := ParseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("parsing fixture file %s: %w", path, err)
	}
	return f, nil
}

// ParseFixture parses YAML (or JSON), applies defaults and validates.
func ParseFixture(data []byte) (*Fixture, error) {
	var f Fixture
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, err
	}
	f.applyDefaults()
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *Fixture) applyDefaults() {
	if f.Project.ID == "" {
		f.Project.ID = DefaultProjectID
	}
	if f.Project.Name == "" {
		f.Project.Name = DefaultProjectName
	}
	if len(f.Hosts) == 0 {
		f.Hosts = []FixtureHost{{Name: "sim-host-1"}}
	}
}

// validate returns every problem, each with its field path.
func (f *Fixture) validate() error {
	var errs []error
	if !projectIDPattern.MatchString(f.Project.ID) {
		errs = append(errs, fmt.Errorf("project.id: %q is not a project id like 1a5", f.Project.ID))
	}
	if _, err := f.durations(); err != nil {
		errs = append(errs, err)
	}
	for i, h := range f.Hosts {
		if h.Name == "" {
			errs = append(errs, fmt.Errorf("hosts[%d].name: must not be empty", i))
		}
	}
	stacks := map[string]bool{}
	for i, st := range f.Stacks {
		p := fmt.Sprintf("stacks[%d]", i)
		if !namePattern.MatchString(st.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q is not a valid stack name", p, st.Name))
		}
		if stacks[st.Name] {
			errs = append(errs, fmt.Errorf("%s.name: duplicate stack %q", p, st.Name))
		}
		stacks[st.Name] = true
		errs = append(errs, validateServices(p, st.Services)...)
	}
	return errors.Join(errs...)
}

func validateServices(p string, specs []ServiceSpec) []error {
	var errs []error
	seen := map[string]bool{}
	for j, sv := range specs {
		q := fmt.Sprintf("%s.services[%d]", p, j)
		for _, err := range sv.problems() {
			errs = append(errs, fmt.Errorf("%s.%w", q, err))
		}
		if seen[sv.Name] {
			errs = append(errs, fmt.Errorf("%s.name: duplicate service %q", q, sv.Name))
		}
		seen[sv.Name] = true
	}
	return errs
}

// fixtureDurations are the parsed RemoveDelay and PurgeInterval (zero
// when empty).
type fixtureDurations struct {
	removeDelay, purgeInterval time.Duration
}

// durations parses RemoveDelay and PurgeInterval.
func (f *Fixture) durations() (fixtureDurations, error) {
	var d fixtureDurations
	var errs []error
	if f.RemoveDelay != "" {
		v, err := time.ParseDuration(f.RemoveDelay)
		if err != nil {
			errs = append(errs, fmt.Errorf("removeDelay: %q is not a duration like -10m or 5s", truncate(f.RemoveDelay, 64)))
		}
		d.removeDelay = v
	}
	if f.PurgeInterval != "" {
		v, err := time.ParseDuration(f.PurgeInterval)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("purgeInterval: %q is not a positive duration like 60s", truncate(f.PurgeInterval, 64)))
		}
		d.purgeInterval = v
	}
	return d, errors.Join(errs...)
}

// truncate shortens s to at most n bytes for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// problems checks one service spec; each error starts with the field name.
func (sv ServiceSpec) problems() []error {
	var errs []error
	if !namePattern.MatchString(sv.Name) {
		errs = append(errs, fmt.Errorf("name: %q is not a valid service name", sv.Name))
	}
	if sv.Scale < 0 {
		errs = append(errs, fmt.Errorf("scale: must not be negative"))
	}
	if sv.Image != "" && (strings.ContainsAny(sv.Image, " \t\n") || len(sv.Image) > 512) {
		errs = append(errs, fmt.Errorf("image: %q is not an image reference", truncate(sv.Image, 64)))
	}
	if hc := sv.HealthCheck; hc != nil {
		if hc.Port < 1 || hc.Port > 65535 {
			errs = append(errs, fmt.Errorf("healthCheck.port: must be between 1 and 65535"))
		}
		switch hc.Strategy {
		case "", "none", "recreate", "recreateOnQuorum":
		default:
			errs = append(errs, fmt.Errorf("healthCheck.strategy: %q is not none, recreate or recreateOnQuorum", hc.Strategy))
		}
	}
	return errs
}
