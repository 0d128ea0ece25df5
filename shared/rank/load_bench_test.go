package rank

import (
	"runtime"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// load100k is a deflated 100,000-item snapshot with 128 dims and 20
// co-visitation neighbours per item, the size issue 4's edge targets are
// set for.
var load100k = sync.OnceValue(func() []byte {
	s := snapshot.Synthetic(100_000, 128, 20, 128, 1)
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{Compress: true})
	if err != nil {
		panic(err)
	}
	return b
})

// BenchmarkLoad100k decodes the 100,000-item snapshot and builds its index,
// what an edge does on a cold start. Besides time it reports memory as
// ratios to the encoded snapshot's size: alloc/raw, everything allocated
// (in a Wasm isolate the collector barely runs during a load, so this is
// close to what the load adds to Wasm memory, which never shrinks), and
// live/raw, what the index keeps. "compact" decodes graph weights as codes,
// as edges do.
func BenchmarkLoad100k(b *testing.B) {
	for _, compact := range []bool{false, true} {
		name := "float"
		if compact {
			name = "compact"
		}
		b.Run(name, func(b *testing.B) { benchLoad(b, snapshot.DecodeOptions{CompactWeights: compact}) })
	}
}

func benchLoad(b *testing.B, opt snapshot.DecodeOptions) {
	enc := load100k()
	load := func() *Index {
		s, err := snapshot.DecodeWith(enc, opt)
		if err != nil {
			b.Fatal(err)
		}
		x, err := New(s, DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		return x
	}
	var before, after, kept runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := load()
	runtime.ReadMemStats(&after)
	runtime.GC()
	runtime.ReadMemStats(&kept)
	runtime.KeepAlive(x)
	x = nil
	raw := float64(len(enc))

	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		load()
	}
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/raw, "alloc/raw")
	b.ReportMetric(float64(kept.HeapAlloc-before.HeapAlloc)/raw, "live/raw")
}
