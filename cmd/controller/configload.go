package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/drover-mesh/drover/internal/boundedread"
	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// loaded is one good configuration: the file, checked, with the secrets
// and TLS settings it names read. The controller starts with one and a
// reload replaces it as a whole, or not at all.
type loaded struct {
	file   *config.File
	path   string
	digest string // "sha256:" and the first 16 hex digits of the content
	at     time.Time
	// secrets are the tokens the file names, by reference; tls the client
	// TLS settings of https clusters and of spec.defaults, by settings.
	secrets map[config.SecretRef]config.Secret
	tls     map[config.AdminTLS]*tls.Config
}

// token is the admin token of a cluster of this configuration (a
// label-defined one inherits spec.defaults').
func (l *loaded) token(c config.Cluster) config.Secret { return l.secrets[c.Admin.Token] }

// clientTLS is the TLS settings of an https cluster; nil for http.
func (l *loaded) clientTLS(c config.Cluster) *tls.Config {
	if c.Admin.Scheme != "https" {
		return nil
	}
	return l.tls[c.Admin.TLS]
}

// secretValues are the values no output may show.
func (l *loaded) secretValues() []string {
	var out []string
	for _, s := range l.secrets {
		out = append(out, s.Reveal())
	}
	return out
}

// readConfig reads and checks the file at path: the YAML, then, unless
// skipFiles (validate --skip-files), every file it names (checkFiles). It
// does not resolve environment variables, so that validate runs where
// they are not set.
func readConfig(ctx context.Context, path string, skipFiles bool) (*config.File, []byte, error) {
	b, err := boundedread.File(path, config.MaxFileBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	f, err := config.LoadContext(ctx, b)
	if err != nil {
		return nil, nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if skipFiles {
		return f, b, nil
	}
	if err := checkFiles(f); err != nil {
		return nil, nil, fmt.Errorf("config file %s: %w (to check the file where they are not mounted: validate --skip-files)", path, err)
	}
	return f, b, nil
}

// resolveConfig reads the secrets and TLS files of a checked file; every
// problem is reported, each with the path that names it.
func resolveConfig(f *config.File, path string, data []byte, lookupEnv func(string) (string, bool)) (*loaded, error) {
	sum := sha256.Sum256(data)
	l := &loaded{file: f, path: path, digest: "sha256:" + hex.EncodeToString(sum[:8]), at: time.Now(),
		secrets: map[config.SecretRef]config.Secret{}, tls: map[config.AdminTLS]*tls.Config{}}
	var errs []error
	secret := func(p string, r config.SecretRef) {
		if r.IsZero() {
			return
		}
		if _, done := l.secrets[r]; done {
			return
		}
		s, err := config.ResolveSecret(r, lookupEnv, config.ReadSecretFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			return
		}
		l.secrets[r] = s
	}
	clientTLS := func(p string, t config.AdminTLS) {
		if _, done := l.tls[t]; done {
			return
		}
		cfg, err := nodeapi.ClientTLSConfig(clientTLS(t))
		if err != nil {
			errs = append(errs, &config.FieldError{Path: p, Msg: err.Error()})
			return
		}
		l.tls[t] = cfg
	}
	secret("spec.defaults.admin.token", f.Spec.Defaults.Admin.Token)
	clientTLS("spec.defaults.admin.tls", f.Spec.Defaults.Admin.TLS)
	for i, c := range f.Spec.Clusters {
		p := fmt.Sprintf("spec.clusters[%d].admin", i)
		secret(p+".token", c.Admin.Token)
		if c.Admin.Scheme == "https" {
			clientTLS(p+".tls", c.Admin.TLS)
		}
	}
	if a := f.Spec.Controller.Announce; a.Listen != "" {
		secret("spec.controller.announce.token", a.Token)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return l, nil
}

// loadConfigFile reads, checks and resolves the file at path: what a
// reload does.
func loadConfigFile(ctx context.Context, path string, lookupEnv func(string) (string, bool)) (*loaded, error) {
	f, b, err := readConfig(ctx, path, false)
	if err != nil {
		return nil, err
	}
	return resolveConfig(f, path, b, lookupEnv)
}
