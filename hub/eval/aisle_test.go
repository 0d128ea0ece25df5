package eval

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// TestAisleOnBeauty holds Aisle to its published claim on the full Amazon
// Beauty test split: Recall@10 ≥ 0.090 and NDCG@10 ≥ 0.060, above every
// baseline computed in the same run.
func TestAisleOnBeauty(t *testing.T) {
	if testing.Short() {
		t.Skip("full Beauty evaluation (about 20 s) skipped in -short mode")
	}
	seq, err := LoadSequences(dataDir(t, "amazon_beauty_p5/user_sequence.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadTitles(dataDir(t, "amazon_beauty_p5/items_asin_title.tsv"), seq); err != nil {
		t.Fatal(err)
	}
	train, cases, err := seq.Split("test")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), train, append([]Recommender{NewAisle()}, Baselines()...), cases, true, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Map()
	t.Logf("Aisle R@10 %.4f N@10 %.4f", a["recall@10"], a["ndcg@10"])
	if a["recall@10"] < 0.090 || a["ndcg@10"] < 0.060 {
		t.Errorf("Aisle R@10 %.4f N@10 %.4f, want ≥ 0.090 / 0.060", a["recall@10"], a["ndcg@10"])
	}
	for _, b := range res[1:] {
		m := b.Map()
		if m["recall@10"] >= a["recall@10"] || m["ndcg@10"] >= a["ndcg@10"] {
			t.Errorf("%s R@10 %.4f N@10 %.4f is not below Aisle", b.System, m["recall@10"], m["ndcg@10"])
		}
	}
}

// TestAisleOnDiginetica: HR@20 and MRR@20 above every session baseline,
// including one that recommends the session's own items first.
func TestAisleOnDiginetica(t *testing.T) {
	sp, err := LoadDiginetica(dataDir(t, "diginetica_sample/sample_train-item-views.csv"), 5)
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := SessionCases(sp.Train, sp.Test)
	res, err := Run(context.Background(), sp.Train, append([]Recommender{NewAisle()}, SessionBaselines()...), cases, false, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Map()
	for _, b := range res[1:] {
		m := b.Map()
		if m["hr@20"] >= a["hr@20"] || m["mrr@20"] >= a["mrr@20"] {
			t.Errorf("%s HR@20 %.4f MRR@20 %.4f is not below Aisle's %.4f / %.4f", b.System, m["hr@20"], m["mrr@20"], a["hr@20"], a["mrr@20"])
		}
	}
}

// BenchmarkRankBeauty ranks real Beauty test histories on the snapshot
// built from the training split, through the decoded snapshot and the core
// (no JSON), and reports p50 and p99 per request.
func BenchmarkRankBeauty(b *testing.B) {
	seq, err := LoadSequences(dataDir(b, "amazon_beauty_p5/user_sequence.txt"))
	if err != nil {
		b.Fatal(err)
	}
	if err := LoadTitles(dataDir(b, "amazon_beauty_p5/items_asin_title.tsv"), seq); err != nil {
		b.Fatal(err)
	}
	train, cases, err := seq.Split("test")
	if err != nil {
		b.Fatal(err)
	}
	a := NewAisle()
	if err := a.Fit(train); err != nil {
		b.Fatal(err)
	}
	reqs := make([]wire.RecommendRequest, 0, 1024)
	for _, c := range cases[:min(len(cases), 1024)] {
		r := wire.RecommendRequest{Placement: wire.ForYou, K: 10}
		for _, it := range c.History[max(0, len(c.History)-wire.MaxEvents):] {
			r.Events = append(r.Events, wire.Event{Type: wire.Purchase, Item: train.Items[it]})
		}
		reqs = append(reqs, r)
	}
	var resp wire.RecommendResponse
	for i := range reqs {
		_ = a.idx.Rank(&reqs[i], &resp)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := a.idx.Rank(&reqs[i%len(reqs)], &resp); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[min(len(lat)-1, int(math.Ceil(float64(len(lat))*0.99)))].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(a.SnapshotBytes)/float64(a.Items), "snapshot-bytes/item")
}
