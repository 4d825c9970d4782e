package ranchersim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Handler returns the API handler: v2-beta, the websocket and the /_sim/
// control API. Lifecycle work starts running when it is first called.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/_sim/", s.serveControl)
	mux.HandleFunc("/", s.serveAPI)
	s.start()
	return mux
}

// StartLocal starts a simulator on 127.0.0.1 for tests and tools: the API
// (and websocket) and rancher-metadata on ephemeral TCP ports, DNS on an
// ephemeral UDP and TCP port. The returned stop function stops every
// container through the runtime and closes every listener; call it once.
func StartLocal(opts Options) (*Sim, func(), error) {
	s, err := New(opts)
	if err != nil {
		return nil, nil, err
	}
	l, err := listenAll("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", s.opts.TLS)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	s.mu.Lock()
	s.addrs = l.addresses()
	s.mu.Unlock()
	api := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	meta := &http.Server{Handler: s.MetadataHandler(), ReadHeaderTimeout: 10 * time.Second}
	var serving sync.WaitGroup
	serving.Go(func() { _ = serveHTTP(api, l.api) })
	serving.Go(func() { _ = serveHTTP(meta, l.meta) })
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.serveDNSPacket(l.dnsUDP) }()
	go func() { defer s.wg.Done(); s.serveDNSStream(l.dnsTCP) }()
	s.markReady()
	stop := func() {
		_ = l.dnsUDP.Close()
		_ = l.dnsTCP.Close()
		s.Close()
		_ = api.Close()
		_ = meta.Close()
		serving.Wait()
	}
	return s, stop, nil
}

// Serve serves the API on apiAddr, rancher-metadata on metadataAddr and DNS
// (UDP and TCP) on dnsAddr until ctx is done; an empty metadataAddr or
// dnsAddr turns that part off. Then it stops every container through the
// runtime and returns. Ports may be 0; URL, MetadataAddr and DNSAddr tell
// the bound addresses once Ready is closed.
func (s *Sim) Serve(ctx context.Context, apiAddr, metadataAddr, dnsAddr string) error {
	l, err := listenAll(apiAddr, metadataAddr, dnsAddr, s.opts.TLS)
	if err != nil {
		return err
	}
	defer l.close()
	s.mu.Lock()
	s.addrs = l.addresses()
	s.mu.Unlock()
	errc := make(chan error, 4)
	api := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { errc <- serveHTTP(api, l.api) }()
	if l.meta != nil {
		meta := &http.Server{Handler: s.MetadataHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- serveHTTP(meta, l.meta) }()
		defer shutdown(meta)
	}
	if l.dnsUDP != nil {
		go func() { s.serveDNSPacket(l.dnsUDP); errc <- nil }()
		go func() { s.serveDNSStream(l.dnsTCP); errc <- nil }()
	}
	s.markReady()
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	s.Close()
	shutdown(api)
	return err
}

func serveHTTP(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

// listeners are the sockets Serve uses.
type listeners struct {
	api, meta net.Listener
	dnsUDP    net.PacketConn
	dnsTCP    net.Listener
	tls       bool // the API listener speaks TLS
}

// listenAll opens every listener; with tlsConf the API one speaks TLS
// (HTTP/1.1 only: the websocket upgrade needs it).
func listenAll(apiAddr, metadataAddr, dnsAddr string, tlsConf *tls.Config) (*listeners, error) {
	l := &listeners{}
	var err error
	if l.api, err = net.Listen("tcp", apiAddr); err != nil {
		return nil, fmt.Errorf("api listener: %w", err)
	}
	if tlsConf != nil {
		if len(tlsConf.Certificates) == 0 && tlsConf.GetCertificate == nil {
			_ = l.api.Close()
			return nil, errors.New("api listener: the TLS configuration holds no certificate")
		}
		c := tlsConf.Clone()
		c.NextProtos = []string{"http/1.1"}
		l.api, l.tls = tls.NewListener(l.api, c), true
	}
	if metadataAddr != "" {
		if l.meta, err = net.Listen("tcp", metadataAddr); err != nil {
			l.close()
			return nil, fmt.Errorf("metadata listener: %w", err)
		}
	}
	if dnsAddr != "" {
		if l.dnsUDP, l.dnsTCP, err = listenDNS(dnsAddr); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

// listenDNS opens UDP and TCP on the same port. With port 0 the kernel
// picks the UDP port, which may be taken for TCP: then it tries again.
func listenDNS(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for range 20 {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns listener: %w", err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("dns tcp listener: %w", lastErr)
}

func (l *listeners) close() {
	for _, c := range []interface{ Close() error }{l.api, l.meta, l.dnsUDP, l.dnsTCP} {
		if c != nil && !isNilCloser(c) {
			_ = c.Close()
		}
	}
}

// isNilCloser catches typed nils in the list above.
func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case net.Listener:
		return v == nil
	case net.PacketConn:
		return v == nil
	}
	return false
}

func (l *listeners) addresses() addresses {
	scheme := "http://"
	if l.tls {
		scheme = "https://"
	}
	a := addresses{api: scheme + l.api.Addr().String()}
	if l.meta != nil {
		a.metadata = l.meta.Addr().String()
	}
	if l.dnsUDP != nil {
		a.dns = l.dnsUDP.LocalAddr().String()
	}
	return a
}

// markReady closes Ready's channel.
func (s *Sim) markReady() {
	s.readyOnce.Do(func() { close(s.ready) })
}

// Ready is closed once Serve listens on every address.
func (s *Sim) Ready() <-chan struct{} { return s.ready }

// URL returns the API base URL, e.g. http://127.0.0.1:34567, or
// https://... with Options.TLS (after StartLocal, or once Serve is Ready).
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs.api
}

// SchemasURL returns URL()+"/v2-beta/projects/<project>/schemas", the URL
// to build a go-rancher client from.
func (s *Sim) SchemasURL() string { return s.URL() + "/v2-beta/projects/" + s.projectID + "/schemas" }

// MetadataURL returns the rancher-metadata base URL, e.g.
// http://127.0.0.1:34568, or "" when metadata is not served.
func (s *Sim) MetadataURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addrs.metadata == "" {
		return ""
	}
	return "http://" + s.addrs.metadata
}

// DNSAddr returns the DNS server's host:port, or "" when DNS is not served.
func (s *Sim) DNSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs.dns
}
