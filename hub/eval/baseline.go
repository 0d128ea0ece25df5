package eval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Baselines returns the reference recommenders every evaluation prints
// beside Aisle: Popularity, LastItemTransition and RecencyKNN with decay
// 0.7 and 100 neighbours. Each call returns fresh, unfitted values.
func Baselines() []Recommender {
	// The kNN settings are the best of a sweep on the Beauty validation
	// split (backward 0–1, distance exponent 0.25–1.5, decay 0.5–0.85), so
	// Aisle is compared with the strongest version of it, not a strawman.
	knn := NewRecencyKNN(0.7, 100)
	knn.Backward, knn.DistExp = 0.25, 0.5
	return []Recommender{&Popularity{}, &LastItemTransition{}, knn}
}

// checkData reports item numbers outside d.Items.
func checkData(d *Data) error {
	n := len(d.Items)
	for i, s := range d.Sessions {
		for j, it := range s {
			if it < 0 || int(it) >= n {
				return fmt.Errorf("session %d, event %d: item %d outside 0..%d", i, j, it, n-1)
			}
		}
	}
	return nil
}

// contains reports whether xs holds x.
func contains(xs []int32, x int32) bool {
	return slices.Contains(xs, x)
}

// Popularity recommends the items seen most often in training, most
// frequent first; ties go to the lower item number. Items never seen in
// training follow in item-number order, so it can rank every item.
type Popularity struct {
	order []int32 // items, most popular first
	rank  []int32 // rank[item] = position in order
}

// Name implements Recommender.
func (p *Popularity) Name() string { return "Popularity" }

// Fit implements Recommender.
func (p *Popularity) Fit(d *Data) error {
	if err := checkData(d); err != nil {
		return fmt.Errorf("popularity: %w", err)
	}
	count := make([]int, len(d.Items))
	for _, s := range d.Sessions {
		for _, it := range s {
			count[it]++
		}
	}
	p.order = make([]int32, len(d.Items))
	for i := range p.order {
		p.order[i] = int32(i)
	}
	slices.SortStableFunc(p.order, func(a, b int32) int { return cmp.Compare(count[b], count[a]) })
	p.rank = make([]int32, len(d.Items))
	for r, it := range p.order {
		p.rank[it] = int32(r)
	}
	return nil
}

// Recommend implements Recommender.
func (p *Popularity) Recommend(history []int32, _ []int64, k int, excludeSeen bool, dst []int32) []int32 {
	return p.fill(dst, len(dst), k, history, excludeSeen)
}

// fill appends popular items to dst until dst[start:] holds k items,
// skipping items already in dst[start:] and, with excludeSeen, history
// items.
func (p *Popularity) fill(dst []int32, start, k int, history []int32, excludeSeen bool) []int32 {
	for _, it := range p.order {
		if len(dst)-start >= k {
			break
		}
		if contains(dst[start:], it) || excludeSeen && contains(history, it) {
			continue
		}
		dst = append(dst, it)
	}
	return dst
}

// less orders two items by popularity, for tie-breaks.
func (p *Popularity) less(a, b int32) int { return cmp.Compare(p.rank[a], p.rank[b]) }

// LastItemTransition recommends the items that most often directly
// followed the history's last item in training sessions (ties by
// popularity), then fills the list by popularity.
type LastItemTransition struct {
	pop   Popularity
	start []int32 // CSR offsets by source item
	next  []int32 // followers, most frequent first
	count []int32 // parallel to next
}

// Name implements Recommender.
func (t *LastItemTransition) Name() string { return "LastItemTransition" }

// Fit implements Recommender.
func (t *LastItemTransition) Fit(d *Data) error {
	if err := t.pop.Fit(d); err != nil {
		return fmt.Errorf("transition: %w", err)
	}
	var pairs []uint64
	for _, s := range d.Sessions {
		for i := 1; i < len(s); i++ {
			pairs = append(pairs, uint64(s[i-1])<<32|uint64(uint32(s[i])))
		}
	}
	slices.Sort(pairs)
	n := len(d.Items)
	t.start = make([]int32, n+1)
	t.next, t.count = t.next[:0], t.count[:0]
	for i := 0; i < len(pairs); {
		j := i
		for j < len(pairs) && pairs[j] == pairs[i] {
			j++
		}
		a := int32(pairs[i] >> 32)
		t.start[a+1]++
		t.next = append(t.next, int32(uint32(pairs[i])))
		t.count = append(t.count, int32(j-i))
		i = j
	}
	for a := range n {
		t.start[a+1] += t.start[a]
	}
	for a := range n {
		lo, hi := t.start[a], t.start[a+1]
		idx := make([]int32, hi-lo)
		for i := range idx {
			idx[i] = lo + int32(i)
		}
		slices.SortFunc(idx, func(x, y int32) int {
			if c := cmp.Compare(t.count[y], t.count[x]); c != 0 {
				return c
			}
			return t.pop.less(t.next[x], t.next[y])
		})
		nx := make([]int32, len(idx))
		cn := make([]int32, len(idx))
		for i, j := range idx {
			nx[i], cn[i] = t.next[j], t.count[j]
		}
		copy(t.next[lo:hi], nx)
		copy(t.count[lo:hi], cn)
	}
	return nil
}

