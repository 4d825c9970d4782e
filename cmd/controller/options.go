package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/drover-mesh/drover/pkg/config"
)

var errHelp = flag.ErrHelp

// options is everything the command line and the environment say.
type options struct {
	configPath string
	once       bool
	dryRun     bool
	logFormat  string
	verbosity  int
	listen     string
	check      bool

	rancherURL       string
	rancherAccessKey string
	rancherSecretKey config.Secret

	// statusURL is the ops address that "controller status" reads.
	statusURL string

	lookupEnv func(string) (string, bool)
	command   func(ctx context.Context, o *options, stdout, stderr io.Writer) error
}

// envFirst returns the first set, non-empty variable of names.
func envFirst(lookupEnv func(string) (string, bool), names ...string) string {
	for _, n := range names {
		if v, ok := lookupEnv(n); ok && v != "" {
			return v
		}
	}
	return ""
}

const usageHeader = `Usage:
  controller [flags]            run the controller
  controller validate [flags]   only check the config file (same as --check)
  controller status [--addr URL] print the status table of a running controller

drover keeps the Erlang/Elixir nodes of Rancher 1.6 services in one
distributed-Erlang mesh: it watches the services named in --config through
the Rancher API and pushes to each node's agent the peers it should hold.

Flags:
`

const usageEnv = `
Environment:
  CATTLE_URL, CATTLE_ACCESS_KEY, CATTLE_SECRET_KEY
        Rancher API URL and environment API key. Rancher 1.6 injects these
        into a container labelled io.rancher.container.create_agent=true and
        io.rancher.container.agent.role=environment.
  RANCHER_URL, RANCHER_ACCESS_KEY, RANCHER_SECRET_KEY
        Accepted instead of the CATTLE_ variables (as the rancher CLI uses).
  DROVER_CONFIG
        Default for --config.
  Node and announce tokens are read from the variables or files that the
  config file names (admin.token.fromEnv / fromFile).

Exit status: 0 success, 1 runtime failure, 2 usage or config error.
`

func parseOptions(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*options, error) {
	o := &options{lookupEnv: lookupEnv, command: runController}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "validate":
			o.check = true
		case "status":
			o.command = runStatus
		default:
			return nil, fmt.Errorf("unknown command %q: use validate or status", args[0])
		}
		args = args[1:]
	}
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHeader)
		fs.PrintDefaults()
		fmt.Fprint(stderr, usageEnv)
	}
	defConfig := envFirst(lookupEnv, "DROVER_CONFIG")
	if defConfig == "" {
		defConfig = "/etc/drover/config.yaml"
	}
	fs.StringVar(&o.configPath, "config", defConfig, "path of the clustered-services YAML file (env DROVER_CONFIG)")
	fs.BoolVar(&o.once, "once", false, "run one pass and exit (status 1 if it failed)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "log the plan of each pass and push nothing to nodes")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.IntVar(&o.verbosity, "v", 0, "log verbosity: 0 shows changes and errors, 1 adds every pass")
	fs.StringVar(&o.listen, "listen", ":9090", "address of the ops HTTP server (/healthz, /readyz, /metrics, /status, mesh view); empty disables it")
	fs.BoolVar(&o.check, "check", o.check, "only load and validate the config file, then exit")
	fs.StringVar(&o.rancherURL, "rancher-url", envFirst(lookupEnv, "CATTLE_URL", "RANCHER_URL"),
		"Rancher API URL, e.g. http://rancher:8080/v2-beta/projects/1a5 (env CATTLE_URL or RANCHER_URL)")
	fs.StringVar(&o.rancherAccessKey, "rancher-access-key", envFirst(lookupEnv, "CATTLE_ACCESS_KEY", "RANCHER_ACCESS_KEY"),
		"Rancher API access key (env CATTLE_ACCESS_KEY or RANCHER_ACCESS_KEY)")
	secret := envFirst(lookupEnv, "CATTLE_SECRET_KEY", "RANCHER_SECRET_KEY")
	fs.Func("rancher-secret-key", "Rancher API secret key; prefer the env CATTLE_SECRET_KEY or RANCHER_SECRET_KEY, as flags show in ps", func(s string) error {
		secret = s
		return nil
	})
	fs.StringVar(&o.statusURL, "addr", "http://127.0.0.1:9090", "with status: base URL of the controller's ops server")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.rancherSecretKey = config.Secret(secret)
	if o.logFormat != "text" && o.logFormat != "json" {
		return nil, fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	if o.verbosity < 0 {
		return nil, errors.New("-v must be 0 or more")
	}
	return o, nil
}

// checkRancher reports what is missing to reach Rancher.
func (o *options) checkRancher() error {
	var missing []string
	if o.rancherURL == "" {
		missing = append(missing, "URL (--rancher-url or CATTLE_URL/RANCHER_URL)")
	} else if u, err := url.Parse(o.rancherURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return usagef("Rancher URL %q must be http(s)://host[:port][/v2-beta/projects/<id>]", o.rancherURL)
	}
	if o.rancherAccessKey == "" {
		missing = append(missing, "access key (--rancher-access-key or CATTLE_ACCESS_KEY/RANCHER_ACCESS_KEY)")
	}
	if o.rancherSecretKey == "" {
		missing = append(missing, "secret key (CATTLE_SECRET_KEY/RANCHER_SECRET_KEY)")
	}
	if len(missing) > 0 {
		return usagef("missing Rancher %s", strings.Join(missing, ", "))
	}
	return nil
}
