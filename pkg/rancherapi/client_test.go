package rancherapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
)

func TestNewURLForms(t *testing.T) {
	f := newFakeRancher(t)
	for _, u := range []string{
		f.base(), f.base() + "/", f.base() + "/v1", f.base() + "/v2-beta",
		f.project(), f.project() + "/schemas", f.project() + "/", f.base() + "/v1/projects/" + fakeProject,
	} {
		t.Run(u, func(t *testing.T) {
			o := f.testOptions(t, u)
			c, err := New(context.Background(), o)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.url.Project != fakeProject {
				t.Fatalf("project = %q", c.url.Project)
			}
			if want := "ws" + strings.TrimPrefix(f.project(), "http") + "/subscribe?eventNames=resource.change"; c.subscribe != want {
				t.Fatalf("subscribe = %s, want %s", c.subscribe, want)
			}
		})
	}
}

func TestNewWithProjectCostsOneRequest(t *testing.T) {
	f := newFakeRancher(t)
	var seen []string
	f.newClient(t, func(o *Options) {
		o.OnRequest = func(method, path string, status int) { seen = append(seen, fmt.Sprint(method, " ", path, " ", status)) }
	})
	if got := f.requests(); len(got) != 1 || got[0] != "GET /v2-beta/projects/1a5/schemas" {
		t.Fatalf("requests = %v", got)
	}
	if len(seen) != 1 || seen[0] != "GET /v2-beta/projects/1a5/schemas 200" {
		t.Fatalf("OnRequest saw %v", seen)
	}
}

func TestNewSeveralProjectsIsTerminal(t *testing.T) {
	f := newFakeRancher(t)
	f.projects = []string{"1a5", "1a7"}
	_, err := New(context.Background(), f.testOptions(t, f.base()))
	if !IsTerminal(err) || !strings.Contains(err.Error(), "/v2-beta/projects/<id>") ||
		!strings.Contains(err.Error(), "1a5") || !strings.Contains(err.Error(), "1a7") {
		t.Fatalf("err = %v", err)
	}
}

func TestNew401IsOneClearTerminalError(t *testing.T) {
	f := newFakeRancher(t)
	o := f.testOptions(t, f.project())
	o.SecretKey = "wrong-secret-value"
	_, err := New(context.Background(), o)
	if !IsTerminal(err) || IsTransient(err) {
		t.Fatalf("want terminal, got %v", err)
	}
	for _, want := range []string{"CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY", "CATTLE_URL", f.project()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error leaks the secret: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("a 401 cost %d requests, want 1 (no retries)", n)
	}
}

func TestNewNotRancherIsTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>hello</html>") }))
	defer srv.Close()
	_, err := New(context.Background(), Options{URL: srv.URL + "/v2-beta/projects/1a5", Clusters: []ClusterRef{{Stack: "s", Services: []string{"x"}}}})
	if !IsTerminal(err) || !strings.Contains(err.Error(), "X-API-Schemas") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewUnreachableIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = New(context.Background(), Options{URL: "http://" + addr, Clusters: []ClusterRef{{Stack: "s", Services: []string{"x"}}}})
	if !IsTransient(err) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	_, err := New(context.Background(), Options{Clusters: []ClusterRef{{Name: "x"}}})
	if !IsTerminal(err) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"url", "clusters[0].stack", "clusters[0].services"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
}

func memberIDs(s mesh.Snapshot) []string {
	var out []string
	for _, cl := range s.Clusters {
		for _, m := range cl.Members() {
			out = append(out, m.ContainerID)
		}
	}
	return out
}

func wantIDs(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("1i%d", i))
	}
	return out
}

func TestSnapshot(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		pageSize     int
		honour       map[string]bool
		wantRequests int
	}{
		{"filters honoured, one page each", 5, 0, nil, 3},
		{"filters ignored: checked locally", 5, 0, map[string]bool{}, 3},
		{"pagination followed (7 containers, 2 a page)", 5, 2, nil, 1 + 1 + 4},
		{"pagination with ignored filters", 5, 2, map[string]bool{}, 1 + 1 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(tt.n)
			if tt.honour != nil {
				f.honour = tt.honour
			}
			c := f.newClient(t, func(o *Options) { o.PageSize = tt.pageSize })
			f.resetLog()
			s, err := c.Snapshot(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, memberIDs(s), wantIDs(tt.n))
			if s.Requests != tt.wantRequests || len(f.requests()) != tt.wantRequests {
				t.Errorf("Requests = %d, server saw %v; want %d", s.Requests, f.requests(), tt.wantRequests)
			}
			cl := s.Clusters[0]
			if cl.Name != "demo" || cl.StackID != "1st1" || cl.Services[0].ID != "1s1" || cl.Services[0].Scale != int64(tt.n) {
				t.Errorf("cluster = %+v", cl)
			}
			m := cl.Services[0].Containers[0]
			if m.IP != "10.42.0.2" || m.State != "running" || m.HealthState != "healthy" || m.Service != "web" || m.HostID != "1h1" {
				t.Errorf("member = %+v", m)
			}
		})
	}
}