// Recommend implements Recommender.
func (t *LastItemTransition) Recommend(history []int32, _ []int64, k int, excludeSeen bool, dst []int32) []int32 {
	start := len(dst)
	if n := len(history); n > 0 && history[n-1] >= 0 && int(history[n-1]) < len(t.start)-1 {
		last := history[n-1]
		for _, it := range t.next[t.start[last]:t.start[last+1]] {
			if len(dst)-start >= k {
				break
			}
			if excludeSeen && contains(history, it) {
				continue
			}
			dst = append(dst, it)
		}
	}
	return t.pop.fill(dst, start, k, history, excludeSeen)
}

// RecencyKNN is the recency-weighted item-kNN baseline with directional,
// distance-weighted co-visitation similarity.
//
// Co-visitation: for every two positions i < j of a training session s with
// a = s[i], b = s[j], a ≠ b and j-i ≤ Window, with w = 1/(j-i)^DistExp,
//
//	co(a→b) += w            (b followed a)
//	co(b→a) += Backward × w (a preceded b)
//
// Every such position pair counts, so an item repeated in a session
// contributes once per occurrence. The similarity is
//
//	sim(a→b) = co(a→b) / sqrt(n_a × n_b)
//
// where n_x is the number of training sessions holding x, and each item
// keeps its Neighbours most similar items (ties to the lower item number).
// A candidate c scores
//
//	Σ over history positions i of Decay^(len(history)-1-i) × sim(history[i]→c)
//
// ranked by score, ties by popularity, and the list is filled by
// popularity. NewRecencyKNN sets Backward 0.5, DistExp 1 and Window 50.
// A RecencyKNN built as a literal must set them itself: Backward 0 (no
// backward credit) and DistExp 0 (distance-blind) are valid settings, and
// Fit rejects Window 0. Fit takes O(events × Window) time and keeps
// O(items × Neighbours) similarities, never an items × items table.
type RecencyKNN struct {
	// Decay weights a history item d positions before the last by Decay^d.
	Decay float64
	// Neighbours is how many similar items each item keeps.
	Neighbours int
	// Backward is the share of a forward pair's weight credited the other
	// way, to co(later→earlier).
	Backward float64
	// DistExp is the exponent of the pair distance in the weight
	// 1/distance^DistExp.
	DistExp float64
	// Window is the largest pair distance counted; it bounds Fit's work
	// on long sessions.
	Window int

	pop   *Popularity
	start []int32   // CSR offsets by item
	nbr   []int32   // neighbours, most similar first
	sim   []float32 // parallel to nbr
	pool  *sync.Pool
}

// Defaults of the RecencyKNN co-visitation weighting set by NewRecencyKNN.
const (
	DefaultKNNBackward = 0.5
	DefaultKNNDistExp  = 1.0
	DefaultKNNWindow   = 50
)

// NewRecencyKNN returns an unfitted RecencyKNN with the default
// co-visitation weighting (Backward 0.5, DistExp 1, Window 50).
func NewRecencyKNN(decay float64, neighbours int) *RecencyKNN {
	return &RecencyKNN{Decay: decay, Neighbours: neighbours,
		Backward: DefaultKNNBackward, DistExp: DefaultKNNDistExp, Window: DefaultKNNWindow}
}

// Name implements Recommender. The co-visitation settings appear only
// when they differ from NewRecencyKNN's defaults.
func (r *RecencyKNN) Name() string {
	if r.Backward == DefaultKNNBackward && r.DistExp == DefaultKNNDistExp && r.Window == DefaultKNNWindow {
		return fmt.Sprintf("RecencyKNN(decay=%g)", r.Decay)
	}
	return fmt.Sprintf("RecencyKNN(decay=%g,backward=%g,exp=%g,window=%d)", r.Decay, r.Backward, r.DistExp, r.Window)
}

