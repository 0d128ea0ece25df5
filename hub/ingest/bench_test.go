package ingest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/web"
)

// dataDir finds a shared real dataset: $AISLE_DATA, or ../shared/data
// beside the repository root; it skips when absent.
func dataDir(tb testing.TB, rel string) string {
	tb.Helper()
	dir := os.Getenv("AISLE_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("real data %s not present (set AISLE_DATA): %v", p, err)
	}
	return p
}

// benchIngest parses data as kind and writes it into a fresh store, once
// per iteration, reporting rows/s for the whole (parse + write).
func benchIngest(b *testing.B, kind Kind, name string, data []byte, opts Options) {
	ctx := context.Background()
	rows := 0
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateShop(ctx, "a", ""); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		batch, err := Parse(kind, []Source{BytesSource(name, data)}, opts)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Write(ctx, st, "a", batch, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rows += res.Changed
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkIngestDemoCatalog(b *testing.B) {
	data, err := io.ReadAll(web.DemoCatalog())
	if err != nil {
		b.Fatal(err)
	}
	benchIngest(b, Catalog, "catalog.jsonl", data, Options{})
}

func BenchmarkIngestDemoReviews(b *testing.B) {
	data, err := io.ReadAll(web.DemoReviews())
	if err != nil {
		b.Fatal(err)
	}
	benchIngest(b, Reviews, "reviews.jsonl", data, Options{})
}

// BenchmarkIngestBeautyEvents ingests Amazon Beauty's 198,502
// interactions (22,363 users) as events.
func BenchmarkIngestBeautyEvents(b *testing.B) {
	data, err := os.ReadFile(dataDir(b, "amazon_beauty_p5/user_sequence.txt"))
	if err != nil {
		b.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n < 20000 {
		b.Fatalf("%d lines", n)
	}
	benchIngest(b, Events, "user_sequence.txt", data, Options{})
}
