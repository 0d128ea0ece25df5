package coldstart_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aisle-rec/aisle/hub/coldstart"

	"github.com/aisle-rec/aisle/hub/eval"
)

// syntheticShop has items in categories whose titles share the category's
// words, and users who buy within one category, popular items more often.
func syntheticShop(seed uint64) *eval.Sequences {
	rng := rand.New(rand.NewPCG(seed, 3))
	cats := [][]string{
		{"lipstick", "matte", "lip"}, {"shampoo", "hair", "argan"}, {"mascara", "lash", "volume"},
		{"nail", "polish", "coat"}, {"serum", "vitamin", "face"}, {"perfume", "eau", "parfum"},
	}
	filler := []string{"new", "best", "travel", "mini", "pack", "set", "deluxe", "classic"}
	s := &eval.Sequences{}
	const perCat = 30
	for c, words := range cats {
		for i := range perCat {
			s.Items = append(s.Items, fmt.Sprintf("c%di%d", c, i))
			s.Titles = append(s.Titles, fmt.Sprintf("%s %s %s %s %d",
				words[rng.IntN(3)], words[rng.IntN(3)], filler[rng.IntN(len(filler))], words[rng.IntN(3)], i))
		}
	}
	for u := range 900 {
		c := rng.IntN(len(cats))
		var seq []int32
		for range 4 + rng.IntN(5) {
			i := int(float64(perCat) * rng.Float64() * rng.Float64()) // skewed popularity
			seq = append(seq, int32(c*perCat+i))
		}
		s.Users = append(s.Users, fmt.Sprint("u", u))
		s.Seqs = append(s.Seqs, seq)
	}
	return s
}

func TestColdStartSynthetic(t *testing.T) {
	opt := coldstart.DefaultOptions()
	opt.Train.Dims = 16
	opt.HoldOut = 0.2
	res, err := coldstart.Run(context.Background(), syntheticShop(1), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Items != 180 || res.HeldOut != 36 || res.Cases == 0 || res.TrainItems == 0 || res.K != 10 {
		t.Fatalf("counts: %+v", res)
	}
	if res.Popularity.Recall != 0 {
		t.Errorf("popularity ranked an item without behaviour: %+v", res.Popularity)
	}
	if res.Embedder.Recall <= res.Popularity.Recall+0.05 || res.EmbedderCold.Recall <= res.PopularityCold.Recall {
		t.Errorf("embedder %+v / %+v not above popularity %+v / %+v", res.Embedder, res.EmbedderCold, res.Popularity, res.PopularityCold)
	}
	// Deterministic.
	again, err := coldstart.Run(context.Background(), syntheticShop(1), opt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Embedder != res.Embedder || again.Text != res.Text || again.EmbedderCold != res.EmbedderCold {
		t.Errorf("second run differs: %+v vs %+v", again, res)
	}
}

func TestColdStartRejects(t *testing.T) {
	shop := syntheticShop(2)
	for _, tc := range []struct {
		name   string
		change func(*coldstart.Options, *eval.Sequences)
	}{
		{"hold out nothing", func(o *coldstart.Options, _ *eval.Sequences) { o.HoldOut = 0 }},
		{"hold out everything", func(o *coldstart.Options, _ *eval.Sequences) { o.HoldOut = 1 }},
		{"cutoff 0", func(o *coldstart.Options, _ *eval.Sequences) { o.K = 0 }},
		{"bad split", func(o *coldstart.Options, _ *eval.Sequences) { o.Split = "train" }},
		{"no titles", func(_ *coldstart.Options, s *eval.Sequences) { s.Titles = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := coldstart.DefaultOptions()
			opt.Train.Dims = 8
			s := *shop
			tc.change(&opt, &s)
			if _, err := coldstart.Run(context.Background(), &s, opt); err == nil {
				t.Fatal("ColdStart accepted invalid input")
			}
		})
	}
}
