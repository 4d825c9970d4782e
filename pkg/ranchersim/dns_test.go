package ranchersim_test

import (
	"context"
	"errors"
	"net"
	"sort"
	"testing"
	"time"

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
	s := demo(t, ranchersim.Options{}, 3, fastHealth())
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
	if got, err := lookup(t, r, "rancher-metadata.rancher.internal."); err != nil || len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("rancher-metadata: %v %v", got, err)
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
	eventually(t, 30*time.Second, "unhealthy container out of DNS", func() bool {
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
	s := demo(t, ranchersim.Options{}, 120, nil)
	for _, nw := range []string{"", "tcp"} {
		got, err := lookup(t, resolver(s, nw), "hello.demo.")
		if err != nil || len(got) != 120 {
			t.Fatalf("%q: %d addresses, %v", nw, len(got), err)
		}
	}
}
