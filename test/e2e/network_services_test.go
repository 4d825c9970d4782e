//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
	"github.com/drover-mesh/drover/test/harness"
)

// Rancher's network services as a namespace host sees them: rancher-metadata
// at 169.254.169.250:80 and DNS at 169.254.169.250:53, each run reaching
// its own simulator although all share the bridge.

// servicesRun is one run: an in-process simulator serving metadata and DNS
// on bridge ports of its own (NoopRuntime: its containers exist only in
// the simulator), and a namespace host with the IP of its first container.
type servicesRun struct {
	sim           *ranchersim.Sim
	stack, ns, ip string
	members       []string // the service's container IPs, sorted
}

func startServicesRun(t *testing.T, ipRange, stack string) *servicesRun {
	t.Helper()
	sim, err := ranchersim.New(ranchersim.Options{IPRange: ipRange, Fixture: &ranchersim.Fixture{
		Project: ranchersim.FixtureProject{ID: ranchersim.DefaultProjectID, Name: ranchersim.DefaultProjectName},
		Hosts:   []ranchersim.FixtureHost{{Name: "host-1"}},
		Stacks:  []ranchersim.FixtureStack{{Name: stack, Services: []ranchersim.ServiceSpec{{Name: "hello", Scale: 2}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, "127.0.0.1:0", harness.Gateway+":0", harness.Gateway+":0") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulator: %v", err)
		}
	})
	select {
	case <-sim.Ready():
	case err := <-done:
		t.Fatalf("simulator: %v", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := sim.WaitSettled(wctx); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitMetadata(wctx); err != nil {
		t.Fatal(err)
	}
	r := &servicesRun{sim: sim, stack: stack}
	for _, c := range sim.Containers(stack, "hello") {
		r.members = append(r.members, c.IP)
	}
	slices.Sort(r.members)
	r.ip = r.members[0]
	r.ns = addHost(t, r.ip, harness.Services{Metadata: strings.TrimPrefix(sim.MetadataURL(), "http://"),
		DNS: sim.DNSAddr(), Search: harness.SearchDomains(stack, "hello")})
	return r
}

// inNamespace runs a command inside the run's namespace and returns its
// trimmed output.
func (r *servicesRun) inNamespace(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", r.ns, name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v in %s: %v\n%s", name, args, r.ns, err, out)
	}
	return strings.TrimSpace(string(out))
}

// erlangView is what an Erlang VM in the namespace sees: the body of
// http://rancher-metadata/latest/self/container/primary_ip (httpc, the
// names resolved as the release's env.sh resolves them) and the DNS
// recipe's inet_res:lookup("hello", in, a) through resolv.conf.
func (r *servicesRun) erlangView(t *testing.T) (string, []string) {
	t.Helper()
	out := r.inNamespace(t, "erl", "-noshell", "-eval", `
		{ok, _} = application:ensure_all_started(inets),
		{ok, {{_, 200, _}, _, Body}} = httpc:request("http://rancher-metadata/latest/self/container/primary_ip"),
		IPs = [inet:ntoa(A) || A <- lists:sort(inet_res:lookup("hello", in, a))],
		io:format("~s~n~s~n", [Body, string:join(IPs, " ")]),
		halt().`)
	lines := strings.Split(out, "\n")
	if len(lines) != 2 {
		t.Fatalf("erl printed %q", out)
	}
	return lines[0], strings.Fields(lines[1])
}

func TestMetadataServedAtLinkLocalAddressInsideNamespace(t *testing.T) {
	requireRoot(t)
	rootNAT := rootNetfilter(t)
	if !harness.BridgeExists() {
		t.Cleanup(func() {
			// Registered first, so it runs after the hosts are deleted.
			if _, err := harness.NewNet(repoRoot(t)).DownUnlessShared(context.Background(), "10.42.205.0/24", "10.42.206.0/24"); err != nil {
				t.Errorf("tearing the bridge down: %v", err)
			}
		})
	}
	netns(t, "up")
	// Two runs on the one bridge, as an e2e run next to a benchmark.
	runs := []*servicesRun{startServicesRun(t, "10.42.205.0/24", "netsa"), startServicesRun(t, "10.42.206.0/24", "netsb")}
	for _, r := range runs {
		t.Run(r.ns, func(t *testing.T) {
			if got := r.inNamespace(t, "getent", "ahostsv4", "rancher-metadata"); !strings.HasPrefix(got, harness.NetworkServicesIP+" ") {
				t.Errorf("rancher-metadata resolves to %q, want %s (through Rancher DNS)", got, harness.NetworkServicesIP)
			}
			if got := r.inNamespace(t, "getent", "ahostsv4", "rancher-metadata.rancher.internal"); !strings.HasPrefix(got, harness.NetworkServicesIP+" ") {
				t.Errorf("rancher-metadata.rancher.internal resolves to %q", got)
			}
			want := "search " + strings.Join(harness.SearchDomains(r.stack, "hello"), " ") + "\nnameserver " + harness.NetworkServicesIP
			if got := r.inNamespace(t, "cat", "/etc/resolv.conf"); got != want {
				t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, want)
			}
			self, recipe := r.erlangView(t)
			t.Logf("inside %s: metadata self %s, recipe lookup of hello %v", r.ns, self, recipe)
			if self != r.ip {
				t.Errorf("self/container/primary_ip = %q, want %s: this run's simulator answered for this host", self, r.ip)
			}
			if !slices.Equal(recipe, r.members) {
				t.Errorf(`inet_res:lookup("hello") = %v, want this run's members %v`, recipe, r.members)
			}
		})
	}
	if got := rootNetfilter(t); got != rootNAT {
		t.Errorf("the root namespace's netfilter changed:\nbefore:\n%s\nafter:\n%s", rootNAT, got)
	}
}

// rootNetfilter lists the root namespace's nat and filter rules.
func rootNetfilter(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables", "-w", "5", "-t", table, "-S").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables -t %s -S: %v\n%s", table, err, out)
		}
		fmt.Fprintf(&b, "%s:\n%s", table, out)
	}
	return b.String()
}
