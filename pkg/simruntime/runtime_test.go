package simruntime_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
	"github.com/drover-mesh/drover/pkg/nodeapi/nodeapitest"
	"github.com/drover-mesh/drover/pkg/simruntime"
)

const token = "sim-admin-token"

// freePort returns a port that is free on 127.0.0.1 right now; the tests
// use it on 127.42.250.x, where nothing else listens.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// recorder is a controller announce endpoint that keeps what it gets.
type recorder struct {
	mu  sync.Mutex
	got []nodeapi.Announcement
}

func (r *recorder) add(a nodeapi.Announcement) { r.mu.Lock(); r.got = append(r.got, a); r.mu.Unlock() }

func (r *recorder) has(event, node string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.got, nodeapi.Announcement{Event: event, Node: node, IP: node[len("hello@"):]})
}

type fixture struct {
	rt     *simruntime.Runtime
	ann    *recorder
	client *nodeapi.Client
	eps    []mesh.Endpoint
	exits  chan error
}

// start runs n containers of service hello on 127.42.250.1..n.
func start(t *testing.T, n int) *fixture {
	t.Helper()
	f := &fixture{ann: &recorder{}, exits: make(chan error, n)}
	ann := httptest.NewServer(nodeapi.AnnounceHandler(nodeapi.AnnounceOptions{Token: "ann", OnAnnounce: f.ann.add}))
	t.Cleanup(ann.Close)
	rt, err := simruntime.New(simruntime.Options{
		Token: token, Port: freePort(t), AnnounceURL: ann.URL, AnnounceToken: "ann", Logger: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	f.rt = rt
	f.client, err = nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return token }, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		c := simruntime.Container{ID: "1i" + strconv.Itoa(i), Name: "demo-hello-" + strconv.Itoa(i),
			IP: "127.42.250." + strconv.Itoa(i), Stack: "demo", Service: "hello"}
		if err := rt.StartContainer(t.Context(), c, func(err error) { f.exits <- err }); err != nil {
			t.Fatal(err)
		}
		f.eps = append(f.eps, mesh.Endpoint{Cluster: "demo", Node: mesh.NodeName(rt.NodeName(c)), ContainerID: c.ID, URL: rt.URL(c.IP)})
	}
	return f
}

