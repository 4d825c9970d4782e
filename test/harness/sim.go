package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"sigs.k8s.io/yaml"
)

// Defaults of SimOptions.
const (
	// DefaultMetadataAddr and DefaultDNSAddr are where the namespaces'
	// hosts file and resolv.conf point (hack/netns.sh).
	DefaultMetadataAddr = Gateway + ":80"
	DefaultDNSAddr      = Gateway + ":53"
	// simStopGrace covers the simulator stopping every container (Docker's
	// 10 s stop timeout, in parallel) on SIGTERM.
	simStopGrace = 60 * time.Second
	// simStartTimeout bounds the wait for the API to answer.
	simStartTimeout = 60 * time.Second
	// controlTimeout bounds one control call.
	controlTimeout = 30 * time.Second
)

// SimOptions configure StartSim.
type SimOptions struct {
	// Fixture is the environment (required); written to a file in Dir.
	Fixture *ranchersim.Fixture
	// Dir holds the fixture and the log (required: e.g. a temp dir).
	Dir string
	// Runtime is exec (default: hello releases through hack/sim-node.sh),
	// go (in-process Go agents, no root) or none.
	Runtime string
	// Events is cattle (default) or exact.
	Events string
	// IPRange is the containers' CIDR (default 10.42.0.0/16; use a range
	// of your own when other users of the bridge may run at once).
	IPRange string
	// APIAddr defaults to a free 127.0.0.1 port.
	APIAddr string
	// MetadataAddr defaults to DefaultMetadataAddr; "-" turns it off.
	MetadataAddr string
	// DNSAddr defaults to DefaultDNSAddr; "-" turns it off.
	DNSAddr string
	// Isolate runs hack/netns.sh isolate for cut-off hosts (exec runtime).
	Isolate bool
	// Env is added to the simulator's environment (and so to every
	// container's: the exec runtime passes its environment on, below the
	// service's own environment). DROVER_NODE_TOKEN=NodeToken and
	// DROVER_ANNOUNCE_TOKEN=AnnounceToken are always there; add
	// DROVER_ANNOUNCE_URL to turn announcements on.
	Env []string
	// Args are extra flags.
	Args []string
}

// Sim is a running cmd/ranchersim and a client of its control API.
type Sim struct {
	proc *Process
	net  *Net
	// URL is the API base URL (http://127.0.0.1:port).
	URL string
	// AccessKey and SecretKey are the API key.
	AccessKey, SecretKey string
	// ProjectID is the environment's id.
	ProjectID string
	// MetadataAddr and DNSAddr are "" when off.
	MetadataAddr, DNSAddr string
	// IPRange is the containers' CIDR.
	IPRange string
	client  *http.Client
}

