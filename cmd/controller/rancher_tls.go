package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
)

// maxCABundleBytes bounds --rancher-ca-file: Debian's whole
// ca-certificates.crt is about 200 KB; a file far larger is not a bundle.
const maxCABundleBytes = 4 << 20

// rancherTLS builds the TLS configuration for Rancher from --rancher-ca-file:
// the system pool plus the bundle. Without a file it returns nil: Go's
// defaults, which honour SSL_CERT_FILE and SSL_CERT_DIR.
func rancherTLS(path string) (*tls.Config, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := readBundle(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system pool on this host: the bundle alone is trusted.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE) %s: no PEM certificate in it (want -----BEGIN CERTIFICATE----- blocks)", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// readBundle reads a regular file of at most maxCABundleBytes.
func readBundle(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE): %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE): %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE) %s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCABundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE) %s: %w", path, err)
	}
	if len(b) > maxCABundleBytes {
		return nil, fmt.Errorf("--rancher-ca-file (or RANCHER_CA_FILE) %s: larger than %d bytes, not a CA bundle", path, maxCABundleBytes)
	}
	return b, nil
}

// useRancherTLS installs cfg into a clone of http.DefaultTransport and
// returns a function that puts the previous one back.
//
// Why a process-wide change: go-rancher v2 builds its http.Clients with a
// timeout only (its ClientOpts has no transport hook), so every request it
// makes goes through http.DefaultTransport. Installing the configuration
// there once, at start and before any client exists, is the only way to
// give those requests the CA without forking go-rancher. The clone keeps
// the default's proxy, dial and pooling settings, and only adds roots to
// what is trusted; pkg/nodeapi builds its own transport, so the agents'
// TLS is not affected. The event stream takes the same cfg through
// rancherapi.Options.TLS.
func useRancherTLS(cfg *tls.Config) func() {
	prev := http.DefaultTransport
	base, ok := prev.(*http.Transport)
	if !ok {
		base = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	tr := base.Clone()
	tr.TLSClientConfig = cfg
	http.DefaultTransport = tr
	return func() {
		tr.CloseIdleConnections()
		http.DefaultTransport = prev
	}
}
