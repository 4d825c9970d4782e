package main

import (
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
	d := f.Spec.Defaults.Admin
	secretFile("spec.defaults.admin.token", d.Token)
	if !d.TLS.IsZero() {
		_, err := nodeapi.ClientTLSConfig(clientTLS(d.TLS))
		add("spec.defaults.admin.tls", err)
	}
	for i, c := range f.Spec.Clusters {
		p := fmt.Sprintf("spec.clusters[%d].admin", i)
		if c.Admin.Token != d.Token {
			secretFile(p+".token", c.Admin.Token)
		}
		if c.Admin.Scheme == "https" {
			_, err := nodeapi.ClientTLSConfig(clientTLS(c.Admin.TLS))
			add(p+".tls", err)
		}
	}
	return errors.Join(errs...)
}

func clientTLS(t config.AdminTLS) nodeapi.ClientTLS {
	return nodeapi.ClientTLS{CAFile: t.CAFile, ServerName: t.ServerName, CertFile: t.CertFile, KeyFile: t.KeyFile}
}

func announceTLS(t config.ServerTLS) nodeapi.TLSFiles {
	return nodeapi.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile}
}