// Cattle may leave a container's stackId column empty; no list is
// filtered by it, so every member is found, each time with three lists.
func TestSnapshotWithEmptyStackIDColumn(t *testing.T) {
	for _, n := range []int{5, maxByID + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(n)
			for _, id := range wantIDs(n) {
				f.set("containers", id, "stackId", nil)
			}
			c := f.newClient(t)
			for range 2 {
				s, err := c.Snapshot(context.Background(), false)
				if err != nil {
					t.Fatal(err)
				}
				mustEqual(t, memberIDs(s), wantIDs(n))
				if s.Requests != 3 {
					t.Errorf("%d requests, want 3", s.Requests)
				}
			}
		})
	}
}

func TestSnapshotInstanceRemovedInBetween(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	f.set("containers", "1i2", "state", "removed")
	f.set("containers", "1i2", "removed", "2024-01-01T00:00:00Z")
	c := f.newClient(t)
	s, err := c.Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, memberIDs(s), []string{"1i1", "1i3"})
	if s.Requests != 4 {
		t.Errorf("Requests = %d, want 4 (one by-id read of 1i2)", s.Requests)
	}
}

func TestSnapshotMissingNames(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(2)
	c := f.newClient(t, func(o *Options) {
		o.Clusters = []ClusterRef{{Name: "a", Stack: "nostack", Services: []string{"web"}}}
	})
	_, err := c.Snapshot(context.Background(), false)
	if !IsTerminal(err) || !strings.Contains(err.Error(), `stack "nostack" not found`) {
		t.Fatalf("err = %v", err)
	}
	c = f.newClient(t, func(o *Options) {
		o.Clusters = []ClusterRef{{Name: "a", Stack: "demo", Services: []string{"web", "nosvc"}}}
	})
	_, err = c.Snapshot(context.Background(), false)
	if !IsTerminal(err) || !strings.Contains(err.Error(), `service "nosvc" not found in stack "demo"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSnapshotFailsWholeOnAnyError(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(r *http.Request) int
	}{
		{"second page 500", func(r *http.Request) int {
			if strings.Contains(r.URL.Path, "containers") && r.URL.Query().Get("marker") != "" {
				return 500
			}
			return 0
		}},
		{"services 503", func(r *http.Request) int {
			if strings.HasSuffix(r.URL.Path, "/services") {
				return 503
			}
			return 0
		}},
		{"by-id 500", func(r *http.Request) int {
			if strings.Contains(r.URL.Path, "/containers/") {
				return 500
			}
			return 0
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(5)
			f.set("containers", "1i3", "removed", "2024-01-01T00:00:00Z") // forces a by-id read
			c := f.newClient(t, func(o *Options) { o.PageSize = 2 })
			f.setFail(tt.fail)
			s, err := c.Snapshot(context.Background(), false)
			if err == nil || !IsTransient(err) {
				t.Fatalf("err = %v, snapshot %v", err, memberIDs(s))
			}
			if len(s.Clusters) != 0 {
				t.Fatalf("a failed snapshot returned data: %+v", s)
			}
		})
	}
}

func TestSnapshotTimeoutIsTransient(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(2)
	c := f.newClient(t, func(o *Options) { o.Timeout = 200 * time.Millisecond })
	release := make(chan struct{})
	defer close(release)
	f.setFail(func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/containers") {
			<-release
		}
		return 0
	})
	_, err := c.Snapshot(context.Background(), false)
	if !IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestSnapshotHonoursContext(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(2)
	c := f.newClient(t, func(o *Options) { o.Timeout = 5 * time.Second })
	release := make(chan struct{})
	defer close(release)
	f.setFail(func(r *http.Request) int { <-release; return 0 })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Snapshot(ctx, false); errc <- err }()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Snapshot ignored its context")
	}
}

func TestSnapshotOneRunningOneQueued(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t)
	gate := make(chan struct{})
	var stackLists atomic.Int32
	f.setFail(func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/stacks") {
			if stackLists.Add(1) == 1 {
				<-gate // hold the first snapshot until every caller has arrived
			}
		}
		return 0
	})
	first := make(chan error, 1)
	go func() { _, err := c.Snapshot(context.Background(), false); first <- err }()
	testwait.Eventually(t, 30*time.Second, "first snapshot running", func() bool { return stackLists.Load() == 1 })
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.Snapshot(context.Background(), false)
			if err == nil && len(memberIDs(s)) != 3 {
				err = fmt.Errorf("members %v", memberIDs(s))
			}
			errs <- err
		}()
	}
	testwait.Eventually(t, 30*time.Second, "callers queued", func() bool {
		c.flights.mu.Lock()
		defer c.flights.mu.Unlock()
		return c.flights.queued != nil && c.flights.queued.waiters == 20
	})
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := stackLists.Load(); n != 2 {
		t.Fatalf("21 callers ran %d snapshots, want 2 (one running, one queued)", n)
	}
}

func TestContainersByIP(t *testing.T) {
	tests := []struct {
		name     string
		honour   map[string]bool // nil: the fake's default
		snapshot bool
		rename   bool // the wanted container is named like no prefix
		ips      []string
		want     []string // container ids found, in ips order
		maxReqs  int
	}{
		{"known IP: one list of its service", nil, true, false, []string{"10.42.0.3"}, []string{"1i2"}, 1},
		{"several IPs of one service: still one list", nil, true, false, []string{"10.42.0.3", "10.42.0.4", "10.42.0.5"}, []string{"1i2", "1i3", "1i4"}, 1},
		{"unknown IP: one page of the newest containers settles it", nil, true, false, []string{"10.9.9.9"}, nil, 1},
		{"unknown IP, sort not honoured: the configured services are listed too", map[string]bool{"name": true, "name_prefix": true}, true, false, []string{"10.9.9.9"}, nil, 2},
		{"another stack's container is no member", nil, true, false, []string{"10.42.3.152"}, nil, 1},
		{"cold: lists everything first", nil, false, false, []string{"10.42.0.3"}, []string{"1i2"}, 4},
		{"a scale-up of 50 at once: still one list", nil, true, false, fiftyIPs(), nil, 1},
		{"name_prefix ignored: every row is checked here", map[string]bool{"name": true, "stackId": true}, true, false, []string{"10.42.0.5"}, []string{"1i4"}, 1},
		{"a container named like no prefix is read by id", nil, true, true, []string{"10.42.0.5"}, []string{"1i4"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRancher(t)
			f.seed(4)
			if tt.honour != nil {
				f.honour = tt.honour
			}
			if tt.rename {
				f.set("containers", "1i4", "name", "custom-name")
			}
			c := f.newClient(t)
			if tt.snapshot {
				if _, err := c.Snapshot(context.Background(), false); err != nil {
					t.Fatal(err)
				}
			}
			f.resetLog()
			got, err := c.ContainersByIP(context.Background(), tt.ips)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ip := range tt.ips {
				if m, ok := got[ip]; ok {
					ids = append(ids, m.ContainerID)
					if m.Service != "web" || m.ServiceID != "1s1" || m.IP != ip {
						t.Errorf("member = %+v", m)
					}
				}
			}
			mustEqual(t, ids, tt.want)
			if len(got) != len(tt.want) {
				t.Errorf("found %v", got)
			}
			if n := len(f.requests()); n > tt.maxReqs {
				t.Errorf("%d requests, want at most %d: %v", n, tt.maxReqs, f.requests())
			}
		})
	}
}

// fiftyIPs are IPs of containers the cache has not seen yet.
func fiftyIPs() []string {
	var out []string
	for i := range 50 {
		out = append(out, fmt.Sprintf("10.42.9.%d", i+1))
	}
	return out
}

// A container the cache has not seen is found by one page of the newest
// containers, or, where Cattle does not sort, by the list of the growing
// service alone, whatever the number of configured services.
func TestContainersByIPNewContainerCostsOneOrTwoRequests(t *testing.T) {
	f := newFakeRancher(t)
	refs := f.seedLarge(10, 12) // 120 containers: more than a page of the newest
	c := f.newClient(t, func(o *Options) { o.Clusters = refs })
	if _, err := c.Snapshot(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	// A new container of svc4, and the service's scale (its event).
	join := func(id string, i int) string {
		t.Helper()
		f.add("containers", fakeContainer(id, "1s4", "1st1", "big/svc4", i))
		f.set("services", "1s4", "scale", 12+i-199)
		if err := c.readAll(context.Background(), &pass{}, kindService, []string{"1s4"}); err != nil {
			t.Fatal(err)
		}
		f.resetLog()
		ip := fmt.Sprintf("10.42.0.%d", i%250+1)
		got, err := c.ContainersByIP(context.Background(), []string{ip})
		if err != nil || got[ip].ContainerID != id {
			t.Fatalf("%s: got %v, %v", id, got, err)
		}
		return strings.Join(f.requests(), " ")
	}
	if reqs := join("1i200", 200); strings.Count(reqs, "GET") != 1 || !strings.Contains(reqs, "sort=id") || !strings.Contains(reqs, "order=desc") {
		t.Errorf("requests = %v, want one page of the newest containers", reqs)
	}
	// Without a sort Cattle honours, the growing service alone is listed.
	f.honour = map[string]bool{"name": true, "name_prefix": true}
	if reqs := join("1i201", 201); strings.Count(reqs, "GET") != 2 || !strings.Contains(reqs, "name_prefix=big-svc4-") {
		t.Errorf("requests = %v, want the newest containers, then one list of big-svc4-", reqs)
	}
}

func TestContainersByIPRefusesBadInput(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(1)
	c := f.newClient(t)
	for _, ips := range [][]string{{"not-an-ip"}, {"10.0.0.1", strings.Repeat("x", 500)}, make([]string, maxLookupIPs+1)} {
		_, err := c.ContainersByIP(context.Background(), ips)
		if !IsTerminal(err) || len(err.Error()) > 200 {
			t.Errorf("ContainersByIP(%d IPs) = %v, want a short terminal error", len(ips), err)
		}
	}
	if len(f.requests()) > 1 { // New's one
		t.Errorf("bad input cost requests: %v", f.requests())
	}
}
