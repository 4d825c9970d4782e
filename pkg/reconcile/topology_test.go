package reconcile

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// nodeNames returns n distinct node names shaped like Rancher's
// (hello@10.42.C.D), deterministic in n.
func nodeNames(n int) []mesh.NodeName {
	out := make([]mesh.NodeName, n)
	for i := range out {
		out[i] = mesh.NodeName(fmt.Sprintf("hello@10.42.%d.%d", 1+i/250, 1+i%250))
	}
	return out
}

// reach returns the nodes reachable from start, skipping gone.
func reach(o map[mesh.NodeName]mesh.PeerSet, start mesh.NodeName, gone mesh.NodeName) map[mesh.NodeName]int {
	dist := map[mesh.NodeName]int{start: 0}
	queue := []mesh.NodeName{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, p := range o[n] {
			if _, seen := dist[p]; !seen && p != gone {
				dist[p] = dist[n] + 1
				queue = append(queue, p)
			}
		}
	}
	return dist
}

// checkOverlay returns what is wrong with o as a bounded overlay of
// degree k over names: a node missing or foreign, a self link, a one-sided
// link, a degree above k, or more than one component.
func checkOverlay(o map[mesh.NodeName]mesh.PeerSet, names []mesh.NodeName, k int) error {
	if len(o) != len(names) {
		return fmt.Errorf("%d nodes in the overlay, want %d", len(o), len(names))
	}
	for _, n := range names {
		peers, ok := o[n]
		switch {
		case !ok:
			return fmt.Errorf("%s missing", n)
		case len(peers) > k:
			return fmt.Errorf("%s holds %d peers, more than k = %d: %v", n, len(peers), k, peers)
		case !slices.IsSorted(peers) || len(slices.Compact(slices.Clone(peers))) != len(peers):
			return fmt.Errorf("%s: peers %v not a sorted set", n, peers)
		case peers.Contains(n):
			return fmt.Errorf("%s holds itself", n)
		}
		for _, p := range peers {
			if !o[p].Contains(n) {
				return fmt.Errorf("%s holds %s, but %s does not hold %s", n, p, p, n)
			}
		}
	}
	if len(names) > 0 {
		if got := len(reach(o, names[0], "")); got != len(names) {
			return fmt.Errorf("not connected: %s reaches %d of %d nodes", names[0], got, len(names))
		}
	}
	return nil
}

func TestBoundedDegreeTable(t *testing.T) {
	a, b, c := mesh.NodeName("a@1"), mesh.NodeName("b@1"), mesh.NodeName("c@1")
	tests := []struct {
		name  string
		names []mesh.NodeName
		k     int
		want  map[mesh.NodeName]mesh.PeerSet
	}{
		{"no members: no overlay", nil, 4, map[mesh.NodeName]mesh.PeerSet{}},
		{"one member: no peers", []mesh.NodeName{a}, 4, map[mesh.NodeName]mesh.PeerSet{a: {}}},
		{"two members: one link", []mesh.NodeName{b, a}, 2, map[mesh.NodeName]mesh.PeerSet{a: {b}, b: {a}}},
		{"duplicates count once", []mesh.NodeName{a, b, a, b}, 3, map[mesh.NodeName]mesh.PeerSet{a: {b}, b: {a}}},
		{"three members, k = 2: the ring is a triangle", []mesh.NodeName{c, a, b}, 2,
			map[mesh.NodeName]mesh.PeerSet{a: {b, c}, b: {a, c}, c: {a, b}}},
		{"k above the member count: every other member at most", []mesh.NodeName{a, b, c}, 8,
			map[mesh.NodeName]mesh.PeerSet{a: {b, c}, b: {a, c}, c: {a, b}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BoundedDegree(tt.names, tt.k)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BoundedDegree(%v, %d) = %v, want %v", tt.names, tt.k, got, tt.want)
			}
		})
	}
}

// The overlay of given names never changes between versions: it is a
// function of the names only (FNV-1a and splitmix64, fixed constants), so
// an upgraded controller, or two controllers of different versions, keep
// every link where it is. A change to this golden output re-links every
// bounded cluster on upgrade.
func TestBoundedDegreeIsStableAcrossVersions(t *testing.T) {
	got := BoundedDegree(nodeNames(6), 3)
	want := map[mesh.NodeName]mesh.PeerSet{
		"hello@10.42.1.1": {"hello@10.42.1.3", "hello@10.42.1.4", "hello@10.42.1.6"},
		"hello@10.42.1.2": {"hello@10.42.1.4", "hello@10.42.1.6"},
		"hello@10.42.1.3": {"hello@10.42.1.1", "hello@10.42.1.5", "hello@10.42.1.6"},
		"hello@10.42.1.4": {"hello@10.42.1.1", "hello@10.42.1.2", "hello@10.42.1.5"},
		"hello@10.42.1.5": {"hello@10.42.1.3", "hello@10.42.1.4"},
		"hello@10.42.1.6": {"hello@10.42.1.1", "hello@10.42.1.2", "hello@10.42.1.3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BoundedDegree(6 names, 3) = %v, want %v", got, want)
	}
}

func TestFullMeshOverlayIsEveryOtherMember(t *testing.T) {
	names := nodeNames(5)
	o := Overlay(config.TopologyFullMesh, 0, names)
	for _, n := range names {
		if want := mesh.NewPeerSet(names...).Minus(mesh.PeerSet{n}); !o[n].Equal(want) {
			t.Errorf("%s: %v, want %v", n, o[n], want)
		}
	}
}

// maxChanges is the bound on changed links per join or leave that
// BoundedDegree's doc promises: three per layer.
func maxChanges(k int) int { return 3 * ((k + 1) / 2) }

