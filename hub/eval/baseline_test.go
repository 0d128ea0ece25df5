package eval

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func items(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('A' + i))
	}
	return out
}

func TestBaselinesOnTinyData(t *testing.T) {
	// Popularity: 1 (3 events) > 0, 2 (1 each, 0 first by number) > 3 (none).
	popData := &Data{Items: items(4), Sessions: [][]int32{{0, 1}, {1, 2}, {1}}}
	// Transitions from 0: 1 twice, 2 once. Popularity: 0 > 1 = 2 > 3.
	transData := &Data{Items: items(4), Sessions: [][]int32{{0, 1}, {0, 1}, {0, 2}, {2, 3}}}
	// Co-visitation (forward 1, backward .5 at distance 1), n_0 = 3, n_1 =
	// 2, others 1: sim(0→1) = (1+.5)/sqrt(3*2) = .612, sim(0→2) =
	// 1/sqrt(3) = .577, sim(1→0) = .612, sim(2→0) = .5/sqrt(3) = .289,
	// sim(3→4) = 1, sim(4→3) = .5.
	knnData := &Data{Items: items(6), Sessions: [][]int32{{0, 1}, {1, 0}, {0, 2}, {3, 4}}}
	// Direction: 3 follows 1 (weight 1), 2 precedes it (weight .5); a plain
	// co-occurrence cosine would tie them and rank 2 first by number. 0, the
	// most popular, never meets 1.
	dirData := &Data{Items: items(4), Sessions: [][]int32{{2, 1, 3}, {0}, {0}}}
	// Distance: after 0 come 3, 2, 1 at distances 1, 2, 3; a plain cosine
	// would tie them and rank 1 first by number.
	distData := &Data{Items: items(4), Sessions: [][]int32{{0, 3, 2, 1}}}
	noBackward := NewRecencyKNN(0.5, 100)
	noBackward.Backward = 0
	flat := NewRecencyKNN(0.5, 100)
	flat.DistExp = 0
	tests := []struct {
		name    string
		rec     Recommender
		data    *Data
		history []int32
		k       int
		exclude bool
		want    []int32
	}{
		{"popularity", &Popularity{}, popData, []int32{0}, 3, false, []int32{1, 0, 2}},
		{"popularity excluding seen", &Popularity{}, popData, []int32{0}, 3, true, []int32{1, 2, 3}},
		{"popularity empty history", &Popularity{}, popData, nil, 10, true, []int32{1, 0, 2, 3}},
		{"transition", &LastItemTransition{}, transData, []int32{3, 0}, 3, false, []int32{1, 2, 0}},
		{"transition runs out of items", &LastItemTransition{}, transData, []int32{3, 0}, 3, true, []int32{1, 2}},
		{"transition unknown last item falls back", &LastItemTransition{}, transData, []int32{0, 3}, 2, true, []int32{1, 2}},
		{"transition empty history", &LastItemTransition{}, transData, nil, 2, false, []int32{0, 1}},
		{"knn last item", NewRecencyKNN(0.5, 100), knnData, []int32{0}, 3, true, []int32{1, 2, 3}},
		{"knn recency: old item weighs less", NewRecencyKNN(0.5, 100), knnData, []int32{3, 0}, 4, true, []int32{1, 2, 4, 5}},
		{"knn recency: slow decay", NewRecencyKNN(0.9, 100), knnData, []int32{3, 0}, 3, true, []int32{4, 1, 2}},
		{"knn keeps top neighbours only", NewRecencyKNN(0.5, 1), knnData, []int32{3, 0}, 3, true, []int32{1, 4, 2}},
		{"knn without exclusion fills with seen items", NewRecencyKNN(0.5, 100), knnData, []int32{1}, 2, false, []int32{0, 1}},
		{"knn backward pairs count less", NewRecencyKNN(0.5, 100), knnData, []int32{2}, 2, true, []int32{0, 1}},
		{"knn direction: follower before predecessor", NewRecencyKNN(0.5, 100), dirData, []int32{1}, 3, true, []int32{3, 2, 0}},
		{"knn without backward credit", noBackward, dirData, []int32{1}, 3, true, []int32{3, 0, 2}},
		{"knn distance: nearer follower first", NewRecencyKNN(0.5, 100), distData, []int32{0}, 3, true, []int32{3, 2, 1}},
		{"knn distance exponent 0 ties by popularity", flat, distData, []int32{0}, 3, true, []int32{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rec.Fit(tc.data); err != nil {
				t.Fatal(err)
			}
			prefix := []int32{42}
			got := tc.rec.Recommend(tc.history, nil, tc.k, tc.exclude, prefix)
			if !reflect.DeepEqual(got[1:], tc.want) || got[0] != 42 {
				t.Fatalf("got %v, want [42] + %v", got, tc.want)
			}
		})
	}
}

