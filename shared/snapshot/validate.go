package snapshot

import (
	"fmt"
	"hash/maphash"
	"math"
	"unicode/utf8"
)

// Validate reports whether s is structurally consistent, with the first
// problem found (wrapping ErrInvalid, or ErrTooLarge for a count or length
// over DefaultLimits):
//
//   - every per-item slice has Len() entries; Vectors has Len()*Dims and
//     Centroids a multiple of Dims values; ClusterLabels has Clusters();
//     every item's Cluster is below Clusters();
//   - item ids are non-empty, valid UTF-8 and unique;
//   - each graph has Len()+1 non-decreasing Offsets from 0 to len(Nbr) (or
//     is entirely empty: no offsets, neighbours or weights), Weight as many
//     entries as Nbr, neighbours below Len(), no self-loops, no neighbour
//     twice in a row, and weights finite, non-negative and non-increasing
//     along each row;
//   - Trending has as many entries as TrendingScore, distinct items below
//     Len(), and scores that never increase;
//   - section names are non-empty and unique;
//   - no float is NaN or infinite; popularity and scales are non-negative;
//   - counts, Dims and string lengths are within DefaultLimits.
func Validate(s *Snapshot) error {
	return validate(s, DefaultLimits().normalized(), ErrInvalid)
}

// validate is Validate under lim; structural problems wrap kind.
func validate(s *Snapshot, lim Limits, kind error) error {
	bad := func(format string, a ...any) error {
		return &codecError{kind: kind, msg: fmt.Sprintf(format, a...)}
	}
	big := func(format string, a ...any) error {
		return &codecError{kind: ErrTooLarge, msg: fmt.Sprintf(format, a...)}
	}
	if s == nil {
		return bad("nil snapshot")
	}
	n := s.Len()
	if n > lim.MaxItems {
		return big("%d items exceed limit %d", n, lim.MaxItems)
	}
	if len(s.Shop) > lim.MaxStringBytes {
		return big("shop: length %d exceeds limit %d", len(s.Shop), lim.MaxStringBytes)
	}
	if len(s.Region) > lim.MaxStringBytes {
		return big("region: length %d exceeds limit %d", len(s.Region), lim.MaxStringBytes)
	}
	if s.Dims < 0 {
		return bad("dims %d is negative", s.Dims)
	}
	if s.Dims > lim.MaxDims {
		return big("dims %d exceed limit %d", s.Dims, lim.MaxDims)
	}

	it := &s.Items
	for _, col := range [...]struct {
		name string
		len  int
	}{
		{"titles", len(it.Titles)},
		{"categories", len(it.Categories)},
		{"prices", len(it.Prices)},
		{"in-stock flags", len(it.InStock)},
		{"clusters", len(it.Cluster)},
		{"popularity", len(it.Popularity)},
		{"scales", len(s.Scales)},
	} {
		if col.len != n {
			return bad("items: %d %s for %d items", col.len, col.name, n)
		}
	}
	if len(s.Vectors) != n*s.Dims {
		return bad("vectors: %d values, want %d items × %d dims", len(s.Vectors), n, s.Dims)
	}

	for i, id := range it.IDs {
		switch {
		case id == "":
			return bad("item %d id: empty", i)
		case len(id) > lim.MaxStringBytes:
			return big("item %d id: length %d exceeds limit %d", i, len(id), lim.MaxStringBytes)
		case !utf8.ValidString(id):
			return bad("item %d id: invalid UTF-8", i)
		}
	}
	if a, b, dup := duplicateID(it.IDs); dup {
		return bad("item %d id: %q repeats item %d", b, it.IDs[b], a)
	}
	for i := range n {
		if l := len(it.Titles[i]); l > lim.MaxStringBytes {
			return big("item %d title: length %d exceeds limit %d", i, l, lim.MaxStringBytes)
		}
		if l := len(it.Categories[i]); l > lim.MaxStringBytes {
			return big("item %d category: length %d exceeds limit %d", i, l, lim.MaxStringBytes)
		}
		if p := it.Prices[i]; !finite(p) {
			return bad("item %d price: %v", i, p)
		}
		if p := it.Popularity[i]; !finite(p) || p < 0 {
			return bad("item %d popularity: %v is not a finite non-negative number", i, p)
		}
		if sc := s.Scales[i]; !finite(sc) || sc < 0 {
			return bad("item %d scale: %v is not a finite non-negative number", i, sc)
		}
	}

	if s.Dims == 0 {
		if len(s.Centroids) != 0 {
			return bad("centroids: %d values with 0 dims", len(s.Centroids))
		}
	} else if len(s.Centroids)%s.Dims != 0 {
		return bad("centroids: %d values is not a multiple of %d dims", len(s.Centroids), s.Dims)
	}
	k := s.Clusters()
	if k > lim.MaxClusters {
		return big("%d clusters exceed limit %d", k, lim.MaxClusters)
	}
	for i, v := range s.Centroids {
		if !finite(v) {
			return bad("cluster %d centroid: dim %d is %v", i/s.Dims, i%s.Dims, v)
		}
	}
	if len(s.ClusterLabels) != k {
		return bad("cluster labels: %d for %d clusters", len(s.ClusterLabels), k)
	}
	for c, l := range s.ClusterLabels {
		if len(l) > lim.MaxStringBytes {
			return big("cluster %d label: length %d exceeds limit %d", c, len(l), lim.MaxStringBytes)
		}
	}
	for i, c := range it.Cluster {
		if int(c) >= k {
			return bad("item %d cluster: %d, want below %d clusters", i, c, k)
		}
	}

	var stamp []uint32
	if n > 0 {
		stamp = make([]uint32, n)
	}
	if err := validateGraph("co-visitation", &s.CoVisit, n, lim, stamp, bad, big); err != nil {
		return err
	}
	clear(stamp)
	if err := validateGraph("bought-together", &s.BoughtTogether, n, lim, stamp, bad, big); err != nil {
		return err
	}

	if len(s.Trending) != len(s.TrendingScore) {
		return bad("trending: %d items with %d scores", len(s.Trending), len(s.TrendingScore))
	}
	if len(s.Trending) > n {
		return bad("trending: %d entries for %d items", len(s.Trending), n)
	}
	clear(stamp)
	for j, v := range s.Trending {
		if int64(v) >= int64(n) {
			return bad("trending %d: item %d, want below %d", j, v, n)
		}
		if stamp[v] != 0 {
			return bad("trending %d: item %d already listed at %d", j, v, stamp[v]-1)
		}
		stamp[v] = uint32(j) + 1
		sc := s.TrendingScore[j]
		if !finite(sc) {
			return bad("trending %d: score %v", j, sc)
		}
		if j > 0 && sc > s.TrendingScore[j-1] {
			return bad("trending %d: score %v above the previous %v (want highest first)", j, sc, s.TrendingScore[j-1])
		}
	}

	if len(s.Sections) > lim.MaxSections {
		return big("%d sections exceed limit %d", len(s.Sections), lim.MaxSections)
	}
	for i, sec := range s.Sections {
		switch {
		case sec.Name == "":
			return bad("section %d: empty name", i)
		case len(sec.Name) > lim.MaxStringBytes:
			return big("section %d name: length %d exceeds limit %d", i, len(sec.Name), lim.MaxStringBytes)
		case len(sec.Data) > lim.MaxSectionBytes:
			return big("section %q: %d bytes exceed limit %d", sec.Name, len(sec.Data), lim.MaxSectionBytes)
		}
		for _, prev := range s.Sections[:i] {
			if prev.Name == sec.Name {
				return bad("section %d: name %q repeats", i, sec.Name)
			}
		}
	}
	return nil
}

