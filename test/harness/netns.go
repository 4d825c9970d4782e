package harness

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// Bridge is the bridge of hack/netns.sh and Gateway its address, where the
// simulator serves metadata and DNS (on ports of its own) and the
// controller its announce endpoint. NetworkServicesIP is where the hosts
// reach metadata (port 80) and DNS (port 53), as Rancher containers do:
// hack/netns.sh redirects it, inside each namespace, to the simulator of
// the run that owns the host.
const (
	Bridge            = "drv0"
	Gateway           = "10.42.0.1"
	NetworkServicesIP = ranchersim.NetworkServicesIP
)

// Services says where a namespace host reaches rancher-metadata and Rancher
// DNS, and its DNS search list (Rancher's: SearchDomains).
type Services struct {
	// Metadata and DNS are host:port on the bridge (10.42.x.y); "" leaves
	// that one out (without DNS, the hosts file names rancher-metadata).
	Metadata, DNS string
	// Search is the resolv.conf search list.
	Search []string
}

// SearchDomains is Rancher's DNS search list of a service's containers,
// the stack's domain first.
func SearchDomains(stack, service string) []string {
	stack, service = strings.ToLower(stack), strings.ToLower(service)
	return []string{stack + ".rancher.internal", service + "." + stack + ".rancher.internal", "rancher.internal"}
}

// Add creates the namespace host name with ip whose 169.254.169.250:80
// and :53 lead to s.Metadata and s.DNS (hack/netns.sh add).
func (n *Net) Add(ctx context.Context, name, ip string, s Services) error {
	args := []string{"add", name, ip}
	if s.Metadata != "" {
		args = append(args, "--metadata", s.Metadata)
	}
	if s.DNS != "" {
		args = append(args, "--dns", s.DNS)
	}
	if len(s.Search) > 0 {
		args = append(args, "--search", strings.Join(s.Search, " "))
	}
	_, err := n.Do(ctx, args...)
	return err
}

// netnsTimeout bounds one hack/netns.sh call (del kills processes first).
const netnsTimeout = 2 * time.Minute

// Net runs hack/netns.sh of a repository.
type Net struct {
	// Script is the path of hack/netns.sh.
	Script string
}

// NewNet returns a Net for the repository at root.
func NewNet(root string) *Net { return &Net{Script: filepath.Join(root, "hack", "netns.sh")} }

// Do runs netns.sh with args and returns its trimmed output.
func (n *Net) Do(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, netnsTimeout)
	defer cancel()
	out, err := Run(ctx, "", nil, n.Script, args...)
	if err != nil {
		return "", fmt.Errorf("netns.sh: %w", err)
	}
	return strings.TrimSpace(out), nil
}

// BridgeExists reports whether drv0 exists (set up by someone else or by
// an earlier Up).
func BridgeExists() bool {
	return exec.Command("ip", "link", "show", Bridge).Run() == nil
}

// Up creates the bridge drv0 (10.42.0.1/16) and raises the ARP limits.
func (n *Net) Up(ctx context.Context) error {
	_, err := n.Do(ctx, "up")
	return err
}

// Down deletes every drv-* namespace (killing its processes), the bridge,
// and restores the sysctls. It removes other users' namespaces too: call
// it only when this process owns the bridge.
func (n *Net) Down(ctx context.Context) error {
	_, err := n.Do(ctx, "down")
	return err
}

// Isolate cuts the host of ip off the network silently (its link goes
// down), or restores it.
func (n *Net) Isolate(ctx context.Context, ip string, cut bool) error {
	arg := "off"
	if cut {
		arg = "on"
	}
	_, err := n.Do(ctx, "isolate", ip, arg)
	return err
}

// Host is one namespace host.
type Host struct {
	Name, IP string
}

// List returns the drv-* namespaces with their IPs.
func (n *Net) List(ctx context.Context) ([]Host, error) {
	out, err := n.Do(ctx, "list")
	if err != nil {
		return nil, err
	}
	var hosts []Host
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			hosts = append(hosts, Host{Name: f[0], IP: f[1]})
		}
	}
	return hosts, nil
}

// DeleteRange deletes the namespace hosts whose IP lies in cidr (with
// every process in them): what a simulator that was killed left behind.
func (n *Net) DeleteRange(ctx context.Context, cidr string) error {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", cidr, err)
	}
	hosts, err := n.List(ctx)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		ip, err := netip.ParseAddr(h.IP)
		if err != nil || !prefix.Contains(ip) {
			continue
		}
		if _, err := n.Do(ctx, "del", h.Name); err != nil {
			return err
		}
	}
	return nil
}

// NamespaceName is hack/netns.sh's namespace name for a 10.42.C.D IP:
// drv-C-D.
func NamespaceName(ip string) string {
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return ""
	}
	return "drv-" + parts[2] + "-" + parts[3]
}

// Foreign returns the namespace hosts whose IP is outside every range of
// own: someone else's hosts on the shared bridge.
func (n *Net) Foreign(ctx context.Context, own ...string) ([]Host, error) {
	var prefixes []netip.Prefix
	for _, r := range own {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", r, err)
		}
		prefixes = append(prefixes, p)
	}
	hosts, err := n.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Host
	for _, h := range hosts {
		ip, err := netip.ParseAddr(h.IP)
		mine := false
		for _, p := range prefixes {
			mine = mine || (err == nil && p.Contains(ip))
		}
		if !mine {
			out = append(out, h)
		}
	}
	return out, nil
}

// DownUnlessShared tears the bridge down (Down) unless namespace hosts
// outside own exist: then someone else uses the bridge, and it stays.
// It reports whether it tore down.
func (n *Net) DownUnlessShared(ctx context.Context, own ...string) (bool, error) {
	foreign, err := n.Foreign(ctx, own...)
	if err != nil {
		return false, err
	}
	if len(foreign) > 0 {
		return false, nil
	}
	return true, n.Down(ctx)
}