// push sends every live endpoint all the other live ones.
func (f *fixture) push(t *testing.T, rev uint64, live ...int) {
	t.Helper()
	for _, i := range live {
		var peers []mesh.NodeName
		for _, j := range live {
			if j != i {
				peers = append(peers, f.eps[j].Node)
			}
		}
		if _, err := f.client.SetPeers(t.Context(), f.eps[i], rev, mesh.NewPeerSet(peers...)); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) connected(t *testing.T, i int) []string {
	t.Helper()
	st, err := f.client.Status(t.Context(), f.eps[i])
	if err != nil {
		t.Fatal(err)
	}
	return st.Connected.Strings()
}

func TestRuntimeMeshLifecycle(t *testing.T) {
	f := start(t, 3)
	for _, ep := range f.eps {
		if err := f.client.Health(t.Context(), ep); err != nil {
			t.Fatal(err)
		}
		testwait.Eventually(t, 0, "up from "+string(ep.Node), func() bool { return f.ann.has(nodeapi.EventUp, string(ep.Node)) })
	}
	f.push(t, 1, 0, 1, 2)
	if got := f.connected(t, 0); !slices.Equal(got, []string{"hello@127.42.250.2", "hello@127.42.250.3"}) {
		t.Errorf("node 0 connected = %v", got)
	}

	// Isolated: gone from every view, unreachable; healed and pushed: back.
	if err := f.rt.Isolate(t.Context(), "1i3", true); err != nil {
		t.Fatal(err)
	}
	if got := f.connected(t, 0); !slices.Equal(got, []string{"hello@127.42.250.2"}) {
		t.Errorf("node 0 connected with node 2 isolated = %v", got)
	}
	if _, err := f.client.Status(t.Context(), f.eps[2]); err == nil {
		t.Error("an isolated agent answered")
	}
	if err := f.rt.Isolate(t.Context(), "1i3", false); err != nil {
		t.Fatal(err)
	}
	f.push(t, 2, 0, 1, 2)
	if got := f.connected(t, 2); len(got) != 2 {
		t.Errorf("healed node connected = %v", got)
	}

	// Graceful stop: announced, out of every view, port closed.
	if err := f.rt.Stop(t.Context(), "1i2", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !f.ann.has(nodeapi.EventStopping, "hello@127.42.250.2") {
		t.Error("stopping not announced before the stop returned")
	}
	for _, i := range []int{0, 2} {
		if got := f.connected(t, i); slices.Contains(got, "hello@127.42.250.2") {
			t.Errorf("node %d still sees the stopped node: %v", i, got)
		}
	}
	if err := f.client.Health(t.Context(), f.eps[1]); err == nil {
		t.Error("a stopped agent answered")
	}
	if err := f.rt.Stop(t.Context(), "1i2", time.Second); err != nil {
		t.Errorf("stopping twice: %v", err)
	}

	// Crash: exited is called, the node vanishes.
	if err := f.rt.Crash("1i1"); err != nil {
		t.Fatal(err)
	}
	if err := <-f.exits; !errors.Is(err, simruntime.ErrCrashed) {
		t.Errorf("exited(%v), want ErrCrashed", err)
	}
	if got := f.connected(t, 2); len(got) != 0 {
		t.Errorf("survivor connected = %v, want none", got)
	}
}

func TestRuntimeRestartSameContainer(t *testing.T) {
	f := start(t, 2)
	f.push(t, 5, 0, 1)
	if err := f.rt.Stop(t.Context(), "1i2", 0); err != nil {
		t.Fatal(err)
	}
	c := simruntime.Container{ID: "1i2", Name: "demo-hello-2", IP: "127.42.250.2", Stack: "demo", Service: "hello"}
	if err := f.rt.StartContainer(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	st, err := f.client.Status(t.Context(), f.eps[1])
	if err != nil || st.Revision != 0 || len(st.Connected) != 0 {
		t.Errorf("restarted node: err %v, status %+v, want a fresh agent", err, st)
	}
	if err := f.rt.StartContainer(t.Context(), c, nil); err == nil {
		t.Error("starting a running container: want an error")
	}
}

func TestRuntimeAgentConformance(t *testing.T) {
	f := start(t, 2)
	f.push(t, 1, 0, 1)
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: f.eps[0].URL, Token: token})
}

func TestNewNeedsToken(t *testing.T) {
	if _, err := simruntime.New(simruntime.Options{}); err == nil {
		t.Error("New without a token: want an error")
	}
}

// TestRuntimeAgentsServeTLS runs two agents on HTTPS with client
// certificates required, pushes to them over TLS and runs the conformance
// suite over TLS.
func TestRuntimeAgentsServeTLS(t *testing.T) {
	pki := nodeapitest.NewPKI(t, "agents")
	cert, key := pki.Issue(t, "hello", "hello.drover.internal")
	rt, err := simruntime.New(simruntime.Options{Token: token, Port: freePort(t), Logger: testr.New(t),
		TLS: nodeapi.TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: pki.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	var eps []mesh.Endpoint
	for i := 1; i <= 2; i++ {
		c := simruntime.Container{ID: "1i" + strconv.Itoa(i), Name: "demo-hello-" + strconv.Itoa(i),
			IP: "127.42.250." + strconv.Itoa(i), Stack: "demo", Service: "hello"}
		if err := rt.StartContainer(t.Context(), c, nil); err != nil {
			t.Fatal(err)
		}
		eps = append(eps, mesh.Endpoint{Cluster: "demo", Node: mesh.NodeName(rt.NodeName(c)), URL: rt.URL(c.IP)})
	}
	if !strings.HasPrefix(eps[0].URL, "https://") {
		t.Fatalf("URL %s, want https", eps[0].URL)
	}
	clientTLS := &tls.Config{RootCAs: pki.Pool, ServerName: "hello.drover.internal", Certificates: []tls.Certificate{pki.KeyPair(t, "controller")}}
	client, err := nodeapi.NewClient(nodeapi.ClientOptions{Tokens: func(string) string { return token },
		TLS: map[string]*tls.Config{"demo": clientTLS}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := client.SetPeers(t.Context(), eps[0], 1, mesh.NewPeerSet(eps[1].Node))
	if err != nil || !st.Connected.Contains(eps[1].Node) {
		t.Fatalf("push over TLS: %v, status %+v", err, st)
	}
	nodeapitest.RunConformance(t, nodeapitest.Target{BaseURL: eps[0].URL, Token: token, TLS: clientTLS})
}