// validateGraph checks one graph of a snapshot with n items; stamp is n
// zeros of scratch space.
func validateGraph(name string, g *Graph, n int, lim Limits, stamp []uint32, bad, big func(string, ...any) error) error {
	if g.Compact() && (g.Weight != nil || len(g.Code) != len(g.Nbr)) {
		return bad("%s graph: compact, with %d weights and %d codes for %d neighbours", name, len(g.Weight), len(g.Code), len(g.Nbr))
	}
	if !g.Compact() && g.Code != nil {
		return bad("%s graph: weight codes without levels", name)
	}
	if len(g.Offsets) == 0 && len(g.Nbr) == 0 && g.weights() == 0 {
		return nil
	}
	if len(g.Offsets) != n+1 {
		return bad("%s graph: %d offsets, want %d (items + 1)", name, len(g.Offsets), n+1)
	}
	if g.Offsets[0] != 0 {
		return bad("%s graph: first offset %d, want 0", name, g.Offsets[0])
	}
	if len(g.Nbr) > lim.MaxEdges {
		return big("%s graph: %d edges exceed limit %d", name, len(g.Nbr), lim.MaxEdges)
	}
	if g.weights() != len(g.Nbr) {
		return bad("%s graph: %d weights for %d neighbours", name, g.weights(), len(g.Nbr))
	}
	if int64(g.Offsets[n]) != int64(len(g.Nbr)) {
		return bad("%s graph: last offset %d, want %d neighbours", name, g.Offsets[n], len(g.Nbr))
	}
	// A compact graph's weights are levels of its codes: check the 256
	// levels once, and each edge's code against them, in a loop that runs
	// the general one only for a row that breaks a rule (for its message).
	// At 100,000 items that halves the graph checks of an edge's load.
	var badLevel [256]bool
	if g.Compact() {
		for q, w := range g.Levels {
			badLevel[q] = !finite(w) || w < 0
		}
	}
	for i := range n {
		a, b := g.Offsets[i], g.Offsets[i+1]
		if b < a {
			return bad("%s graph: offset %d (%d) below offset %d (%d)", name, i+1, b, i, a)
		}
		gen := uint32(i) + 1
		if g.Compact() {
			if compactRowOK(g, a, b, uint32(i), n, stamp, &badLevel) {
				continue
			}
			for _, v := range g.Nbr[a:b] { // unmark, for the loop below
				if int64(v) < int64(n) {
					stamp[v] = 0
				}
			}
		}
		prev := float32(math.Inf(1))
		for k := a; k < b; k++ {
			v, w := g.Nbr[k], g.weight(int(k))
			switch {
			case int64(v) >= int64(n):
				return bad("%s graph: row %d neighbour %d is item %d, want below %d", name, i, k-a, v, n)
			case int(v) == i:
				return bad("%s graph: row %d neighbour %d is the item itself", name, i, k-a)
			case stamp[v] == gen:
				return bad("%s graph: row %d neighbour %d: item %d repeats", name, i, k-a, v)
			case !finite(w) || w < 0:
				return bad("%s graph: row %d neighbour %d: weight %v is not a finite non-negative number", name, i, k-a, w)
			case w > prev:
				return bad("%s graph: row %d neighbour %d: weight %v above the previous %v (want strongest first)", name, i, k-a, w, prev)
			}
			stamp[v] = gen
			prev = w
		}
	}
	return nil
}

