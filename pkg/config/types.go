package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/drover-mesh/drover/internal/boundedread"
)

// APIVersion and Kind identify a clustered-services file.
const (
	APIVersion = "drover.io/v1alpha1"
	Kind       = "ClusteredServices"
)

// File is the whole clustered-services file.
type File struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the file, as Kubernetes objects are named.
type Metadata struct {
	// Name identifies this set of clusters in logs and status, e.g. the
	// Rancher environment's name.
	Name string `json:"name"`
}

// Spec holds the controller settings and the clusters.
type Spec struct {
	Controller Controller `json:"controller"`
	Clusters   []Cluster  `json:"clusters"`
}

// Controller tunes the reconcile loop. Every field has a default.
type Controller struct {
	// ResyncInterval is how often the controller re-lists Rancher even while
	// the event stream is healthy, because events can be lost. Default 60s.
	ResyncInterval Duration `json:"resyncInterval"`
	// DriftInterval is how often node statuses are re-read to repair drift
	// (a healed partition, a node restarted by hand). Default 10s.
	DriftInterval Duration `json:"driftInterval"`
	// MinEventGap merges bursts of events into one pass. Default 100ms.
	MinEventGap Duration `json:"minEventGap"`
	// Parallelism bounds concurrent calls to node admin endpoints. Default 32.
	Parallelism int `json:"parallelism"`
	// Announce configures the node-facing endpoint where agents announce
	// "up" and "stopping". Disabled when listen is empty.
	Announce Announce `json:"announce"`
}

// Announce is the controller's node-facing endpoint.
type Announce struct {
	// Listen is the address to listen on, e.g. ":4100". Empty disables it.
	Listen string `json:"listen"`
	// Token authenticates nodes; required when Listen is set.
	Token SecretRef `json:"token"`
	// RatePerSecond caps accepted announcements per second. Default 200.
	RatePerSecond int `json:"ratePerSecond"`
	// TLS, when set, makes the endpoint serve HTTPS; agents then announce
	// to an https:// URL and verify this certificate.
	TLS ServerTLS `json:"tls"`
}

// ServerTLS is a certificate the controller serves.
type ServerTLS struct {
	// CertFile is the certificate chain (PEM), leaf first.
	CertFile string `json:"certFile,omitempty"`
	// KeyFile is its private key (PEM).
	KeyFile string `json:"keyFile,omitempty"`
}

// IsZero reports whether no certificate is set: plain HTTP.
func (t ServerTLS) IsZero() bool { return t == ServerTLS{} }

// Cluster is one mesh: the services of one stack whose containers are all
// connected to one another.
type Cluster struct {
	// Name identifies the cluster in logs, metrics and status.
	Name string `json:"name"`
	// Stack is the Rancher stack that holds the services.
	Stack string `json:"stack"`
	// Services are the Rancher services whose containers form the mesh.
	Services []string `json:"services"`
	// NodeName is the template of a node's Erlang name. Placeholders:
	// {{service}}, {{stack}}, {{primaryIP}}, {{name}} (the container name).
	// Default "{{service}}@{{primaryIP}}", as in hello@10.42.3.7.
	NodeName string `json:"nodeName"`
	// Admin says how to reach the agent inside each node.
	Admin Admin `json:"admin"`
	// Membership says which containers count as members.
	Membership Membership `json:"membership"`
	// Topology is the shape of the mesh. Only "fullMesh" exists today.
	Topology string `json:"topology"`
	// Policy is "sync" (add and remove peers) or "add-only" (never remove;
	// for incidents). Default "sync".
	Policy string `json:"policy"`
	// MaxDropPercent: a pass that would remove more than this share of the
	// cluster's members at once is held for one confirming pass. Default 50.
	MaxDropPercent *int `json:"maxDropPercent"`
}

