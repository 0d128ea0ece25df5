package embed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/shared/embed"
)

// catalogWords are the words synthetic titles are made of: plain, accented,
// CJK, emoji and digits, so the tokenizer's rules all occur in training.
var catalogWords = strings.Fields(`
	lipstick lip gloss balm matte shine mascara lash volume eyeliner brow pencil
	serum cream crème sérum moisturizer lotion cleanser toner mask sheet clay
	shampoo conditioner hair oil argan jojoba coconut shea butter vitamin
	nail polish coat gel remover perfume eau parfum toilette spray mist
	brush sponge blender palette shadow blush bronzer highlighter powder foundation
	red pink nude coral rose gold silver black brown blue green violet
	revlon maybelline loreal nyx olay neutrogena cerave garnier dove nivea
	中文 日本 한국 💄 ✨ 16 8 50ml 100ml 2 3 4 pack set kit travel mini
`)

// syntheticTitle returns a product-like title of 3–9 words with
// punctuation and mixed case.
func syntheticTitle(rng *rand.Rand, words []string) string {
	n := 3 + rng.IntN(7)
	var b strings.Builder
	for i := range n {
		w := words[rng.IntN(len(words))]
		if rng.IntN(4) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		if i > 0 {
			b.WriteString([]string{" ", " ", " ", ", ", " - ", " & ", " ("}[rng.IntN(7)])
		}
		b.WriteString(w)
	}
	if rng.IntN(3) == 0 {
		fmt.Fprintf(&b, " (Pack of %d)", 1+rng.IntN(6))
	}
	return b.String()
}

// plantedCatalog returns docs whose targets are the normalised mean of
// planted per-word vectors: a linear mapping TrainStatic should recover.
func plantedCatalog(n, dims int, seed uint64) ([]Doc, [][]float32, map[string][]float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	planted := map[string][]float64{}
	for _, w := range catalogWords {
		for _, tok := range embed.Words(w, nil) {
			if planted[tok] == nil {
				v := make([]float64, dims)
				for j := range v {
					v[j] = rng.NormFloat64()
				}
				planted[tok] = v
			}
		}
	}
	docs := make([]Doc, n)
	targets := make([][]float32, n)
	for i := range docs {
		title := syntheticTitle(rng, catalogWords)
		docs[i] = Doc{ID: fmt.Sprint(i), Text: title}
		targets[i] = plantedTarget(title, planted, dims)
	}
	return docs, targets, planted
}

// plantedTarget is the normalised mean of the planted vectors of the known
// words of text (punctuation has none).
func plantedTarget(text string, planted map[string][]float64, dims int) []float32 {
	sum := make([]float64, dims)
	for _, w := range embed.Words(text, nil) {
		for j, x := range planted[w] {
			sum[j] += x
		}
	}
	var ss float64
	for _, x := range sum {
		ss += x * x
	}
	out := make([]float32, dims)
	if ss > 0 {
		for j, x := range sum {
			out[j] = float32(x / math.Sqrt(ss))
		}
	}
	return out
}

// trainedEmbedder trains a small embedder on the planted catalog.
func trainedEmbedder(t testing.TB, maxTokens int) *embed.Embedder {
	t.Helper()
	docs, targets, _ := plantedCatalog(1500, 24, 1)
	opt := DefaultStaticOptions()
	opt.Lambda = 1e-3
	opt.MaxTokens = maxTokens
	opt.Suffixes = true
	e, err := TrainStatic(context.Background(), docs, targets, 24, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