// compactRowOK reports whether row i (edges a to b) of a compact graph
// keeps every rule validateGraph checks, marking its neighbours in stamp.
func compactRowOK(g *Graph, a, b, i uint32, n int, stamp []uint32, badLevel *[256]bool) bool {
	nbr, code, lv := g.Nbr[a:b], g.Code[a:b], g.Levels
	gen := i + 1
	prev := uint8(255) // the first edge has no weight above it
	for k, v := range nbr {
		c := code[k]
		if int64(v) >= int64(n) || v == i || stamp[v] == gen || badLevel[c] || (c > prev && lv[c] > lv[prev]) {
			return false
		}
		stamp[v] = gen
		prev = c
	}
	return true
}

// duplicateID returns the first pair of items with the same id.
func duplicateID(ids []string) (first, second int, dup bool) {
	if len(ids) < 2 {
		return 0, 0, false
	}
	size := 1
	for size < 2*len(ids) {
		size <<= 1
	}
	mask := uint64(size - 1)
	tab := make([]uint32, size) // item number + 1; 0 is empty
	seed := maphash.MakeSeed()
	for i, id := range ids {
		for j := maphash.String(seed, id) & mask; ; j = (j + 1) & mask {
			v := tab[j]
			if v == 0 {
				tab[j] = uint32(i) + 1
				break
			}
			if ids[v-1] == id {
				return int(v - 1), i, true
			}
		}
	}
	return 0, 0, false
}

// finite reports whether f is neither NaN nor infinite.
func finite(f float32) bool { return f-f == 0 }