// The overlay is connected, symmetric, within degree k, the same in any
// member order, and a join or a leave changes at most 3⌈k/2⌉ links, for
// every cluster size from 1 to 500.
func TestBoundedDegreeProperties(t *testing.T) {
	const maxN = 500
	all := nodeNames(maxN + 1)
	rng := rand.New(rand.NewPCG(17, 17))
	for _, k := range []int{2, 3, 4, 5, 8} {
		worstJoin, worstLeave, sumJoin, sumLeave := 0, 0, 0, 0
		for n := 1; n <= maxN; n++ {
			names := all[:n]
			o := BoundedDegree(names, k)
			if err := checkOverlay(o, names, k); err != nil {
				t.Fatalf("k=%d n=%d: %v", k, n, err)
			}
			shuffled := slices.Clone(names)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if again := BoundedDegree(append(shuffled, shuffled[0]), k); !reflect.DeepEqual(again, o) {
				t.Fatalf("k=%d n=%d: the overlay depends on the order of the names", k, n)
			}
			joined := BoundedDegree(all[:n+1], k)
			j := LinkChanges(o, joined)
			leaver := names[rng.IntN(n)]
			left := BoundedDegree(slices.DeleteFunc(slices.Clone(names), func(x mesh.NodeName) bool { return x == leaver }), k)
			l := LinkChanges(o, withNode(left, leaver))
			if j > maxChanges(k) || l > maxChanges(k) {
				t.Fatalf("k=%d n=%d: a join changes %d links, a leave of %s %d; at most %d allowed", k, n, j, leaver, l, maxChanges(k))
			}
			worstJoin, worstLeave, sumJoin, sumLeave = max(worstJoin, j), max(worstLeave, l), sumJoin+j, sumLeave+l
		}
		t.Logf("k=%d, n=1..%d: links changed per join max %d mean %.2f, per leave max %d mean %.2f (bound %d)",
			k, maxN, worstJoin, float64(sumJoin)/maxN, worstLeave, float64(sumLeave)/maxN, maxChanges(k))
	}
}

// withNode adds an isolated entry for n, so that LinkChanges counts n's
// old links as removed.
func withNode(o map[mesh.NodeName]mesh.PeerSet, n mesh.NodeName) map[mesh.NodeName]mesh.PeerSet {
	o[n] = nil
	return o
}

// Raising the degree only adds links and lowering it only removes them:
// the first layers are the same at every k, and the matching of an odd k
// links successors of the next layer's cycle.
func TestBoundedDegreeGrowsWithK(t *testing.T) {
	for _, n := range []int{2, 3, 5, 12, 100} {
		names := nodeNames(n)
		for k := config.MinDegree; k < 12; k++ {
			lo, hi := BoundedDegree(names, k), BoundedDegree(names, k+1)
			for _, v := range names {
				if extra := lo[v].Minus(hi[v]); len(extra) > 0 {
					t.Errorf("n=%d: %s holds %v at k=%d but not at k=%d", n, v, extra, k, k+1)
				}
			}
		}
	}
}

// Any single node can fail and the others stay connected: every layer
// cycle minus one node is a path.
func TestBoundedDegreeSurvivesAnySingleFailure(t *testing.T) {
	for _, k := range []int{2, 3, 4, 8} {
		for _, n := range []int{3, 4, 5, 7, 12, 50, 200} {
			names := nodeNames(n)
			o := BoundedDegree(names, k)
			for _, gone := range names {
				start := names[0]
				if start == gone {
					start = names[1]
				}
				if got := len(reach(o, start, gone)); got != n-1 {
					t.Errorf("k=%d n=%d: without %s, %s reaches %d of the other %d nodes", k, n, gone, start, got, n-1)
				}
			}
		}
	}
}

// The diameter grows like log n for k >= 4, not like n: the layers are
// independent-looking random cycles (an expander), not one ring.
func TestBoundedDegreeDiameter(t *testing.T) {
	for _, tt := range []struct{ n, k, atMost int }{
		{100, 2, 50}, {100, 3, 14}, {100, 4, 7}, {100, 6, 5}, {1000, 4, 10}, {1000, 6, 7}, {1000, 8, 6},
	} {
		d := indexDiameter(overlayIndexes(config.TopologyBoundedDegree, tt.k, mesh.NewPeerSet(nodeNames(tt.n)...)))
		t.Logf("n=%d k=%d: diameter %d", tt.n, tt.k, d)
		if d > tt.atMost {
			t.Errorf("n=%d k=%d: diameter %d, want at most %d", tt.n, tt.k, d, tt.atMost)
		}
	}
}

// indexDiameter is the longest shortest path of a connected overlay given
// as adjacency lists (BFS from every node).
func indexDiameter(adj [][]int) int {
	d := 0
	dist := make([]int, len(adj))
	queue := make([]int, 0, len(adj))
	for s := range adj {
		for i := range dist {
			dist[i] = -1
		}
		dist[s], queue = 0, append(queue[:0], s)
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range adj[v] {
				if dist[w] < 0 {
					dist[w] = dist[v] + 1
					d = max(d, dist[w])
					queue = append(queue, w)
				}
			}
		}
	}
	return d
}

// BenchmarkBoundedDegree computes the overlay of n names at k = 4, 6
// and 8, and reports its diameter and number of links.
func BenchmarkBoundedDegree(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, k := range []int{4, 6, 8} {
			b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
				names := nodeNames(n)
				for b.Loop() {
					BoundedDegree(names, k)
				}
				adj := overlayIndexes(config.TopologyBoundedDegree, k, mesh.NewPeerSet(names...))
				links := 0
				for _, p := range adj {
					links += len(p)
				}
				b.ReportMetric(float64(indexDiameter(adj)), "diameter")
				b.ReportMetric(float64(links/2), "links")
			})
		}
	}
}
