package embed

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aisle-rec/aisle/shared/embed"
)

func TestTrainStaticRecoversPlantedMapping(t *testing.T) {
	const dims = 24
	docs, targets, planted := plantedCatalog(1500, dims, 1)
	opt := DefaultStaticOptions()
	opt.Lambda = 1e-3
	e, err := TrainStatic(context.Background(), docs, targets, dims, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Unseen titles: the learnt table must map them near their planted
	// targets.
	rng := rand.New(rand.NewPCG(99, 1))
	var sum, worst float64 = 0, 1
	const n = 300
	for range n {
		title := syntheticTitle(rng, catalogWords)
		c := cosine(e.Embed(title, nil), plantedTarget(title, planted, dims))
		sum += c
		worst = min(worst, c)
	}
	t.Logf("unseen titles: mean cosine %.4f, worst %.4f", sum/n, worst)
	if sum/n < 0.98 || worst < 0.9 {
		t.Fatalf("planted mapping not recovered: mean cosine %.4f, worst %.4f", sum/n, worst)
	}
}

func TestTrainStaticDeterministic(t *testing.T) {
	docs, targets, _ := plantedCatalog(400, 8, 3)
	opt := DefaultStaticOptions()
	opt.Suffixes = true
	var got [][]byte
	for _, workers := range []int{1, 3, 0} {
		opt.Workers = workers
		e, err := TrainStatic(context.Background(), docs, targets, 8, opt)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Marshal())
	}
	for i := 1; i < len(got); i++ {
		if !bytes.Equal(got[0], got[i]) {
			t.Fatalf("run %d differs from run 0", i)
		}
	}
}

func TestTrainStaticRejects(t *testing.T) {
	good := func() ([]Doc, [][]float32) {
		return []Doc{{ID: "a", Text: "red lipstick"}, {ID: "b", Text: "red lipstick"}}, [][]float32{{1, 0}, {0, 1}}
	}
	nan := float32(0)
	nan /= nan
	tests := []struct {
		name   string
		change func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions)
		want   error
	}{
		{"count mismatch", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			return d[:1], y, 2, DefaultStaticOptions()
		}, nil},
		{"target length", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			y[1] = []float32{1}
			return d, y, 2, DefaultStaticOptions()
		}, nil},
		{"NaN target", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			y[0][0] = nan
			return d, y, 2, DefaultStaticOptions()
		}, nil},
		{"negative weight", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			d[0].Weight = -1
			return d, y, 2, DefaultStaticOptions()
		}, nil},
		{"dims 0", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			return d, y, 0, DefaultStaticOptions()
		}, nil},
		{"bad lambda", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			o := DefaultStaticOptions()
			o.Lambda = 0
			return d, y, 2, o
		}, nil},
		{"no text", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			d[0].Text, d[1].Text = "!!", ""
			return d, y, 2, DefaultStaticOptions()
		}, ErrNoTrainingData},
		{"no targets", func(d []Doc, y [][]float32) ([]Doc, [][]float32, int, StaticOptions) {
			return d, [][]float32{{0, 0}, {0, 0}}, 2, DefaultStaticOptions()
		}, ErrNoTrainingData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, y := good()
			d, y, dims, opt := tc.change(d, y)
			_, err := TrainStatic(context.Background(), d, y, dims, opt)
			if err == nil {
				t.Fatal("TrainStatic accepted invalid input")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	d, y := good()
	if _, err := TrainStatic(context.Background(), d, y, 2, DefaultStaticOptions()); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := TrainStatic(ctx, d, y, 2, DefaultStaticOptions()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error %v", err)
	}
}

func TestBuildVocab(t *testing.T) {
	texts := []string{
		"Red Lipstick, matte", "red lipsticks", "lipstick glosses", "lipstick balms",
		"gloss", "balm!", "gloss balm", "glossy red", "x",
	}
	opt := DefaultStaticOptions()
	opt.Suffixes = true
	got := buildVocab(texts, opt)
	// Words of ≥ 2 texts by falling frequency (ties alphabetical), no lone
	// punctuation; then the suffixes rare words leave after a known prefix
	// in ≥ 2 texts: "lipstick|s" and "balm|s" ("gloss|es", "gloss|y" once).
	want := []string{embed.PadToken, embed.UnkToken, "lipstick", "red", "balm", "gloss", "##s"}
	if !slices.Equal(got, want) {
		t.Fatalf("vocabulary %q, want %q", got, want)
	}
	e, err := embed.New(got, 1, make([]int8, len(got)), make([]float32, len(got)), 8)
	if err != nil {
		t.Fatal(err)
	}
	var toks []string
	for _, id := range e.Tokenize("Lipsticks glossy balms", nil) {
		toks = append(toks, e.Token(int(id)))
	}
	if w := []string{"lipstick", "##s", embed.UnkToken, "balm", "##s"}; !slices.Equal(toks, w) {
		t.Fatalf("tokens %q, want %q", toks, w)
	}
}