// WithDecay returns a copy of a fitted r that scores with another decay,
// sharing r's similarity tables.
func (r *RecencyKNN) WithDecay(decay float64) *RecencyKNN {
	c := *r
	c.Decay = decay
	return &c
}

type knnScratch struct {
	score   []float64
	mark    []bool
	touched []int32
}

// Fit implements Recommender.
func (r *RecencyKNN) Fit(d *Data) error {
	if r.Neighbours <= 0 {
		return fmt.Errorf("recency knn: Neighbours = %d, want > 0", r.Neighbours)
	}
	if !(r.Decay > 0 && r.Decay <= 1) {
		return fmt.Errorf("recency knn: Decay = %g, want in (0, 1]", r.Decay)
	}
	if !(r.Backward >= 0 && !math.IsInf(r.Backward, 0)) {
		return fmt.Errorf("recency knn: Backward = %g, want finite and >= 0", r.Backward)
	}
	if !(r.DistExp >= 0 && !math.IsInf(r.DistExp, 0)) {
		return fmt.Errorf("recency knn: DistExp = %g, want finite and >= 0", r.DistExp)
	}
	if r.Window <= 0 {
		return fmt.Errorf("recency knn: Window = %d, want > 0", r.Window)
	}
	r.pop = &Popularity{}
	if err := r.pop.Fit(d); err != nil {
		return fmt.Errorf("recency knn: %w", err)
	}
	n := len(d.Items)
	// Occurrences of each item as (session, position), in session then
	// position order (CSR by item), and n_x, the sessions holding x.
	type occ struct{ s, p int32 }
	occStart := make([]int32, n+1)
	support := make([]float64, n)
	last := make([]int32, n) // last session seen holding the item, +1
	for si, s := range d.Sessions {
		for _, it := range s {
			occStart[it+1]++
			if last[it] != int32(si)+1 {
				last[it] = int32(si) + 1
				support[it]++
			}
		}
	}
	for a := range n {
		occStart[a+1] += occStart[a]
	}
	occs := make([]occ, occStart[n])
	fillAt := slices.Clone(occStart[:n])
	for si, s := range d.Sessions {
		for p, it := range s {
			occs[fillAt[it]] = occ{int32(si), int32(p)}
			fillAt[it]++
		}
	}
	// wt[k] is the weight of a pair k positions apart.
	wt := make([]float64, r.Window+1)
	for k := 1; k <= r.Window; k++ {
		wt[k] = math.Pow(float64(k), -r.DistExp)
	}

	nbrs := make([][]int32, n)
	sims := make([][]float32, n)
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			co := make([]float64, n)
			seen := make([]bool, n)
			var touched []int32
			add := func(b int32, v float64) {
				if !seen[b] {
					seen[b] = true
					touched = append(touched, b)
				}
				co[b] += v
			}
			type cand struct {
				item int32
				sim  float64
			}
			var cs []cand
			for a := int32(w); int(a) < n; a += int32(workers) {
				touched = touched[:0]
				// co(a→·) from each occurrence of a: followers get the
				// forward weight, predecessors the backward weight. The
				// order of additions depends on the data only, so the sums
				// do not depend on the number of workers.
				for _, o := range occs[occStart[a]:occStart[a+1]] {
					s := d.Sessions[o.s]
					p := int(o.p)
					for j := p + 1; j < len(s) && j-p <= r.Window; j++ {
						if b := s[j]; b != a {
							add(b, wt[j-p])
						}
					}
					if r.Backward > 0 {
						for j := p - 1; j >= 0 && p-j <= r.Window; j-- {
							if b := s[j]; b != a {
								add(b, r.Backward*wt[p-j])
							}
						}
					}
				}
				cs = cs[:0]
				for _, b := range touched {
					if co[b] > 0 {
						cs = append(cs, cand{b, co[b] / math.Sqrt(support[a]*support[b])})
					}
					co[b], seen[b] = 0, false
				}
				slices.SortFunc(cs, func(x, y cand) int {
					if c := cmp.Compare(y.sim, x.sim); c != 0 {
						return c
					}
					return cmp.Compare(x.item, y.item)
				})
				k := min(len(cs), r.Neighbours)
				nbrs[a] = make([]int32, k)
				sims[a] = make([]float32, k)
				for i, c := range cs[:k] {
					nbrs[a][i], sims[a][i] = c.item, float32(c.sim)
				}
			}
		})
	}
	wg.Wait()
	r.start = make([]int32, n+1)
	total := 0
	for a := range n {
		total += len(nbrs[a])
	}
	r.nbr, r.sim = make([]int32, 0, total), make([]float32, 0, total)
	for a := range n {
		r.nbr = append(r.nbr, nbrs[a]...)
		r.sim = append(r.sim, sims[a]...)
		r.start[a+1] = int32(len(r.nbr))
	}
	r.pool = &sync.Pool{New: func() any {
		return &knnScratch{score: make([]float64, n), mark: make([]bool, n)}
	}}
	return nil
}

