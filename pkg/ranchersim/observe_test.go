package ranchersim_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

func TestWatchContainersReportsEachStepWithItsInstant(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 1, fastHealth())
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []ranchersim.ContainerChange
	done := make(chan struct{})
	first := make(chan struct{})
	go func() {
		defer close(done)
		s.WatchContainers(ctx, func(c ranchersim.ContainerChange) {
			mu.Lock()
			if len(got) == 0 {
				close(first)
			}
			got = append(got, c)
			mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-first // the existing container is reported before the scale starts
	before := time.Now()
	if err := s.Scale("demo", "hello", 2); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	testwait.Eventually(t, 10*time.Second, "the new container seen healthy", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range got {
			if c.Container.CreateIndex == 2 && c.Container.State == "running" && c.Container.HealthState == "healthy" {
				return true
			}
		}
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	if first := got[0]; first.Stack != "demo" || first.Service != "hello" || first.Container.CreateIndex != 1 {
		t.Errorf("first report = %+v, want the existing container of demo/hello", first)
	}
	var last time.Time
	for _, c := range got {
		if c.Container.CreateIndex != 2 {
			continue
		}
		if c.At.Before(before) || c.At.Before(last) {
			t.Errorf("instants out of order: %v after %v (scale at %v)", c.At, last, before)
		}
		last = c.At
	}
}

func TestServeDNSOnCallerSockets(t *testing.T) {
	s := demo(t, ranchersim.Options{}, 2, fastHealth())
	waitMetadata(t, s) // DNS answers from metadata's last reload
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", udp.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.ServeDNS(udp, tcp) }()
	t.Cleanup(func() { _ = udp.Close(); _ = tcp.Close(); <-done })
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, nw, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, nw, udp.LocalAddr().String())
	}}
	addrs, err := lookup(t, r, "hello.demo")
	if err != nil || len(addrs) != 2 {
		t.Fatalf("hello.demo = %v, %v; want the two containers", addrs, err)
	}
}
