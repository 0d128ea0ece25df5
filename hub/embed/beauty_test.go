package embed_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/coldstart"

	"github.com/aisle-rec/aisle/hub/embed"
	"github.com/aisle-rec/aisle/hub/eval"
)

// beautyDir finds Amazon Beauty: under $AISLE_DATA, or ../shared/data
// beside the repository root.
func beautyDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("AISLE_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(dir, "amazon_beauty_p5")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data %s not present (set AISLE_DATA to the shared data folder to run this test): %v", p, err)
	}
	return p
}

// TestBeautyColdStart prints the cold-start figures on Amazon Beauty (test
// split, 10 % of items held out, seed 1; about 6 s) and embeds every title
// through hugot and at the edge. Full run: embedder R@10 0.0673 /
// NDCG@10 0.0359 over all items, TF-IDF 0.0226, popularity 0.
func TestBeautyColdStart(t *testing.T) {
	dir := beautyDir(t)
	seq, err := eval.LoadSequences(filepath.Join(dir, "user_sequence.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := eval.LoadTitles(filepath.Join(dir, "items_asin_title.tsv"), seq); err != nil {
		t.Fatal(err)
	}
	opt := coldstart.DefaultOptions()
	start := time.Now()
	res, err := coldstart.Run(context.Background(), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("items %d, held out %d, embedder trained on %d (vocabulary %d), cases %d, %v",
		res.Items, res.HeldOut, res.TrainItems, res.Vocab, res.Cases, time.Since(start).Round(time.Millisecond))
	t.Logf("embedder: %d entries × %d dims, snapshot section %d bytes", res.Model.Len(), res.Model.Dims(), len(res.Model.Marshal()))
	t.Logf("build %v, train %v, eval %v", res.BuildTime.Round(time.Millisecond), res.TrainTime.Round(time.Millisecond), res.EvalTime.Round(time.Millisecond))
	t.Logf("all items:      embedder R@%d %.4f NDCG %.4f | TF-IDF %.4f %.4f | popularity %.4f %.4f",
		res.K, res.Embedder.Recall, res.Embedder.NDCG, res.Text.Recall, res.Text.NDCG, res.Popularity.Recall, res.Popularity.NDCG)
	t.Logf("held-out items: embedder R@%d %.4f NDCG %.4f | TF-IDF %.4f %.4f | popularity %.4f %.4f",
		res.K, res.EmbedderCold.Recall, res.EmbedderCold.NDCG, res.TextCold.Recall, res.TextCold.NDCG, res.PopularityCold.Recall, res.PopularityCold.NDCG)
	if res.Embedder.Recall < 0.06 || res.Embedder.Recall < 2*res.Text.Recall || res.Popularity.Recall != 0 {
		t.Errorf("embedder R@10 %.4f, want ≥ 0.06 and twice TF-IDF's %.4f; popularity %.4f, want 0",
			res.Embedder.Recall, res.Text.Recall, res.Popularity.Recall)
	}

	// Every Beauty title through hugot with the trained embedder, against
	// the edge's vector.
	for _, exp := range []embed.ExportOptions{{}, {Float32: true}} {
		dir := t.TempDir()
		if err := embed.ExportONNX(res.Model, dir, exp); err != nil {
			t.Fatal(err)
		}
		h, err := embed.OpenHugot(dir)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		vecs, err := h.Embed(context.Background(), seq.Titles)
		first := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if _, err := h.Embed(context.Background(), seq.Titles); err != nil {
			t.Fatal(err)
		}
		again := time.Since(start)
		h.Close()
		minCos, zeros := 1.0, 0
		for i, title := range seq.Titles {
			edge := res.Model.Embed(title, nil)
			if isZero(edge) || isZero(vecs[i]) {
				if isZero(edge) != isZero(vecs[i]) {
					t.Errorf("title %d %.60q: edge zero %v, hugot zero %v", i, title, isZero(edge), isZero(vecs[i]))
				}
				zeros++
				continue
			}
			minCos = min(minCos, cosine(edge, vecs[i]))
		}
		n := float64(len(seq.Titles))
		t.Logf("float32 %v: %d titles through hugot: first pass %v (%.0f titles/s, compiling), second %v (%.0f titles/s); min cosine vs edge %.9f, %d zero on both sides",
			exp.Float32, len(seq.Titles), first.Round(time.Millisecond), n/first.Seconds(), again.Round(time.Millisecond), n/again.Seconds(), minCos, zeros)
		if minCos < 0.999 {
			t.Errorf("min cosine %.6f < 0.999", minCos)
		}
	}
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
