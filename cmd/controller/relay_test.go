package main

import (
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/internal/testwait"
	"github.com/drover-mesh/drover/pkg/mesh"
	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// recorder collects announcements.
type recorder struct {
	mu  sync.Mutex
	got []nodeapi.Announcement
}

func (r *recorder) add(a nodeapi.Announcement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, a)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// electorWith is an elector that saw its service with the given leader.
func electorWith(t *testing.T, selfName string, members ...mesh.Member) *elector {
	t.Helper()
	e := newElector(selfID{Stack: "ops", Service: "drover", Name: selfName})
	e.Elect(mesh.Snapshot{Clusters: []mesh.Cluster{{Name: selfCluster, Services: []mesh.Service{{Name: "drover", Containers: members}}}}})
	return e
}

// A standby relays what nodes announce to the leader's endpoint; the
// leader takes it there; an announcement from a controller of the service
// is never relayed again; with no leader the standby takes it.
func TestStandbyRelaysAnnouncementsToTheLeader(t *testing.T) {
	const token = "announce-token"
	leaderGot := &recorder{}
	leader := httptest.NewServer(nodeapi.AnnounceHandler(nodeapi.AnnounceOptions{Token: token, OnAnnounce: leaderGot.add}))
	defer leader.Close()
	_, port, _ := net.SplitHostPort(leader.Listener.Addr().String())
	an := nodeapi.Announcement{Event: "up", Node: "hello@10.42.0.9", IP: "10.42.0.9"}

	leaderMember := mesh.Member{ContainerID: "1i1", Name: "ops-drover-1", IP: "127.0.0.1", State: "running", HealthState: "healthy", CreateIndex: 1}
	standbyMember := mesh.Member{ContainerID: "1i2", Name: "ops-drover-2", IP: "127.0.0.2", State: "running", HealthState: "healthy", CreateIndex: 2}
	here := &recorder{}
	relay := newAnnounceRelay(electorWith(t, "ops-drover-2", leaderMember, standbyMember), ":"+port, token, here.add, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go relay.run(ctx)
	relay.take(an)
	testwait.Eventually(t, 0, "the relayed announcement at the leader", func() bool { return leaderGot.len() == 1 })
	if here.len() != 0 {
		t.Errorf("the standby took a relayed announcement too")
	}

	leading := newAnnounceRelay(electorWith(t, "ops-drover-1", leaderMember, standbyMember), ":"+port, token, here.add, logr.Discard())
	leading.take(an)
	if here.len() != 1 {
		t.Errorf("the leader did not take an announcement itself")
	}

	none := newAnnounceRelay(electorWith(t, "ops-drover-2", mesh.Member{Name: "ops-drover-2", State: "running", HealthState: "initializing"}), ":"+port, token, here.add, logr.Discard())
	none.take(an)
	if here.len() != 2 {
		t.Errorf("with no leader the standby did not take the announcement")
	}

	// The endpoint of a standby whose leader is 127.0.0.1: a request from
	// 127.0.0.1 comes from a controller and is taken there.
	fromController, fromNode := &recorder{}, &recorder{}
	srv := httptest.NewServer(relay.handler(
		nodeapi.AnnounceHandler(nodeapi.AnnounceOptions{Token: token, OnAnnounce: fromController.add}),
		nodeapi.AnnounceHandler(nodeapi.AnnounceOptions{Token: token, OnAnnounce: fromNode.add})))
	defer srv.Close()
	if err := nodeapi.NewAnnouncer(srv.URL, token, logr.Discard()).Announce(ctx, an.Event, an.Node, an.IP); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 0, "the announcement from a controller", func() bool { return fromController.len() == 1 })
	time.Sleep(50 * time.Millisecond) // nothing else may arrive; not a threshold
	if fromNode.len() != 0 {
		t.Errorf("an announcement from a controller went to the relaying handler")
	}
}
