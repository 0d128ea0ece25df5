package rank

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// sessions draws n realistic sessions: a few views that walk the
// co-visitation graph, sometimes a cart add, as a visitor browses.
func sessions(s *snapshot.Snapshot, n int, seed uint64) []wire.RecommendRequest {
	r := rand.New(rand.NewPCG(seed, 7))
	reqs := make([]wire.RecommendRequest, n)
	for i := range reqs {
		it := uint32(r.IntN(s.Len()))
		var ev []wire.Event
		for j := range 2 + r.IntN(12) {
			typ := wire.View
			if r.IntN(8) == 0 {
				typ = wire.AddToCart
			}
			ev = append(ev, wire.Event{Type: typ, Item: s.Items.IDs[it], Time: int64(1000 * j)})
			if nb, _ := s.CoVisit.Row(it); len(nb) > 0 && r.IntN(4) != 0 {
				it = nb[r.IntN(len(nb))]
			} else {
				it = uint32(r.IntN(s.Len()))
			}
		}
		reqs[i] = wire.RecommendRequest{Placement: wire.ForYou, Events: ev, K: 10}
	}
	return reqs
}

// BenchRank ranks reqs round robin and reports per-request p50 and p99
// besides ns/op and allocs/op.
func benchRank(b *testing.B, x *Index, reqs []wire.RecommendRequest) {
	var resp wire.RecommendResponse
	for i := range reqs {
		_ = x.Rank(&reqs[i], &resp) // warm the pool
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := x.Rank(&reqs[i%len(reqs)], &resp); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[min(len(lat)-1, int(math.Ceil(float64(len(lat))*0.99)))].Nanoseconds()), "p99-ns")
}

// BenchmarkRankSynthetic100k ranks for_you requests on a 100,000-item,
// 128-dimension snapshot with 20 neighbours per item. Compare it with
// BenchmarkScanSynthetic100k, the brute-force baseline on the same data.
func BenchmarkRankSynthetic100k(b *testing.B) {
	s := snapshot.Synthetic(100_000, 128, 20, 128, 1)
	x, err := New(s, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	benchRank(b, x, sessions(s, 512, 1))
}

// BenchmarkRankSynthetic12k is the synthetic twin of the Amazon Beauty
// snapshot (12,101 items).
func BenchmarkRankSynthetic12k(b *testing.B) {
	s := snapshot.Synthetic(12_101, 128, 20, 55, 1)
	x, err := New(s, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	benchRank(b, x, sessions(s, 512, 1))
}

// BenchmarkScanSynthetic100k is the baseline: score every item by cosine
// with the session profile and keep the top 10 — what a ranker without
// candidate generation costs.
func BenchmarkScanSynthetic100k(b *testing.B) {
	s := snapshot.Synthetic(100_000, 128, 20, 128, 1)
	x, err := New(s, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	reqs := sessions(s, 512, 1)
	sc := newScratch(x.n, x.dims)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc.reset()
		x.session(&reqs[i%len(reqs)], sc)
		h := sc.heap[:0]
		ps := quantizeInto(sc.qprofile, sc.profile)
		for it := range uint32(x.n) {
			h = pushTop(h, 10, cand{it, x.cosine(sc.qprofile, ps, it)})
		}
		sc.heap = h
	}
}
