package reconcile

import (
	"errors"
	"reflect"
	"testing"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// peersOf summarises a desired cluster: member -> peers, and departing.
func peersOf(dc DesiredCluster) (map[mesh.NodeName]mesh.PeerSet, mesh.PeerSet) {
	peers := map[mesh.NodeName]mesh.PeerSet{}
	for _, m := range dc.Members {
		peers[m.Endpoint.Node] = m.Peers
	}
	var dep []mesh.NodeName
	for _, d := range dc.Departing {
		dep = append(dep, d.Endpoint.Node)
	}
	return peers, mesh.NewPeerSet(dep...)
}

func TestDesire(t *testing.T) {
	tests := []struct {
		name          string
		cluster       config.Cluster
		snap          mesh.Snapshot
		wantPeers     map[mesh.NodeName]mesh.PeerSet
		wantDeparting mesh.PeerSet
	}{{
		name:    "three healthy members: each holds the two others",
		cluster: testCluster("hello", "hello"),
		snap:    snapOf(up("hello", 1), up("hello", 2), up("hello", 3)),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{
			name("hello", 1): names("hello", 2, 3),
			name("hello", 2): names("hello", 1, 3),
			name("hello", 3): names("hello", 1, 2),
		},
	}, {
		name:    "no health check counts as healthy",
		cluster: testCluster("hello", "hello"),
		snap:    snapOf(ctr("hello", 1, "running", ""), up("hello", 2)),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{
			name("hello", 1): names("hello", 2),
			name("hello", 2): names("hello", 1),
		},
	}, {
		name:    "stopping, stopped, unhealthy and initializing containers are departing",
		cluster: testCluster("hello", "hello"),
		snap: snapOf(up("hello", 1), ctr("hello", 2, "stopping", "healthy"), ctr("hello", 3, "stopped", ""),
			ctr("hello", 4, "running", "unhealthy"), ctr("hello", 5, "running", "initializing")),
		wantPeers:     map[mesh.NodeName]mesh.PeerSet{name("hello", 1): {}},
		wantDeparting: names("hello", 2, 3, 4, 5),
	}, {
		name:      "a container without an IP is skipped",
		cluster:   testCluster("hello", "hello"),
		snap:      snapOf(up("hello", 1), mesh.Member{ContainerID: "1i9", Service: "hello", State: "starting"}),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{name("hello", 1): {}},
	}, {
		name: "a container whose rendered name agents refuse is skipped: its peers' pushes stay valid",
		cluster: func() config.Cluster {
			c := testCluster("hello", "hello")
			c.NodeName = "{{name}}@{{primaryIP}}"
			return c
		}(),
		snap: snapOf(
			mesh.Member{ContainerID: "1i1", Service: "hello", Name: "demo-hello-1", IP: "10.42.0.1", State: "running", HealthState: "healthy"},
			mesh.Member{ContainerID: "1i2", Service: "hello", Name: "demo.hello 2", IP: "10.42.0.2", State: "running", HealthState: "healthy"}),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{"demo-hello-1@10.42.0.1": {}},
	}, {
		name:    "a member wins an IP still held by a stopped container",
		cluster: testCluster("hello", "hello"),
		snap: snapOf(ctr("hello", 1, "stopped", ""), up("hello", 2),
			mesh.Member{ContainerID: "1i7", Service: "hello", IP: "10.42.0.1", State: "running", HealthState: "healthy"}),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{
			name("hello", 1): names("hello", 2),
			name("hello", 2): names("hello", 1),
		},
	}, {
		name: "the membership rule is the cluster's: unhealthy admitted",
		cluster: func() config.Cluster {
			c := testCluster("hello", "hello")
			c.Membership.HealthStates = []string{"healthy", "unhealthy"}
			return c
		}(),
		snap: snapOf(up("hello", 1), ctr("hello", 2, "running", "unhealthy")),
		wantPeers: map[mesh.NodeName]mesh.PeerSet{
			name("hello", 1): names("hello", 2),
			name("hello", 2): names("hello", 1),
		},
	}, {
		name:    "two services form one mesh",
		cluster: testCluster("hello", "hello", "worker"),
		snap: mesh.Snapshot{Clusters: []mesh.Cluster{{Name: "hello", Stack: "demo", Services: []mesh.Service{
			{Name: "hello", Containers: []mesh.Member{up("hello", 1)}},
			{Name: "worker", Containers: []mesh.Member{up("worker", 2)}},
		}}}},
		wantPeers: map[mesh.NodeName]mesh.PeerSet{
			name("hello", 1):  {name("worker", 2)},
			name("worker", 2): {name("hello", 1)},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Desire([]config.Cluster{tt.cluster}, tt.snap)
			if err != nil {
				t.Fatal(err)
			}
			peers, dep := peersOf(d.Clusters[0])
			for n, p := range tt.wantPeers {
				if !p.Equal(peers[n]) {
					t.Errorf("peers of %s = %v, want %v", n, peers[n], p)
				}
			}
			if len(peers) != len(tt.wantPeers) {
				t.Errorf("members = %v, want %v", peers, tt.wantPeers)
			}
			if !dep.Equal(tt.wantDeparting) {
				t.Errorf("departing = %v, want %v", dep, tt.wantDeparting)
			}
		})
	}
}

func TestDesireEndpoints(t *testing.T) {
	c := testCluster("hello", "hello")
	c.NodeName = "{{stack}}-{{service}}@{{primaryIP}}"
	c.Admin.Port, c.Admin.Scheme = 4444, "https"
	d, err := Desire([]config.Cluster{c}, snapOf(up("hello", 7)))
	if err != nil {
		t.Fatal(err)
	}
	want := mesh.Endpoint{Cluster: "hello", Node: "demo-hello@10.42.0.7", ContainerID: "1i7", URL: "https://10.42.0.7:4444"}
	if got := d.Clusters[0].Members[0].Endpoint; !reflect.DeepEqual(got, want) {
		t.Errorf("endpoint = %+v, want %+v", got, want)
	}
}

// A cluster missing from the snapshot is partial knowledge, not an empty
// cluster.
func TestDesireRefusesPartialSnapshot(t *testing.T) {
	_, err := Desire([]config.Cluster{testCluster("hello", "hello"), testCluster("other", "other")}, snapOf(up("hello", 1)))
	if !errors.Is(err, ErrPartialSnapshot) {
		t.Fatalf("err = %v, want ErrPartialSnapshot", err)
	}
}

// Safety rule 2: membership is container state running and a health state
// in {"", healthy, updating-healthy}; anything else is out, at once.
func TestMembershipFollowsStateAndHealth(t *testing.T) {
	rule := testCluster("hello", "hello").Membership
	tests := []struct {
		state, health string
		member        bool
	}{
		{"running", "healthy", true},
		{"running", "updating-healthy", true},
		{"running", "", true},
		{"running", "initializing", false},
		{"running", "reinitializing", false},
		{"running", "unhealthy", false},
		{"running", "updating-unhealthy", false},
		{"starting", "healthy", false},
		{"restarting", "healthy", false},
		{"stopping", "healthy", false},
		{"stopped", "healthy", false},
		{"removed", "", false},
	}
	for _, tt := range tests {
		if got := IsMember(rule, mesh.Member{State: tt.state, HealthState: tt.health}); got != tt.member {
			t.Errorf("IsMember(%q, %q) = %v, want %v", tt.state, tt.health, got, tt.member)
		}
	}

	// And through a pass: a member that turns unhealthy leaves the mesh on
	// both sides in one pass.
	obs := &fakeObserver{}
	obs.set(snapOf(up("hello", 1), up("hello", 2), up("hello", 3)), nil)
	nodes := newFakeNodes(name("hello", 1), name("hello", 2), name("hello", 3))
	c := newTestController(t, obs, nodes, nil)
	mustPass(t, c)
	obs.set(snapOf(up("hello", 1), up("hello", 2), ctr("hello", 3, "running", "unhealthy")), nil)
	mustPass(t, c)
	if !nodes.fullMesh(names("hello", 1, 2)) || len(nodes.connected(name("hello", 3))) != 0 {
		t.Errorf("after unhealthy: 1=%v 2=%v 3=%v", nodes.connected(name("hello", 1)), nodes.connected(name("hello", 2)), nodes.connected(name("hello", 3)))
	}
}