// Recommend implements Recommender.
func (r *RecencyKNN) Recommend(history []int32, _ []int64, k int, excludeSeen bool, dst []int32) []int32 {
	start := len(dst)
	if r.pool == nil {
		return dst
	}
	sc := r.pool.Get().(*knnScratch)
	defer r.pool.Put(sc)
	n := len(r.start) - 1
	w := 1.0
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		if h >= 0 && int(h) < n {
			nb, sm := r.nbr[r.start[h]:r.start[h+1]], r.sim[r.start[h]:r.start[h+1]]
			for j, c := range nb {
				if !sc.mark[c] {
					sc.mark[c] = true
					sc.touched = append(sc.touched, c)
				}
				sc.score[c] += w * float64(sm[j])
			}
		}
		w *= r.Decay
	}
	cands := sc.touched[:0]
	for _, c := range sc.touched {
		if excludeSeen && contains(history, c) {
			sc.score[c], sc.mark[c] = 0, false
			continue
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b int32) int {
		if c := cmp.Compare(sc.score[b], sc.score[a]); c != 0 {
			return c
		}
		return r.pop.less(a, b)
	})
	for _, c := range cands {
		if len(dst)-start >= k {
			break
		}
		dst = append(dst, c)
	}
	for _, c := range cands {
		sc.score[c], sc.mark[c] = 0, false
	}
	sc.touched = cands[:0]
	return r.pop.fill(dst, start, k, history, excludeSeen)
}

// TuneDecay fits a RecencyKNN with neighbours neighbours on train once,
// evaluates each decay on cases, and returns the decay with the highest
// value of metric (a key of Result.Map, such as "ndcg@10"), the first on
// ties, with all results. Tune on validation cases, never on test cases.
func TuneDecay(ctx context.Context, train *Data, cases []Case, excludeSeen bool, metric string, neighbours int, decays []float64) (float64, []Result, error) {
	if len(decays) == 0 {
		return 0, nil, fmt.Errorf("eval: tune decay: no decays")
	}
	if !slices.Contains(MetricKeys, metric) {
		return 0, nil, fmt.Errorf("eval: tune decay: unknown metric %q, want one of %v", metric, MetricKeys)
	}
	base := NewRecencyKNN(decays[0], neighbours)
	if err := base.Fit(train); err != nil {
		return 0, nil, fmt.Errorf("eval: tune decay: %w", err)
	}
	best, bestV := decays[0], math.Inf(-1)
	var results []Result
	for _, d := range decays {
		res, err := Evaluate(ctx, base.WithDecay(d), cases, excludeSeen, Options{})
		if err != nil {
			return 0, results, err
		}
		results = append(results, res)
		if v := res.Map()[metric]; v > bestV {
			best, bestV = d, v
		}
	}
	return best, results, nil
}

// SessionBaselines are the baselines for session data, where items already
// seen in the session stay eligible: Baselines plus RepeatTransition.
func SessionBaselines() []Recommender {
	return append(Baselines(), &RepeatTransition{})
}

// RepeatTransition recommends the session's own items first, most recent
// first (a visitor often returns to something just viewed), then what most
// often followed the last item, then popular items. With excludeSeen it is
// LastItemTransition.
type RepeatTransition struct{ t LastItemTransition }

// Name implements Recommender.
func (r *RepeatTransition) Name() string { return "RepeatTransition" }

// Fit implements Recommender.
func (r *RepeatTransition) Fit(d *Data) error { return r.t.Fit(d) }

// Recommend implements Recommender.
func (r *RepeatTransition) Recommend(history []int32, times []int64, k int, excludeSeen bool, dst []int32) []int32 {
	start := len(dst)
	if !excludeSeen {
		for i := len(history) - 1; i >= 0 && len(dst)-start < k; i-- {
			if it := history[i]; it >= 0 && int(it) < len(r.t.start)-1 && !contains(dst[start:], it) {
				dst = append(dst, it)
			}
		}
	}
	rest := r.t.Recommend(history, times, k, excludeSeen, nil)
	for _, it := range rest {
		if len(dst)-start >= k {
			break
		}
		if !contains(dst[start:], it) {
			dst = append(dst, it)
		}
	}
	return dst
}
