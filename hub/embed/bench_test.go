package embed

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/shared/embed"
)

// benchTitles returns 4096 product titles: Amazon Beauty's when the data
// is present ($AISLE_DATA or ../shared/data), synthetic ones otherwise.
func benchTitles() []string {
	const n = 4096
	var titles []string
	dir := os.Getenv("AISLE_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	if f, err := os.Open(filepath.Join(dir, "amazon_beauty_p5", "items_asin_title.tsv")); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		sc.Scan() // header
		for sc.Scan() && len(titles) < n {
			if cols := strings.SplitN(sc.Text(), "\t", 3); len(cols) == 3 && cols[2] != "" {
				titles = append(titles, cols[2])
			}
		}
		f.Close()
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for len(titles) < n {
		titles = append(titles, syntheticTitle(rng, catalogWords))
	}
	return titles
}

var benchOnce = sync.OnceValues(func() (*embed.Embedder, []string) {
	titles := benchTitles()
	opt := DefaultStaticOptions()
	vocab := buildVocab(titles, opt)
	const dims = 128
	rng := rand.New(rand.NewPCG(1, 1))
	w := make([]float32, len(vocab)*dims)
	for i := 2 * dims; i < len(w); i++ {
		w[i] = float32(rng.NormFloat64())
	}
	e, err := embed.Quantize(vocab, dims, w, embed.DefaultMaxTokens)
	if err != nil {
		panic(err)
	}
	return e, titles
})

func benchHugot(b *testing.B, opt ExportOptions) {
	e, titles := benchOnce()
	dir := b.TempDir()
	if err := ExportONNX(e, dir, opt); err != nil {
		b.Fatal(err)
	}
	h, err := OpenHugotWith(dir, HugotOptions{BatchSize: 256})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	if _, err := h.Embed(ctx, titles); err != nil { // compile every batch shape
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Embed(ctx, titles); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(titles))/b.Elapsed().Seconds(), "titles/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHugotInt8 embeds titles through hugot's pure-Go backend with
// the exported int8 embedder (vocabulary of the titles, 128 dims).
func BenchmarkHugotInt8(b *testing.B) { benchHugot(b, ExportOptions{}) }

// BenchmarkHugotFloat32 does the same with the float32 export of the same
// table: the "teacher of the same shape".
func BenchmarkHugotFloat32(b *testing.B) { benchHugot(b, ExportOptions{Float32: true}) }

// BenchmarkEdgeEmbed embeds the same titles with shared/embed, as an edge
// embeds a query.
func BenchmarkEdgeEmbed(b *testing.B) {
	e, titles := benchOnce()
	dst := make([]float32, e.Dims())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, t := range titles {
			dst = e.Embed(t, dst)
		}
	}
	b.ReportMetric(float64(b.N*len(titles))/b.Elapsed().Seconds(), "titles/s")
	b.ReportMetric(0, "ns/op")
}