func TestBaselinesRejectBadItems(t *testing.T) {
	d := &Data{Items: items(2), Sessions: [][]int32{{0, 2}}}
	for _, rec := range Baselines() {
		if err := rec.Fit(d); err == nil {
			t.Errorf("%s accepted item 2 of 2", rec.Name())
		}
	}
	bad := map[string]func(r *RecencyKNN){
		"decay 0":          func(r *RecencyKNN) { r.Decay = 0 },
		"decay 1.5":        func(r *RecencyKNN) { r.Decay = 1.5 },
		"neighbours 0":     func(r *RecencyKNN) { r.Neighbours = 0 },
		"backward -0.1":    func(r *RecencyKNN) { r.Backward = -0.1 },
		"backward NaN":     func(r *RecencyKNN) { r.Backward = math.NaN() },
		"backward +Inf":    func(r *RecencyKNN) { r.Backward = math.Inf(1) },
		"distance exp -1":  func(r *RecencyKNN) { r.DistExp = -1 },
		"distance exp NaN": func(r *RecencyKNN) { r.DistExp = math.NaN() },
		"window 0":         func(r *RecencyKNN) { r.Window = 0 },
	}
	for name, set := range bad {
		r := NewRecencyKNN(0.7, 10)
		set(r)
		if err := r.Fit(&Data{}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestRecencyKNNDefaultsAndName(t *testing.T) {
	r := NewRecencyKNN(0.7, 100)
	if r.Backward != 0.5 || r.DistExp != 1 || r.Window != 50 || r.Neighbours != 100 {
		t.Errorf("defaults %+v", r)
	}
	if got := r.Name(); got != "RecencyKNN(decay=0.7)" {
		t.Errorf("default name %q", got)
	}
	r.Backward = 0.25
	if got := r.Name(); got != "RecencyKNN(decay=0.7,backward=0.25,exp=1,window=50)" {
		t.Errorf("name with backward 0.25: %q", got)
	}
}

// TestRecencyKNNLongSession fits one very long session: with the pair
// window capped the work is O(len × Window), not O(len²) (50 000 events
// would be over a billion pairs).
func TestRecencyKNNLongSession(t *testing.T) {
	const n, l = 500, 50000
	s := make([]int32, l)
	for i := range s {
		s[i] = int32(i * 7919 % n)
	}
	r := NewRecencyKNN(0.7, 20)
	if err := r.Fit(&Data{Items: items(n), Sessions: [][]int32{s}}); err != nil {
		t.Fatal(err)
	}
	if got := r.start[n]; got != n*20 {
		t.Errorf("%d neighbours kept, want %d", got, n*20)
	}
}

// TestKNNSimilarityBruteForce checks the fitted neighbour tables against a
// direct computation of the directional co-visitation similarity from its
// definition, with the default weighting and with another one, on data
// holding repeats and sessions longer than the window.
func TestKNNSimilarityBruteForce(t *testing.T) {
	d, _ := randomData(11, 400, 40)
	rng := rand.New(rand.NewPCG(12, 1))
	for range 5 {
		s := make([]int32, 130)
		for i := range s {
			s[i] = int32(rng.IntN(len(d.Items)))
		}
		d.Sessions = append(d.Sessions, s)
	}
	other := NewRecencyKNN(0.7, 1000)
	other.Backward, other.DistExp, other.Window = 0.25, 0.5, 3
	for _, knn := range []*RecencyKNN{NewRecencyKNN(0.7, 1000), other} {
		t.Run(knn.Name(), func(t *testing.T) {
			if err := knn.Fit(d); err != nil {
				t.Fatal(err)
			}
			n := len(d.Items)
			co := make([][]float64, n)
			for i := range co {
				co[i] = make([]float64, n)
			}
			support := make([]float64, n)
			for _, s := range d.Sessions {
				for _, a := range slices.Compact(slices.Sorted(slices.Values(s))) {
					support[a]++
				}
				for i := range s {
					for j := i + 1; j < len(s) && j-i <= knn.Window; j++ {
						if a, b := s[i], s[j]; a != b {
							w := 1 / math.Pow(float64(j-i), knn.DistExp)
							co[a][b] += w
							co[b][a] += knn.Backward * w
						}
					}
				}
			}
			asymmetric := false
			for a := range n {
				got := map[int32]float64{}
				for j := knn.start[a]; j < knn.start[a+1]; j++ {
					got[knn.nbr[j]] = float64(knn.sim[j])
				}
				nonzero := 0
				for b := range n {
					want := 0.0
					if co[a][b] > 0 {
						want = co[a][b] / math.Sqrt(support[a]*support[b])
						nonzero++
					}
					if math.Abs(got[int32(b)]-want) > 1e-6*max(1, want) {
						t.Fatalf("sim(%d→%d) = %v, want %v", a, b, got[int32(b)], want)
					}
					if co[a][b] != co[b][a] {
						asymmetric = true
					}
				}
				if int(knn.start[a+1]-knn.start[a]) != nonzero {
					t.Fatalf("item %d keeps %d neighbours, want %d", a, knn.start[a+1]-knn.start[a], nonzero)
				}
				for j := knn.start[a] + 1; j < knn.start[a+1]; j++ {
					if knn.sim[j] > knn.sim[j-1] || knn.sim[j] == knn.sim[j-1] && knn.nbr[j] < knn.nbr[j-1] {
						t.Fatalf("neighbours of %d not sorted", a)
					}
				}
			}
			if !asymmetric {
				t.Error("similarity is symmetric on sequential data")
			}
			// Keeping fewer neighbours keeps the head of the full list.
			few := *knn
			few.Neighbours = 5
			if err := few.Fit(d); err != nil {
				t.Fatal(err)
			}
			for a := range n {
				lo, hi := knn.start[a], knn.start[a+1]
				k := min(hi-lo, 5)
				if !slices.Equal(few.nbr[few.start[a]:few.start[a+1]], knn.nbr[lo:lo+k]) ||
					!slices.Equal(few.sim[few.start[a]:few.start[a+1]], knn.sim[lo:lo+k]) {
					t.Fatalf("top 5 neighbours of %d differ from the head of the full list", a)
				}
			}
		})
	}
}

func TestTuneDecay(t *testing.T) {
	train, cases := randomData(5, 800, 60)
	best, res, err := TuneDecay(context.Background(), train, cases, true, "ndcg@10", 100, []float64{0.5, 0.7, 0.85})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || !slices.Contains([]float64{0.5, 0.7, 0.85}, best) {
		t.Fatalf("best %v, %d results", best, len(res))
	}
	for _, r := range res {
		if r.Map()["ndcg@10"] > res[slices.Index([]float64{0.5, 0.7, 0.85}, best)].Map()["ndcg@10"] {
			t.Errorf("%s beats the chosen decay %v", r.System, best)
		}
	}
	if _, _, err := TuneDecay(context.Background(), train, cases, true, "auc", 100, []float64{0.5}); err == nil {
		t.Error("unknown metric accepted")
	}
}
