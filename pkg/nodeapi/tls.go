package nodeapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/drover-mesh/drover/internal/boundedread"
)

// MaxPEMFileBytes caps a certificate, key or CA bundle file: the system's
// whole CA bundle is about 200 KiB.
const MaxPEMFileBytes = 1 << 20

// TLSFiles names the PEM files a server (a Go agent, the controller's
// announce endpoint) serves HTTPS with.
type TLSFiles struct {
	// CertFile is the certificate chain, leaf first. Required for TLS.
	CertFile string
	// KeyFile is the certificate's private key. Required with CertFile.
	KeyFile string
	// ClientCAFile, when set, makes the server require a client
	// certificate signed by one of these CAs.
	ClientCAFile string
}

// IsZero reports whether no file is named: the server speaks plain HTTP.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// ServerTLSConfig loads f into a server configuration: TLS 1.2 or later,
// HTTP/1.1 only, client certificates required and verified when
// f.ClientCAFile is set.
func ServerTLSConfig(f TLSFiles) (*tls.Config, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	cert, err := loadKeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if f.ClientCAFile != "" {
		pool, err := LoadCertPool(f.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// OptionalServerTLS is ServerTLSConfig, or no configuration (plain HTTP)
// when f names no file.
func OptionalServerTLS(f TLSFiles) (*tls.Config, error) {
	if f.IsZero() {
		return nil, nil
	}
	return ServerTLSConfig(f)
}

// ClientTLS is how the controller checks agents it reaches over https.
type ClientTLS struct {
	// CAFile is the CA bundle that signed the agents' certificates; empty:
	// the system pool.
	CAFile string
	// ServerName is the name checked in an agent's certificate; empty: the
	// IP address dialled.
	ServerName string
	// CertFile and KeyFile are a client certificate to present, for agents
	// that require one. Both or neither.
	CertFile, KeyFile string
}

// ClientTLSConfig loads c into a client configuration (TLS 1.2 or later).
func ClientTLSConfig(c ClientTLS) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := LoadCertPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := loadKeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	case c.CertFile != "" || c.KeyFile != "":
		return nil, errors.New("a client certificate needs both a certificate file and a key file")
	}
	return cfg, nil
}

// LoadCertPool reads a PEM bundle of CA certificates; it must hold at
// least one.
func LoadCertPool(path string) (*x509.CertPool, error) {
	b, err := boundedread.Regular(path, MaxPEMFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := boundedread.Regular(certFile, MaxPEMFileBytes)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading certificate: %w", err)
	}
	keyPEM, err := boundedread.Regular(keyFile, MaxPEMFileBytes)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading private key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}
