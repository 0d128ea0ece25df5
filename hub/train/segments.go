package train

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/aisle-rec/aisle/hub/cluster"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// Segment building limits.
const (
	segmentItems       = 50  // characteristic items kept per segment
	segmentMinSessions = 100 // fewer past sessions than this: no segments
)

// buildSegments groups past sessions by their profile (the recency-weighted
// mean of their items' vectors, as the edge computes it), labels each group
// by its commonest categories (or title words when the shop has none), and
// keeps the items most characteristic of it: frequent in the group relative
// to their overall popularity. It returns nil when there are too few
// sessions. Item numbers are those of s, which must be final.
func buildSegments(cfg Config, in *Input, s *snapshot.Snapshot) *rank.Segments {
	num := make(map[string]uint32, s.Len())
	for i, id := range s.Items.IDs {
		num[id] = uint32(i)
	}
	dims := s.Dims
	var profiles []float32
	var members [][]uint32
	buf := make([]float32, dims)
	for _, sess := range in.Sessions {
		if len(sess) < 2 {
			continue
		}
		clear(buf)
		var items []uint32
		w := 1.0
		for i := len(sess) - 1; i >= 0; i-- {
			it := num[in.Items[sess[i].Item].ID]
			items = append(items, it)
			sc := float64(s.Scales[it]) * w
			for j, q := range s.Vectors[int(it)*dims : (int(it)+1)*dims] {
				buf[j] += float32(float64(q) * sc)
			}
			w *= 0.6
		}
		var norm float64
		for _, x := range buf {
			norm += float64(x * x)
		}
		if norm == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(norm))
		for j := range buf {
			profiles = append(profiles, buf[j]*inv)
		}
		members = append(members, items)
	}
	n := len(members)
	if n < segmentMinSessions {
		return nil
	}
	k := cfg.Segments
	if k == 0 {
		k = max(2, min(24, n/200))
	}
	cent, assign := cluster.KMeans(profiles, n, dims, k, 20, cfg.Seed+1)
	k = len(cent) / dims

	// Per segment item counts, counting each item once per session.
	counts := make([]map[uint32]float64, k)
	sizes := make([]int, k)
	overall := make([]float64, s.Len())
	for i, items := range members {
		c := assign[i]
		if counts[c] == nil {
			counts[c] = map[uint32]float64{}
		}
		sizes[c]++
		seen := map[uint32]bool{}
		for _, it := range items {
			if !seen[it] {
				seen[it] = true
				counts[c][it]++
				overall[it]++
			}
		}
	}
	seg := &rank.Segments{Dims: dims, Centroids: cent, Labels: make([]string, k), Items: make([][]uint32, k)}
	for c := range k {
		type scored struct {
			it uint32
			s  float64
		}
		var list []scored
		for it, cnt := range counts[c] {
			if cnt >= 2 {
				list = append(list, scored{it, cnt / math.Sqrt(overall[it])})
			}
		}
		slices.SortFunc(list, func(a, b scored) int {
			if d := cmp.Compare(b.s, a.s); d != 0 {
				return d
			}
			return cmp.Compare(a.it, b.it)
		})
		for _, x := range list[:min(len(list), segmentItems)] {
			seg.Items[c] = append(seg.Items[c], x.it)
		}
		seg.Labels[c] = segmentLabel(s, counts[c])
	}
	return seg
}

// segmentLabel names a segment by its two commonest categories, or by its
// commonest distinctive title words when items have no category.
func segmentLabel(s *snapshot.Snapshot, counts map[uint32]float64) string {
	tally := map[string]float64{}
	for it, c := range counts {
		if cat := s.Items.Categories[it]; cat != "" {
			tally[cat] += c
		}
	}
	if len(tally) == 0 {
		for it, c := range counts {
			for _, w := range Tokens(s.Items.Titles[it]) {
				if len(w) > 3 {
					tally[w] += c
				}
			}
		}
	}
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := cmp.Compare(tally[b], tally[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	label := strings.Join(keys[:min(2, len(keys))], " · ")
	if len(label) > 200 {
		label = label[:200]
	}
	return strings.ToValidUTF8(label, "")
}
