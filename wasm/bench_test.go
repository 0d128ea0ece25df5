package wasm

import (
	"context"
	"runtime"
	"testing"

	"github.com/aisle-rec/aisle/shared/wire"
)

// benchRequest is a typical product-page for_you request: a short session
// with a view, a click and a cart add, and a price filter.
func benchRequest(f *fixture) *wire.RecommendRequest {
	item := func(i int) string { return f.snap.Items.IDs[i] }
	return &wire.RecommendRequest{Placement: wire.ForYou, K: 10, Now: t0, Events: []wire.Event{
		ev(wire.View, item(0), 9), ev(wire.View, item(150), 6), ev(wire.Click, item(151), 4),
		ev(wire.AddToCart, item(151), 3), ev(wire.View, item(300), 1)},
		Filters: wire.Filters{PriceMax: 200}}
}

// BenchmarkRankNative is the ranking core alone, reusing the response.
func BenchmarkRankNative(b *testing.B) {
	f := synth(b, goldenSnapshotArgs)
	req := benchRequest(f)
	var resp wire.RecommendResponse
	b.ReportAllocs()
	for b.Loop() {
		if err := f.index.Rank(req, &resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRankNativeMsgpack is the same work the guest does per call:
// decode the msgpack request, rank, encode the msgpack response.
func BenchmarkRankNativeMsgpack(b *testing.B) {
	f := synth(b, goldenSnapshotArgs)
	in := marshalRequest(b, benchRequest(f))
	var resp wire.RecommendResponse
	b.ReportAllocs()
	for b.Loop() {
		req, err := wire.UnmarshalRequest(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.index.Rank(req, &resp); err != nil {
			b.Fatal(err)
		}
		if _, err := wire.MarshalResponse(&resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRankWasm is RankMsgpack on one instance: the same request and
// snapshot through the wazero-hosted module, msgpack in and out, with the
// default (interruptible) configuration.
func BenchmarkRankWasm(b *testing.B) {
	benchWasm(b, DefaultConfig(), 1)
}

// BenchmarkRankWasmNoInterrupt is BenchmarkRankWasm without
// Config.Interruptible.
func BenchmarkRankWasmNoInterrupt(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Interruptible = false
	benchWasm(b, cfg, 1)
}

// BenchmarkRankWasmParallel ranks from GOMAXPROCS goroutines on the
// default pool.
func BenchmarkRankWasmParallel(b *testing.B) {
	benchWasm(b, DefaultConfig(), runtime.GOMAXPROCS(0))
}

func benchWasm(b *testing.B, cfg Config, parallel int) {
	f := synth(b, goldenSnapshotArgs)
	cfg.CacheDir = cacheDir
	ctx := context.Background()
	r, err := New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(ctx)
	if err := r.Load(ctx, f.bytes); err != nil {
		b.Fatal(err)
	}
	in := marshalRequest(b, benchRequest(f))
	b.ReportAllocs()
	if parallel == 1 {
		for b.Loop() {
			if _, err := r.RankMsgpack(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.RankMsgpack(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
