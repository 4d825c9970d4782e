package ranchersim_test

import (
	"context"
	"errors"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func resolver(s *ranchersim.Sim, network string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, nw, _ string) (net.Conn, error) {
		if network != "" {
			nw = network
		}
		var d net.Dialer
		return d.DialContext(ctx, nw, s.DNSAddr())
	}}
}

func lookup(t *testing.T, r *net.Resolver, name string) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, name)
	sort.Strings(addrs)
	return addrs, err
}

func TestDNSAnswersRunningHealthyContainers(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 3, fastHealth())
	var want []string
	for _, v := range s.Containers("demo", "hello") {
		want = append(want, v.IP)
	}
	sort.Strings(want)
	r := resolver(s, "udp")
	for _, name := range []string{"hello.", "hello.demo.", "hello.demo.rancher.internal.", "HELLO.Demo."} {
		got, err := lookup(t, r, name)
		if err != nil || len(got) != 3 || got[0] != want[0] || got[2] != want[2] {
			t.Errorf("%s: %v %v, want %v", name, got, err, want)
		}
	}
	for _, name := range []string{"rancher-metadata.", "rancher-metadata.rancher.internal."} {
		if got, err := lookup(t, r, name); err != nil || len(got) != 1 || got[0] != ranchersim.NetworkServicesIP {
			t.Errorf("%s: %v %v, want %s", name, got, err, ranchersim.NetworkServicesIP)
		}
	}
	if got, err := lookup(t, r, "demo-hello-1."); err != nil || len(got) != 1 {
		t.Errorf("container name: %v %v", got, err)
	}
	_, err := lookup(t, r, "nosuch.demo.")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("unknown name: %v", err)
	}

	// An unhealthy container leaves the answer.
	hc := s.Containers("demo", "hello")[0]
	if err := s.FailHealth(hc.ID, true); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "unhealthy container out of DNS", func() bool {
		got, err := lookup(t, r, "hello.demo.")
		if err != nil {
			return false
		}
		for _, ip := range got {
			if ip == hc.IP {
				return false
			}
		}
		return true
	})
}

func TestDNSLargeAnswerFallsBackToTCP(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 120, nil)
	for _, nw := range []string{"", "tcp"} {
		got, err := lookup(t, resolver(s, nw), "hello.demo.")
		if err != nil || len(got) != 120 {
			t.Fatalf("%q: %d addresses, %v", nw, len(got), err)
		}
	}
}

func TestDNSChangesOnlyWhenMetadataReloads(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{Metadata: ranchersim.MetadataOptions{ReloadInterval: 2 * time.Second}}, 2, nil)
	r := resolver(s, "udp")
	if err := s.Scale("demo", "hello", 4); err != nil {
		t.Fatal(err)
	}
	// Whatever the reload instant, DNS answers what metadata answers at the
	// same version, never the simulator's newer truth.
	for range 5 {
		v1 := version(t, s)
		got, err := lookup(t, r, "hello.demo.")
		meta := runningIPs(t, s)
		if v2 := version(t, s); v1 != v2 || err != nil {
			continue // a reload in between: look again
		}
		if strings.Join(got, ",") != strings.Join(meta, ",") {
			t.Fatalf("DNS %v, metadata at the same version %v", got, meta)
		}
	}
	settle(t, s)
	waitMetadata(t, s)
	if got, err := lookup(t, r, "hello.demo."); err != nil || len(got) != 4 {
		t.Fatalf("after the reload: %v %v", got, err)
	}
}

// runningIPs are the running containers of demo/hello in metadata, sorted.
func runningIPs(t *testing.T, s *ranchersim.Sim) []string {
	t.Helper()
	var cs []metaContainer
	if code := metadataJSON(t, s, "/latest/stacks/demo/services/hello/containers", &cs); code != 200 {
		t.Fatalf("containers: %d", code)
	}
	var ips []string
	for _, c := range cs {
		if c.State == "running" {
			ips = append(ips, c.PrimaryIP)
		}
	}
	sort.Strings(ips)
	return ips
}

func TestDNSResolvesSearchDomainsAsRancherDoes(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 2, nil)
	r := resolver(s, "udp")
	// A resolver with Rancher's search list tries these before
	// rancher-metadata.rancher.internal: they must not exist.
	for _, name := range []string{"rancher-metadata.demo.rancher.internal.", "rancher-metadata.hello.demo.rancher.internal.",
		"hello.hello.demo.rancher.internal."} {
		_, err := lookup(t, r, name)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("%s: %v, want NXDOMAIN", name, err)
		}
	}
	if got, err := lookup(t, r, "hello.demo.rancher.internal."); err != nil || len(got) != 2 {
		t.Errorf("hello.demo.rancher.internal: %v %v", got, err)
	}
}

func TestListenDNSOpensUDPAndTCPOnOnePort(t *testing.T) {
	s := demoMeta(t, ranchersim.Options{}, 1, nil)
	udp, tcp, err := ranchersim.ListenDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if udp.LocalAddr().String() != tcp.Addr().String() {
		t.Fatalf("udp %s, tcp %s", udp.LocalAddr(), tcp.Addr())
	}
	done := make(chan struct{})
	go func() { defer close(done); s.ServeDNS(udp, tcp) }()
	t.Cleanup(func() { _ = udp.Close(); _ = tcp.Close(); <-done })
	for _, nw := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, nw, udp.LocalAddr().String())
		}}
		if got, err := lookup(t, r, "hello.demo."); err != nil || len(got) != 1 {
			t.Errorf("%s: %v %v", nw, got, err)
		}
	}
}
