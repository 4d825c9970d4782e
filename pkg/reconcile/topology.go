package reconcile

import (
	"cmp"
	"slices"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// Overlay returns every member's desired peers under a topology: the full
// mesh, or the bounded-degree overlay of degree k (BoundedDegree). names
// may come in any order and hold duplicates; the result does not depend
// on either. It is pure.
func Overlay(topology string, k int, names []mesh.NodeName) map[mesh.NodeName]mesh.PeerSet {
	set := mesh.NewPeerSet(names...)
	adj := overlayIndexes(topology, k, set)
	out := make(map[mesh.NodeName]mesh.PeerSet, len(set))
	for i, n := range set {
		out[n] = peerSetOf(set, adj[i])
	}
	return out
}

// BoundedDegree is Overlay for config.TopologyBoundedDegree: a connected
// overlay in which every node holds at most k peers (k >= 2), built only
// from the node names.
//
// # Construction
//
// Each node name gets ⌈k/2⌉ stable 64-bit hashes (FNV-1a of the name,
// spread by the splitmix64 finaliser with one constant per layer). For
// each of the first ⌊k/2⌋ layers the names, sorted by that layer's hash,
// form a cycle: every node is linked to its predecessor and its successor.
// For odd k the last layer adds a matching: along the cycle of that
// layer's hash, a node whose second hash is below both its neighbours'
// (a local minimum) is linked to its successor. The overlay is the union
// of the layers' links, so it is symmetric, and a node holds at most k
// peers (2 per cycle, 1 from the matching; fewer where layers happen to
// pick the same link, or when the cluster has k or fewer members).
//
// # Properties
//
//   - Connected, and still connected after any single node or link fails:
//     one Hamiltonian cycle minus a node or a link is a path through all
//     the others. With two or more cycles it typically survives many more
//     failures (random 2d-regular graphs are 2d-connected with high
//     probability).
//   - Diameter about log n / log(k-1) for k >= 4: a union of d random
//     Hamiltonian cycles is contiguous to a random 2d-regular graph (Kim
//     and Wormald 2001), whose diameter is log_{2d-1} n + O(log log n)
//     (Bollobás and de la Vega 1982) and which is an expander (Friedman
//     2008). Measured on these hashes: TestBoundedDegreeDiameter,
//     BenchmarkBoundedDegree. k = 2 is a plain ring (diameter n/2) and
//     k = 3 a ring plus about n/3 chords.
//   - Minimal change: a node's place in every layer depends on its name
//     only, so a join inserts the node between two neighbours in each
//     layer (one link replaced by two) and a leave closes each gap (two
//     links replaced by one); a matching layer changes at most three links
//     around the gap. No other link moves: at most 3⌈k/2⌉ links change
//     per join or leave, the node's own links included
//     (TestBoundedDegreeProperties), whatever the cluster's size.
//   - Deterministic: the same names give the same overlay, in any order,
//     on any controller (two controllers at once agree).
//   - Monotone in k: the layers of a smaller k are layers of a larger one
//     (an odd k's matching links successors of the next layer's cycle), so
//     raising the degree only adds links and lowering it only removes
//     them (TestBoundedDegreeGrowsWithK).
//
// Cost: ⌈k/2⌉ sorts of n names, O(k·n log n): at k = 4 about 0.5-0.8 ms
// for 1,000 nodes and 8-10 ms for 10,000 on a loaded 2-core machine
// (BenchmarkBoundedDegree).
func BoundedDegree(names []mesh.NodeName, k int) map[mesh.NodeName]mesh.PeerSet {
	return Overlay(config.TopologyBoundedDegree, k, names)
}

// ExcludeTransitive returns c with every member of a bounded-degree
// cluster that reports connect_all true marked Refused, and the overlay
// recomputed over the others. With connect_all true, global connects a
// node to every node its peers know, so the overlay could not hold: such
// a node gets no peer set, and no other member is linked to it, until it
// runs with -kernel connect_all false (its container restarts and reports
// false). Members whose status is unknown stay in. A full mesh is
// returned as it is. It is pure and idempotent.
func ExcludeTransitive(c DesiredCluster, observed map[mesh.NodeName]mesh.NodeStatus) DesiredCluster {
	if c.Topology != config.TopologyBoundedDegree {
		return c
	}
	members := slices.Clone(c.Members)
	changed := false
	for i, m := range members {
		s, ok := observed[m.Endpoint.Node]
		refuse := ok && s.ConnectAll && !m.Held
		if refuse != m.Refused {
			members[i].Refused, changed = refuse, true
		}
	}
	if !changed {
		return c
	}
	c.Members = withPeers(c, members)
	return c
}

// Refused returns the names of the members ExcludeTransitive refused.
func (c DesiredCluster) Refused() mesh.PeerSet {
	var out mesh.PeerSet
	for _, m := range c.Members {
		if m.Refused {
			out = append(out, m.Endpoint.Node)
		}
	}
	return out
}

// overlayIndexes returns, for each name of set (sorted, unique), the
// indexes of its peers, sorted.
func overlayIndexes(topology string, k int, set mesh.PeerSet) [][]int {
	n := len(set)
	adj := make([][]int, n)
	if topology != config.TopologyBoundedDegree {
		for i := range adj {
			adj[i] = make([]int, 0, max(n-1, 0))
			for j := range n {
				if j != i {
					adj[i] = append(adj[i], j)
				}
			}
		}
		return adj
	}
	if n < 2 || k < 2 {
		return adj
	}
	base := make([]uint64, n)
	for i, name := range set {
		base[i] = fnv1a(string(name))
	}
	order := make([]int, n)
	keyed := make([]keyedIndex, n)
	addLink := func(a, b int) {
		if a != b && !slices.Contains(adj[a], b) {
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	for layer := range (k + 1) / 2 {
		sortByLayer(order, keyed, base, layer)
		if layer < k/2 {
			for i := range order {
				addLink(order[i], order[(i+1)%n])
			}
			continue
		}
		// The matching layer (odd k): local minima of a second hash along
		// this layer's cycle, each linked to its successor.
		for i, v := range order {
			prev, next := order[(i+n-1)%n], order[(i+1)%n]
			if lessKey(base, v, prev) && lessKey(base, v, next) {
				addLink(v, next)
			}
		}
	}
	for i := range adj {
		slices.Sort(adj[i])
	}
	return adj
}

// matchingSalt separates the matching layer's second hash from every
// layer hash (layers count from 0 to config.MaxDegree/2).
const matchingSalt = 1 << 20

// lessKey orders nodes by their matching hash, ties by index (names are
// sorted, so by name).
func lessKey(base []uint64, a, b int) bool {
	ka, kb := layerHash(base[a], matchingSalt), layerHash(base[b], matchingSalt)
	return ka < kb || (ka == kb && a < b)
}

// keyedIndex is a node's index with its hash in one layer.
type keyedIndex struct {
	key uint64
	i   int
}

// sortByLayer fills order with 0..n-1 sorted by the layer's hash, ties by
// index; keyed is scratch space of the same length.
func sortByLayer(order []int, keyed []keyedIndex, base []uint64, layer int) {
	for i := range keyed {
		keyed[i] = keyedIndex{layerHash(base[i], layer), i}
	}
	slices.SortFunc(keyed, func(a, b keyedIndex) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.i, b.i))
	})
	for i, k := range keyed {
		order[i] = k.i
	}
}

// layerHash spreads a name's base hash for one layer with the splitmix64
// finaliser: a bijection with full avalanche, so each layer's order is an
// independent-looking permutation of the names.
func layerHash(base uint64, layer int) uint64 {
	z := base ^ (uint64(layer)+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fnv1a is the 64-bit FNV-1a hash of s: stable across versions and
// platforms, unlike hash/maphash.
func fnv1a(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

func peerSetOf(set mesh.PeerSet, idx []int) mesh.PeerSet {
	out := make(mesh.PeerSet, len(idx))
	for i, j := range idx {
		out[i] = set[j]
	}
	return out
}

// LinkChanges counts the links (unordered pairs) that differ between two
// overlays: links only in a plus links only in b.
func LinkChanges(a, b map[mesh.NodeName]mesh.PeerSet) int {
	n := 0
	count := func(x, y map[mesh.NodeName]mesh.PeerSet) {
		for node, peers := range x {
			for _, p := range peers {
				if node < p && !y[node].Contains(p) {
					n++
				}
			}
		}
	}
	count(a, b)
	count(b, a)
	return n
}
