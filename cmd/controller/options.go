package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/rancherapi"
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
	// rancherCAFile is a PEM bundle trusted for Rancher's certificate, in
	// addition to the system pool.
	rancherCAFile string

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
  RANCHER_CA_FILE
        Default for --rancher-ca-file: a PEM bundle of the CA that signed
        Rancher's HTTPS certificate, trusted in addition to the system pool.
  SSL_CERT_FILE, SSL_CERT_DIR
        Replace the system pool itself (Go's standard variables); the image
        holds Debian's CA certificates at /etc/ssl/certs/ca-certificates.crt.
  DROVER_CONFIG
        Default for --config.
  Node and announce tokens are read from the variables or files that the
  config file names (admin.token.fromEnv / fromFile).

Exit status: 0 success, 1 runtime failure, 2 usage or config error.
`

// parseOptions reads the command line and the environment. Its errors
// never show a secret: the secret key and the URL's user info, from the
// environment or from the arguments, are scrubbed from them, and the flag
// package's own messages (which quote the values they reject) are not
// printed as they are.
func parseOptions(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*options, error) {
	o, err := parseArgs(args, lookupEnv, stderr)
	if err != nil && !errors.Is(err, errHelp) {
		return nil, errors.New(scrubText(err.Error(), plantedSecrets(args, lookupEnv)...))
	}
	return o, err
}

func parseArgs(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*options, error) {
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
	// The flag package prints its own errors, quoting the values it
	// rejects (a mistyped flag may be followed by the secret): keep them
	// and print only --help's text.
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() {
		fmt.Fprint(&out, usageHeader)
		fs.PrintDefaults()
		fmt.Fprint(&out, usageEnv)
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
	// The Rancher settings take their defaults from the environment after
	// parsing, so that --help never prints them.
	fs.StringVar(&o.rancherURL, "rancher-url", "",
		"Rancher API URL, e.g. https://rancher:8443/v2-beta/projects/1a5 (env CATTLE_URL or RANCHER_URL)")
	fs.StringVar(&o.rancherAccessKey, "rancher-access-key", "",
		"Rancher API access key (env CATTLE_ACCESS_KEY or RANCHER_ACCESS_KEY)")
	secret := envFirst(lookupEnv, "CATTLE_SECRET_KEY", "RANCHER_SECRET_KEY")
	fs.Func("rancher-secret-key", "Rancher API secret key; prefer the env CATTLE_SECRET_KEY or RANCHER_SECRET_KEY, as flags show in ps", func(s string) error {
		secret = s
		return nil
	})
	fs.StringVar(&o.rancherCAFile, "rancher-ca-file", "",
		"PEM bundle of the CA that signed Rancher's HTTPS certificate, trusted in addition to the system pool (env RANCHER_CA_FILE)")
	fs.StringVar(&o.statusURL, "addr", "http://127.0.0.1:9090", "with status: base URL of the controller's ops server")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, errHelp) {
			_, _ = io.Copy(stderr, &out)
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.rancherSecretKey = config.Secret(secret)
	o.rancherURL = strings.TrimSpace(cmp.Or(o.rancherURL, envFirst(lookupEnv, "CATTLE_URL", "RANCHER_URL")))
	o.rancherAccessKey = cmp.Or(o.rancherAccessKey, envFirst(lookupEnv, "CATTLE_ACCESS_KEY", "RANCHER_ACCESS_KEY"))
	o.rancherCAFile = cmp.Or(o.rancherCAFile, envFirst(lookupEnv, "RANCHER_CA_FILE"))
	if o.logFormat != "text" && o.logFormat != "json" {
		return nil, fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	if o.verbosity < 0 {
		return nil, errors.New("-v must be 0 or more")
	}
	return o, nil
}

// secretValues are what no output may show: the secret key and the
// password (and whole user info) of the Rancher URL.
func (o *options) secretValues() []string {
	return append([]string{o.rancherSecretKey.Reveal()}, urlSecrets(o.rancherURL)...)
}

// plantedSecrets finds the secrets before (or without) parsing: the
// secret key and URL from the environment, and the values given to
// --rancher-secret-key and --rancher-url, whatever else is wrong with
// the arguments.
func plantedSecrets(args []string, lookupEnv func(string) (string, bool)) []string {
	out := []string{envFirst(lookupEnv, "CATTLE_SECRET_KEY", "RANCHER_SECRET_KEY")}
	for _, n := range []string{"CATTLE_URL", "RANCHER_URL"} {
		if v, ok := lookupEnv(n); ok {
			out = append(out, urlSecrets(v)...)
		}
	}
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "rancher-secret-key" && name != "rancher-url") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		if name == "rancher-url" {
			out = append(out, urlSecrets(value)...)
		} else {
			out = append(out, value)
		}
	}
	return out
}

// urlSecrets returns the user info of a URL, as text (it may not parse):
// everything from "://" (or the start) to the last "@", and the part of it
// after the first ":" (the password).
func urlSecrets(raw string) []string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndex(raw[start:], "@")
	if at < 0 {
		return nil
	}
	info := raw[start : start+at]
	out := []string{info}
	if _, pw, ok := strings.Cut(info, ":"); ok {
		out = append(out, pw)
	}
	return out
}

// scrubText replaces every secret of 4 bytes or more in s.
func scrubText(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// checkRancher reports what is missing to reach Rancher.
func (o *options) checkRancher() error {
	var missing []string
	if o.rancherURL == "" {
		missing = append(missing, "URL (--rancher-url or CATTLE_URL/RANCHER_URL)")
	} else if err := rancherapi.CheckURL(o.rancherURL); err != nil {
		return usagef("--rancher-url (or CATTLE_URL/RANCHER_URL): %v", err)
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
