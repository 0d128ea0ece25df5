package train

import (
	"cmp"
	"math"
	"slices"

	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// popularity returns each item's engagement (its prior plus the event-type
// weighted count of its events) and its trending score, the same with each
// event decayed by age relative to now.
func popularity(items []Item, sessions [][]Interaction, now, halfLife int64) (pop, trend []float64) {
	n := len(items)
	pop = make([]float64, n)
	trend = make([]float64, n)
	for i, it := range items {
		if p := it.Popularity; p > 0 && !math.IsInf(p, 0) {
			pop[i], trend[i] = p, p
		}
	}
	for _, s := range sessions {
		for _, e := range s {
			w := typeWeight(e.Type)
			pop[e.Item] += w
			if halfLife > 0 && e.Time > 0 && now > e.Time {
				w *= math.Exp2(-float64(now-e.Time) / float64(halfLife))
			}
			trend[e.Item] += w
		}
	}
	return pop, trend
}

// topItems returns up to k items with positive score, highest first, ties
// broken by item number.
func topItems(score []float64, k int) ([]uint32, []float32) {
	idx := make([]uint32, 0, len(score))
	for i, v := range score {
		if v > 0 {
			idx = append(idx, uint32(i))
		}
	}
	slices.SortFunc(idx, func(a, b uint32) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	idx = idx[:min(k, len(idx))]
	sc := make([]float32, len(idx))
	for i, it := range idx {
		sc[i] = float32(score[it])
	}
	return idx, sc
}

// pair is one weighted directed item pair.
type pair struct {
	a, b uint32
	w    float64
}

// coVisit builds the co-visitation graph: for every two events of a session
// at most cfg.Window apart, the later item is a neighbour of the earlier one
// with weight 1/d^DistancePow, and the earlier of the later one with that
// weight times Backward. Each row is normalised by the engagement of its
// source and target items and cut to the strongest cfg.Neighbors.
func coVisit(cfg Config, sessions [][]Interaction, n int, pop []float64) snapshot.Graph {
	var pairs []pair
	for _, s := range sessions {
		for i := range s {
			wi := typeWeight(s[i].Type)
			for d := 1; d <= cfg.Window && i+d < len(s); d++ {
				j := i + d
				a, b := uint32(s[i].Item), uint32(s[j].Item)
				if a == b || wi == 0 {
					continue
				}
				wj := typeWeight(s[j].Type)
				if wj == 0 {
					continue
				}
				w := math.Sqrt(wi*wj) / math.Pow(float64(d), cfg.DistancePow)
				pairs = append(pairs, pair{a, b, w})
				if cfg.Backward > 0 {
					pairs = append(pairs, pair{b, a, w * cfg.Backward})
				}
			}
		}
	}
	return reduce(pairs, n, cfg.Neighbors, func(a, b uint32, w float64) float64 {
		return w / (math.Pow(pop[a], cfg.SourcePow) * math.Pow(pop[b], cfg.TargetPow))
	})
}

// boughtTogether links items purchased in the same session, each session
// counting once per pair, normalised like a cosine.
func boughtTogether(cfg Config, sessions [][]Interaction, n int) snapshot.Graph {
	var pairs []pair
	cnt := make([]float64, n)
	var bought []uint32
	for _, s := range sessions {
		bought = bought[:0]
		for _, e := range s {
			if e.Type == wire.Purchase {
				bought = append(bought, uint32(e.Item))
			}
		}
		slices.Sort(bought)
		bought = slices.Compact(bought)
		if len(bought) > 50 {
			// A very long purchase history says little about any one pair
			// and would cost quadratic work.
			bought = bought[len(bought)-50:]
		}
		for _, a := range bought {
			cnt[a]++
		}
		for i, a := range bought {
			for _, b := range bought[i+1:] {
				pairs = append(pairs, pair{a, b, 1}, pair{b, a, 1})
			}
		}
	}
	return reduce(pairs, n, cfg.Neighbors, func(a, b uint32, w float64) float64 {
		return w / math.Sqrt(cnt[a]*cnt[b])
	})
}

// reduce sums duplicate pairs, applies norm, and keeps each row's top k by
// weight (ties by item number) in compressed-row form.
func reduce(pairs []pair, n, k int, norm func(a, b uint32, w float64) float64) snapshot.Graph {
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	g := snapshot.Graph{Offsets: make([]uint32, n+1)}
	var row []pair
	flush := func() {
		if len(row) == 0 {
			return
		}
		for i := range row {
			row[i].w = norm(row[i].a, row[i].b, row[i].w)
		}
		slices.SortFunc(row, func(x, y pair) int {
			if c := cmp.Compare(y.w, x.w); c != 0 {
				return c
			}
			return cmp.Compare(x.b, y.b)
		})
		for _, p := range row[:min(k, len(row))] {
			if p.w > 0 && !math.IsInf(p.w, 0) && !math.IsNaN(p.w) {
				g.Nbr = append(g.Nbr, p.b)
				g.Weight = append(g.Weight, float32(p.w))
			}
		}
		row = row[:0]
	}
	a := uint32(0)
	for i := 0; i < len(pairs); {
		p := pairs[i]
		for ; a < p.a; a++ {
			flush()
			g.Offsets[a+1] = uint32(len(g.Nbr))
		}
		w := 0.0
		for ; i < len(pairs) && pairs[i].a == p.a && pairs[i].b == p.b; i++ {
			w += pairs[i].w
		}
		row = append(row, pair{p.a, p.b, w})
	}
	for ; int(a) < n; a++ {
		flush()
		g.Offsets[a+1] = uint32(len(g.Nbr))
	}
	return g
}