// StartSim writes the fixture and starts the simulator; it returns once
// the control API answers. Stop it with Stop.
func StartSim(ctx context.Context, b *Build, o SimOptions) (*Sim, error) {
	if o.Fixture == nil || o.Dir == "" {
		return nil, errors.New("starting the simulator: Fixture and Dir are required")
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	fixture := filepath.Join(o.Dir, "fixture.yaml")
	data, err := yaml.Marshal(o.Fixture)
	if err != nil {
		return nil, fmt.Errorf("encoding the fixture: %w", err)
	}
	if err := os.WriteFile(fixture, data, 0o644); err != nil {
		return nil, fmt.Errorf("writing the fixture: %w", err)
	}
	args := append([]string{"--fixture", fixture, "--api", o.APIAddr, "--events", o.Events,
		"--ip-range", o.IPRange, "--runtime", o.Runtime,
		"--metadata", offIfDash(o.MetadataAddr), "--dns", offIfDash(o.DNSAddr)}, simRuntimeArgs(b, o)...)
	args = append(args, o.Args...)
	cmd := exec.Command(b.Sim, args...)
	cmd.Dir = b.Root
	cmd.Env = append(os.Environ(), "DROVER_NODE_TOKEN="+NodeToken, "DROVER_ANNOUNCE_TOKEN="+AnnounceToken)
	cmd.Env = append(cmd.Env, o.Env...)
	if b.Release != "" {
		cmd.Env = append(cmd.Env, "HELLO_RELEASE="+b.Release)
	}
	proc, err := StartProcess("ranchersim", cmd, filepath.Join(o.Dir, "ranchersim.log"))
	if err != nil {
		return nil, err
	}
	s := &Sim{proc: proc, net: NewNet(b.Root), URL: "http://" + o.APIAddr,
		AccessKey: ranchersim.DefaultAccessKey, SecretKey: ranchersim.DefaultSecretKey,
		ProjectID: o.Fixture.Project.ID, MetadataAddr: offIfDash(o.MetadataAddr), DNSAddr: offIfDash(o.DNSAddr),
		IPRange: o.IPRange, client: &http.Client{}}
	if s.ProjectID == "" {
		s.ProjectID = ranchersim.DefaultProjectID
	}
	if err := s.waitAPI(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (o SimOptions) withDefaults() (SimOptions, error) {
	if o.Runtime == "" {
		o.Runtime = "exec"
	}
	if o.Events == "" {
		o.Events = "cattle"
	}
	if o.IPRange == "" {
		o.IPRange = ranchersim.DefaultIPRange
	}
	if o.MetadataAddr == "" {
		o.MetadataAddr = DefaultMetadataAddr
	}
	if o.DNSAddr == "" {
		o.DNSAddr = DefaultDNSAddr
	}
	if o.APIAddr == "" {
		addr, err := FreeAddr("127.0.0.1")
		if err != nil {
			return o, err
		}
		o.APIAddr = addr
	}
	return o, nil
}

func offIfDash(addr string) string {
	if addr == "-" {
		return ""
	}
	return addr
}

func simRuntimeArgs(b *Build, o SimOptions) []string {
	if o.Runtime != "exec" {
		return nil
	}
	args := []string{"--exec", b.SimNode()}
	if o.Isolate {
		args = append(args, "--isolate-exec", b.NetnsScript()+" isolate")
	}
	return args
}

// FreeAddr returns host:port with a port that was free a moment ago.
func FreeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *Sim) waitAPI(ctx context.Context) error {
	err := Eventually(ctx, simStartTimeout, 0, func(ctx context.Context) error {
		if exited, werr := s.proc.Exited(); exited {
			return Permanent(fmt.Errorf("ranchersim exited (%v): %s", werr, tail(s.proc.Log(), 2000))) //nolint:errorlint // werr is nil on exit status 0
		}
		_, err := s.State(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	return nil
}

// Process is the simulator's process (log, PID).
func (s *Sim) Process() *Process { return s.proc }

// ProjectURL is the environment's API URL, the controller's CATTLE_URL.
func (s *Sim) ProjectURL() string { return s.URL + "/v2-beta/projects/" + s.ProjectID }

// SchemasURL is the go-rancher client's URL.
func (s *Sim) SchemasURL() string { return s.ProjectURL() + "/schemas" }

// Stop stops the simulator (every container gets SIGTERM, then SIGKILL
// after Docker's stop timeout) and deletes the namespace hosts of its
// containers that are left, for instance after a kill. Hosts of other
// users of the bridge are left alone. Safe to call twice.
func (s *Sim) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var ips []string
	if exited, _ := s.proc.Exited(); !exited {
		ips, _ = s.containerIPs(ctx)
	}
	if _, clean := s.proc.Stop(simStopGrace); !clean {
		s.proc.Kill()
	}
	if len(ips) == 0 || os.Geteuid() != 0 {
		return
	}
	hosts, err := s.net.List(ctx)
	if err != nil {
		return
	}
	for _, h := range hosts {
		if slices.Contains(ips, h.IP) {
			_, _ = s.net.Do(ctx, "del", h.Name)
		}
	}
}

// containerIPs returns the IP of every container the simulator knows.
func (s *Sim) containerIPs(ctx context.Context) ([]string, error) {
	var st struct {
		Stacks map[string][]struct {
			Containers []struct {
				IP string `json:"ip"`
			} `json:"containers"`
		} `json:"stacks"`
	}
	if err := s.do(ctx, http.MethodGet, "/_sim/state", nil, &st); err != nil {
		return nil, err
	}
	var ips []string
	for _, svcs := range st.Stacks {
		for _, svc := range svcs {
			for _, c := range svc.Containers {
				if c.IP != "" {
					ips = append(ips, c.IP)
				}
			}
		}
	}
	return ips, nil
}

// Control calls POST /_sim/<name> with body and decodes the answer into out
// (nil: discarded).
func (s *Sim) Control(ctx context.Context, name string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return s.do(ctx, http.MethodPost, "/_sim/"+name, data, out)
}

func (s *Sim) do(ctx context.Context, method, path string, body []byte, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, controlTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	req.SetBasicAuth(s.AccessKey, s.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulator %s: %s: %s", path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("simulator %s: decoding: %w", path, err)
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
