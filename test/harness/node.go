package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// Hello release defaults (examples/hello/rel/env.sh.eex).
const (
	// DefaultCookie is the hello release's distribution cookie.
	DefaultCookie = "drover-hello-cookie"
	// AgentPort is the drover agent's port in a hello node.
	AgentPort = mesh.DefaultAdminPort
	// rpcTimeout bounds one `bin/hello rpc` (it boots a VM).
	rpcTimeout = 60 * time.Second
	// statusTimeout bounds one agent status read.
	statusTimeout = 5 * time.Second
)

// NodeName is the Erlang name of the hello node with ip.
func NodeName(ip string) string { return "hello@" + ip }

// VM reaches one hello node's VM in its namespace.
type VM struct {
	// Release is the hello release directory.
	Release string
	// IP is the node's IP (10.42.x.y); its namespace is NamespaceName(IP).
	IP string
	// Cookie defaults to DefaultCookie.
	Cookie string
}

// RPC evaluates an Elixir expression inside the VM with the release's rpc
// command, from inside its namespace, and returns stdout.
func (v VM) RPC(ctx context.Context, expr string) (string, error) {
	cookie := v.Cookie
	if cookie == "" {
		cookie = DefaultCookie
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	return Run(ctx, "", []string{"RELEASE_COOKIE=" + cookie, "RANCHER_IP=" + v.IP},
		"ip", "netns", "exec", NamespaceName(v.IP), filepath.Join(v.Release, "bin", "hello"), "rpc", expr)
}

// Nodes returns erlang:nodes() inside the VM (the visible nodes), sorted.
func (v VM) Nodes(ctx context.Context) ([]string, error) {
	out, err := v.RPC(ctx, "Hello.print_nodes()")
	if err != nil {
		return nil, err
	}
	got := strings.Fields(out)
	slices.Sort(got)
	return got, nil
}

// AgentStatus reads GET /v1/status of the agent at ip:AgentPort with
// NodeToken. Its connected field is erlang:nodes() evaluated in the VM.
func AgentStatus(ctx context.Context, ip string) (nodeapi.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var st nodeapi.Status
	url := fmt.Sprintf("http://%s:%d%s", ip, AgentPort, nodeapi.PathStatus)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return st, err
	}
	req.Header.Set("Authorization", "Bearer "+NodeToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", ip, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", ip, err)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status of %s: %s: %s", ip, resp.Status, data)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("status of %s: %w", ip, err)
	}
	return st, nil
}

// Expected returns, for every member IP, the names it must see: every
// other member.
func Expected(memberIPs []string) map[string][]string {
	want := map[string][]string{}
	for _, ip := range memberIPs {
		var others []string
		for _, o := range memberIPs {
			if o != ip {
				others = append(others, NodeName(o))
			}
		}
		slices.Sort(others)
		want[ip] = others
	}
	return want
}

// Mismatch is one node whose view differs from what it should see.
type Mismatch struct {
	IP        string
	Got, Want []string
	Err       error
}

func (m Mismatch) String() string {
	if m.Err != nil {
		return fmt.Sprintf("%s: %v", m.IP, m.Err)
	}
	return fmt.Sprintf("%s sees %v, want %v", m.IP, m.Got, m.Want)
}

// MeshError lists the nodes whose view is wrong.
type MeshError struct{ Mismatches []Mismatch }

func (e *MeshError) Error() string {
	parts := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		parts[i] = m.String()
	}
	return "mesh differs: " + strings.Join(parts, "; ")
}

// ViewFunc reads one node's view (sorted node names).
type ViewFunc func(ctx context.Context, ip string) ([]string, error)

// StatusView reads a node's view through its agent's status (cheap: fit
// for polling).
func StatusView(ctx context.Context, ip string) ([]string, error) {
	st, err := AgentStatus(ctx, ip)
	if err != nil {
		return nil, err
	}
	got := slices.Clone(st.Connected)
	slices.Sort(got)
	return got, nil
}

// RPCView reads a node's view with nodes() through the release's rpc (the
// ground truth; a VM boot per call, so a second or more).
func RPCView(release string) ViewFunc {
	return func(ctx context.Context, ip string) ([]string, error) {
		return VM{Release: release, IP: ip}.Nodes(ctx)
	}
}

// CheckMesh reads every node of want with view (parallel, at most
// parallel at a time) and returns a *MeshError when any differs.
func CheckMesh(ctx context.Context, want map[string][]string, view ViewFunc, parallel int) error {
	ips := make([]string, 0, len(want))
	for ip := range want {
		ips = append(ips, ip)
	}
	slices.Sort(ips)
	results := make([]Mismatch, len(ips))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, ip := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := view(ctx, ip)
			results[i] = Mismatch{IP: ip, Got: got, Want: want[ip], Err: err}
		}()
	}
	wg.Wait()
	var bad []Mismatch
	for _, m := range results {
		if m.Err != nil || !slices.Equal(m.Got, m.Want) {
			bad = append(bad, m)
		}
	}
	if len(bad) > 0 {
		return &MeshError{Mismatches: bad}
	}
	return nil
}

// IsMeshError reports whether err is a *MeshError.
func IsMeshError(err error) bool {
	var me *MeshError
	return errors.As(err, &me)
}
