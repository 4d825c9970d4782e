package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tokens of the generated configs: the agents' bearer token and the
// announce endpoint's.
const (
	NodeToken     = "drover-harness-node-token"
	AnnounceToken = "drover-harness-announce-token"
)

// Timeouts of the controller's life cycle.
const (
	controllerStartTimeout = 60 * time.Second
	controllerStopGrace    = 30 * time.Second
)

// ClusterConfig is one cluster of a generated config.
type ClusterConfig struct {
	Name, Stack string
	Services    []string
}

// ConfigOptions describe a generated clustered-services file.
type ConfigOptions struct {
	// Name is metadata.name (default "harness").
	Name string
	// Clusters are required.
	Clusters []ClusterConfig
	// ResyncInterval, DriftInterval, MinEventGap: 0 keeps the file
	// defaults (60s, 10s, 100ms).
	ResyncInterval, DriftInterval, MinEventGap time.Duration
	// AnnounceListen is the announce endpoint's address ("" turns it off;
	// nodes in namespaces reach Gateway:port).
	AnnounceListen string
	// NodeName is every cluster's node-name template (default
	// "hello@{{primaryIP}}": hello releases are named so whatever their
	// service).
	NodeName string
	// Extra is appended to every cluster's entry, indented by the caller
	// (e.g. "    policy: add-only\n").
	Extra string
}

// YAML renders the config; tokens come from DROVER_NODE_TOKEN and
// DROVER_ANNOUNCE_TOKEN.
func (o ConfigOptions) YAML() string {
	var b strings.Builder
	name := o.Name
	if name == "" {
		name = "harness"
	}
	fmt.Fprintf(&b, "apiVersion: drover.io/v1alpha1\nkind: ClusteredServices\nmetadata:\n  name: %s\nspec:\n  controller:\n", name)
	dur := func(key string, d time.Duration) {
		if d > 0 {
			fmt.Fprintf(&b, "    %s: %s\n", key, d)
		}
	}
	dur("resyncInterval", o.ResyncInterval)
	dur("driftInterval", o.DriftInterval)
	dur("minEventGap", o.MinEventGap)
	if o.AnnounceListen != "" {
		fmt.Fprintf(&b, "    announce:\n      listen: %q\n      token:\n        fromEnv: DROVER_ANNOUNCE_TOKEN\n", o.AnnounceListen)
	}
	nodeName := o.NodeName
	if nodeName == "" {
		nodeName = "hello@{{primaryIP}}"
	}
	b.WriteString("  clusters:\n")
	for _, c := range o.Clusters {
		fmt.Fprintf(&b, "  - name: %s\n    stack: %s\n    services: [%s]\n", c.Name, c.Stack, strings.Join(c.Services, ", "))
		fmt.Fprintf(&b, "    nodeName: %q\n", nodeName)
		b.WriteString("    admin:\n      token:\n        fromEnv: DROVER_NODE_TOKEN\n")
		b.WriteString(o.Extra)
	}
	return b.String()
}

// ControllerOptions configure StartController.
type ControllerOptions struct {
	// Name tells controllers apart in logs (default "controller").
	Name string
	// Dir holds the config and the log (required).
	Dir string
	// Config is the clustered-services YAML (required).
	Config string
	// OpsAddr is the ops server's address (default a free 127.0.0.1 port).
	OpsAddr string
	// Verbosity is -v (default 1: every pass is logged).
	Verbosity *int
	// Env and Args are added to the environment and the flags.
	Env  []string
	Args []string
}

// Controller is a running controller binary.
type Controller struct {
	proc *Process
	// OpsURL is the ops server's base URL (status, metrics, mesh view).
	OpsURL string
	// ConfigPath is the config file it runs with.
	ConfigPath string
}

// StartController starts the controller against sim and returns once it
// logged that it started. Stop it with Stop or Kill.
func StartController(ctx context.Context, b *Build, sim *Sim, o ControllerOptions) (*Controller, error) {
	if o.Dir == "" || o.Config == "" {
		return nil, errors.New("starting the controller: Dir and Config are required")
	}
	if o.Name == "" {
		o.Name = "controller"
	}
	if o.OpsAddr == "" {
		addr, err := FreeAddr("127.0.0.1")
		if err != nil {
			return nil, err
		}
		o.OpsAddr = addr
	}
	verbosity := 1
	if o.Verbosity != nil {
		verbosity = *o.Verbosity
	}
	path := filepath.Join(o.Dir, o.Name+".yaml")
	if err := os.WriteFile(path, []byte(o.Config), 0o644); err != nil {
		return nil, fmt.Errorf("writing the controller config: %w", err)
	}
	args := append([]string{"--config", path, "--listen", o.OpsAddr, "-v", fmt.Sprint(verbosity)}, o.Args...)
	cmd := exec.Command(b.Controller, args...)
	cmd.Env = append(os.Environ(), "CATTLE_URL="+sim.ProjectURL(), "CATTLE_ACCESS_KEY="+sim.AccessKey,
		"CATTLE_SECRET_KEY="+sim.SecretKey, "DROVER_NODE_TOKEN="+NodeToken, "DROVER_ANNOUNCE_TOKEN="+AnnounceToken)
	cmd.Env = append(cmd.Env, o.Env...)
	logPath := filepath.Join(o.Dir, o.Name+".log")
	proc, err := startLogged(o.Name, cmd, logPath)
	if err != nil {
		return nil, err
	}
	c := &Controller{proc: proc, OpsURL: "http://" + o.OpsAddr, ConfigPath: path}
	err = Eventually(ctx, controllerStartTimeout, 0, func(context.Context) error {
		if exited, werr := proc.Exited(); exited {
			return Permanent(fmt.Errorf("controller exited (%v): %s", werr, tail(proc.Log(), 2000))) //nolint:errorlint // werr is nil on exit status 0
		}
		if !strings.Contains(proc.Log(), "controller started") {
			return errors.New("no \"controller started\" in its log yet")
		}
		return nil
	})
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("starting the controller: %w", err)
	}
	return c, nil
}

// startLogged starts cmd, appending to logPath when it exists (a restarted
// controller keeps one log).
func startLogged(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	if _, err := os.Stat(logPath); err == nil {
		for i := 2; ; i++ {
			p := fmt.Sprintf("%s.%d", logPath, i)
			if _, err := os.Stat(p); err != nil {
				logPath = p
				break
			}
		}
	}
	return StartProcess(name, cmd, logPath)
}

// Process is the controller's process (log, PID).
func (c *Controller) Process() *Process { return c.proc }

// Log returns the controller's output.
func (c *Controller) Log() string { return c.proc.Log() }

// Stop sends SIGTERM and waits for a clean exit (killing it after 30 s);
// false when it had to be killed.
func (c *Controller) Stop() bool {
	_, clean := c.proc.Stop(controllerStopGrace)
	return clean
}

// Kill kills the controller with SIGKILL, as a crash or `docker kill`.
func (c *Controller) Kill() { c.proc.Kill() }

// Ready reports whether the ops server's /readyz answers 200.
func (c *Controller) Ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.OpsURL+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
