package main

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// checkFiles reads every file the config names besides itself: token
// files (each a regular file of at most config.MaxSecretFileBytes, not
// empty) and TLS files (they must parse). It reports every problem with
// the config path that names the file. Tokens from environment variables
// are not checked: validate may run where they are not set.
func checkFiles(f *config.File) error {
	var errs []error
	add := func(path string, err error) {
		if err != nil {
			errs = append(errs, &config.FieldError{Path: path, Msg: err.Error()})
		}
	}
	secretFile := func(path string, r config.SecretRef) {
		if r.FromFile != "" {
			_, err := config.ResolveSecret(config.SecretRef{FromFile: r.FromFile}, nil, config.ReadSecretFile)
			add(path+".fromFile", err)
		}
	}
	a := f.Spec.Controller.Announce
	secretFile("spec.controller.announce.token", a.Token)
	if !a.TLS.IsZero() {
		_, err := nodeapi.ServerTLSConfig(announceTLS(a.TLS))
		add("spec.controller.announce.tls", err)
	}
	for i, c := range f.Spec.Clusters {
		p := fmt.Sprintf("spec.clusters[%d].admin", i)
		secretFile(p+".token", c.Admin.Token)
		if c.Admin.Scheme == "https" {
			_, err := nodeapi.ClientTLSConfig(clientTLS(c.Admin.TLS))
			add(p+".tls", err)
		}
	}
	return errors.Join(errs...)
}

// nodeTLS builds the TLS settings of every https cluster, by cluster name.
func nodeTLS(f *config.File) (map[string]*tls.Config, error) {
	out := map[string]*tls.Config{}
	var errs []error
	for i, c := range f.Spec.Clusters {
		if c.Admin.Scheme != "https" {
			continue
		}
		cfg, err := nodeapi.ClientTLSConfig(clientTLS(c.Admin.TLS))
		if err != nil {
			errs = append(errs, &config.FieldError{Path: fmt.Sprintf("spec.clusters[%d].admin.tls", i), Msg: err.Error()})
			continue
		}
		out[c.Name] = cfg
	}
	return out, errors.Join(errs...)
}

func clientTLS(t config.AdminTLS) nodeapi.ClientTLS {
	return nodeapi.ClientTLS{CAFile: t.CAFile, ServerName: t.ServerName, CertFile: t.CertFile, KeyFile: t.KeyFile}
}

func announceTLS(t config.ServerTLS) nodeapi.TLSFiles {
	return nodeapi.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile}
}