// Admin is the node agent's admin endpoint.
type Admin struct {
	// Port of the agent on the container's primary IP. Default 4001.
	Port int `json:"port"`
	// Scheme is "http" or "https". Default "http".
	Scheme string `json:"scheme"`
	// Token authenticates the controller to the agents.
	Token SecretRef `json:"token"`
	// Timeout bounds each call to an agent. Default 2s.
	Timeout Duration `json:"timeout"`
	// TLS says how agents reached with scheme https are verified. Without
	// it, https uses the system's CA pool and checks the container's IP.
	TLS AdminTLS `json:"tls"`
}

// AdminTLS is how the controller checks the agents' certificates and
// proves itself to agents that require a client certificate.
type AdminTLS struct {
	// CAFile is the CA bundle (PEM) that signed the agents' certificates.
	// Empty: the system pool.
	CAFile string `json:"caFile,omitempty"`
	// ServerName is the name checked in an agent's certificate. Agents are
	// dialled by IP, so one service certificate with this DNS name serves
	// every container. Empty: the container's IP must be in the
	// certificate.
	ServerName string `json:"serverName,omitempty"`
	// CertFile and KeyFile are a client certificate (PEM) to present, for
	// agents that require one. Both or neither.
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// IsZero reports whether nothing is set.
func (t AdminTLS) IsZero() bool { return t == AdminTLS{} }

// Membership is the rule that decides who is in the mesh.
type Membership struct {
	// States are the container states that count. Default [running].
	States []string `json:"states"`
	// HealthStates are the health states that count; "" (or "none") means a
	// container without a health check. Default [healthy, updating-healthy, ""].
	HealthStates []string `json:"healthStates"`
}

// Policy values.
const (
	PolicySync    = "sync"
	PolicyAddOnly = "add-only"
)

// TopologyFullMesh connects every member to every other member.
const TopologyFullMesh = "fullMesh"

// Secret is a sensitive string. It prints and marshals as "REDACTED" so it
// cannot leak into logs, errors or status output by accident.
type Secret string

// Redacted is what a Secret shows instead of its value.
const Redacted = "REDACTED"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer, so %#v does not leak either.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Reveal returns the secret value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// SecretRef says where a secret comes from. Exactly one field is set.
type SecretRef struct {
	// FromEnv names an environment variable that holds the secret.
	FromEnv string `json:"fromEnv,omitempty"`
	// FromFile names a file whose content (trimmed) is the secret.
	FromFile string `json:"fromFile,omitempty"`
	// Value is the secret inline. Allowed, with a loud warning: config files
	// end up in repositories.
	Value Secret `json:"value,omitempty"`
}

// IsZero reports whether no source is set.
func (r SecretRef) IsZero() bool { return r.FromEnv == "" && r.FromFile == "" && r.Value == "" }

// MaxSecretFileBytes caps a token file: a token is a few dozen bytes, and
// a path such as /dev/zero must not be read into memory.
const MaxSecretFileBytes = 64 << 10

// ReadSecretFile reads a token file: it must be a regular file of at most
// MaxSecretFileBytes. It is what ResolveSecret's readFile is in production.
func ReadSecretFile(path string) ([]byte, error) {
	return boundedread.Regular(path, MaxSecretFileBytes)
}

// ResolveSecret returns the secret that r refers to, using lookupEnv and
// readFile (os.LookupEnv and ReadSecretFile in production).
func ResolveSecret(r SecretRef, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (Secret, error) {
	switch {
	case r.Value != "":
		return r.Value, nil
	case r.FromEnv != "":
		v, ok := lookupEnv(r.FromEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("environment variable %s is not set or empty: set it to the token", r.FromEnv)
		}
		return Secret(strings.TrimSpace(v)), nil
	case r.FromFile != "":
		b, err := readFile(r.FromFile)
		if err != nil {
			return "", fmt.Errorf("reading token file: %w", err)
		}
		if len(b) > MaxSecretFileBytes {
			return "", fmt.Errorf("token file %s is over the limit of %d bytes", r.FromFile, MaxSecretFileBytes)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("token file %s is empty", r.FromFile)
		}
		return Secret(v), nil
	}
	return "", fmt.Errorf("no token source: set fromEnv, fromFile or value")
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration struct{ time.Duration }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"10s\" or \"500ms\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"10s\" or \"500ms\"", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
