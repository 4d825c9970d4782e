package mesh

import "testing"

func TestPeerSet(t *testing.T) {
	p := NewPeerSet("b@2", "a@1", "b@2", "c@3")
	if got, want := len(p), 3; got != want {
		t.Fatalf("len = %d, want %d", got, want)
	}
	if !p.Contains("a@1") || p.Contains("z@9") {
		t.Errorf("Contains is wrong on %v", p)
	}
	q := NewPeerSet("a@1", "c@3")
	if got := p.Minus(q); !got.Equal(PeerSet{"b@2"}) {
		t.Errorf("Minus = %v, want [b@2]", got)
	}
	if p.Equal(q) || !q.Equal(NewPeerSet("c@3", "a@1")) {
		t.Errorf("Equal is wrong")
	}
}

func TestSnapshotCluster(t *testing.T) {
	s := Snapshot{Clusters: []Cluster{{Name: "a", Services: []Service{
		{Name: "x", Containers: []Member{{ContainerID: "1i1"}}},
		{Name: "y", Containers: []Member{{ContainerID: "1i2"}, {ContainerID: "1i3"}}},
	}}}}
	c, ok := s.Cluster("a")
	if !ok || len(c.Members()) != 3 {
		t.Fatalf("Cluster(a) = %v, %v", c, ok)
	}
	if _, ok := s.Cluster("b"); ok {
		t.Errorf("Cluster(b) found")
	}
}
