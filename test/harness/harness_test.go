package harness

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
)

func TestConfigYAMLLoads(t *testing.T) {
	y := ConfigOptions{
		Clusters:       []ClusterConfig{{Name: "a", Stack: "e2e", Services: []string{"a"}}, {Name: "b", Stack: "e2e", Services: []string{"b", "c"}}},
		DriftInterval:  5 * time.Second,
		ResyncInterval: 30 * time.Second,
		AnnounceListen: "10.42.0.1:4100",
	}.YAML()
	f, err := config.Load([]byte(y))
	if err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, y)
	}
	if len(f.Spec.Clusters) != 2 || f.Spec.Controller.DriftInterval.Duration != 5*time.Second ||
		f.Spec.Controller.Announce.Listen != "10.42.0.1:4100" {
		t.Errorf("loaded %+v", f.Spec)
	}
}

func TestConfigYAMLWithDefaultsLoadsWithoutClusters(t *testing.T) {
	y := ConfigOptions{Defaults: true}.YAML()
	f, err := config.Load([]byte(y))
	if err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, y)
	}
	if len(f.Spec.Clusters) != 0 || f.Spec.Defaults.Admin.Token.FromEnv != "DROVER_NODE_TOKEN" || f.Spec.Defaults.NodeName != "hello@{{primaryIP}}" {
		t.Errorf("loaded %+v", f.Spec)
	}
}

func TestNamespaceName(t *testing.T) {
	for ip, want := range map[string]string{"10.42.64.2": "drv-64-2", "10.42.0.10": "drv-0-10", "x": ""} {
		if got := NamespaceName(ip); got != want {
			t.Errorf("NamespaceName(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestExpected(t *testing.T) {
	got := Expected([]string{"10.42.1.3", "10.42.1.2"})
	if !slices.Equal(got["10.42.1.2"], []string{"hello@10.42.1.3"}) || !slices.Equal(got["10.42.1.3"], []string{"hello@10.42.1.2"}) {
		t.Errorf("Expected = %v", got)
	}
}

func TestCheckMesh(t *testing.T) {
	want := Expected([]string{"a", "b"})
	views := map[string][]string{"a": {"hello@b"}, "b": nil}
	err := CheckMesh(context.Background(), want, func(_ context.Context, ip string) ([]string, error) {
		return views[ip], nil
	}, 2)
	var me *MeshError
	if !errors.As(err, &me) || len(me.Mismatches) != 1 || me.Mismatches[0].IP != "b" {
		t.Fatalf("CheckMesh = %v, want one mismatch on b", err)
	}
	views["b"] = []string{"hello@a"}
	if err := CheckMesh(context.Background(), want, func(_ context.Context, ip string) ([]string, error) {
		return views[ip], nil
	}, 2); err != nil {
		t.Fatal(err)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	err := Eventually(context.Background(), time.Minute, time.Millisecond, func(context.Context) error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("Eventually = %v after %d calls, want nil after 3", err, n)
	}
	stop := errors.New("stop")
	if err := Eventually(context.Background(), time.Minute, time.Millisecond, func(context.Context) error {
		return Permanent(stop)
	}); !errors.Is(err, stop) {
		t.Errorf("Eventually = %v, want the permanent error", err)
	}
	if err := Eventually(context.Background(), 20*time.Millisecond, time.Millisecond, func(context.Context) error {
		return errors.New("never")
	}); err == nil {
		t.Error("Eventually = nil for a check that never passes")
	}
}

func TestSampleValue(t *testing.T) {
	for _, tc := range []struct {
		line  string
		match map[string]string
		want  float64
		ok    bool
	}{
		{`drover_pushes_total{action="set-peers",result="ok"} 7`, map[string]string{"action": "set-peers"}, 7, true},
		{`drover_pushes_total{action="leave",result="ok"} 2`, map[string]string{"action": "set-peers"}, 0, false},
		{`drover_pushes_total_other 1`, nil, 0, false},
		{`drover_stale 1`, nil, 0, false},
		{`# HELP drover_pushes_total x`, nil, 0, false},
	} {
		got, ok := sampleValue(tc.line, "drover_pushes_total", tc.match)
		if got != tc.want || ok != tc.ok {
			t.Errorf("sampleValue(%q) = %v, %v; want %v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSearchDomainsPutTheStackFirst(t *testing.T) {
	got := SearchDomains("Demo", "Hello")
	want := []string{"demo.rancher.internal", "hello.demo.rancher.internal", "rancher.internal"}
	if !slices.Equal(got, want) {
		t.Errorf("SearchDomains = %v, want %v", got, want)
	}
}

func TestFreeDNSAddrIsFreeForUDPAndTCP(t *testing.T) {
	addr, err := FreeDNSAddr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("udp %s: %v", addr, err)
	}
	defer pc.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("tcp %s: %v", addr, err)
	}
	_ = ln.Close()
}
