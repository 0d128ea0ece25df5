package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/embed"
)

// Doc is one item's text.
type Doc struct {
	ID   string
	Text string
	// Weight scales the item's say in training (say, by how much behaviour
	// backs its target vector); 0 means 1.
	Weight float64
}

// StaticOptions tunes TrainStatic.
type StaticOptions struct {
	// MinCount is how many training items a word must occur in to get a
	// row of its own; rarer words are spelled with suffix pieces or are
	// unknown (and count for nothing).
	MinCount int
	// MaxVocab bounds the vocabulary, special tokens included; the most
	// frequent words are kept.
	MaxVocab int
	// Suffixes learns WordPiece continuation pieces: what is left of a rare
	// word after its longest known prefix ("##s" in "serum ##s"), kept
	// when it occurs in MinCount items.
	Suffixes bool
	// Lambda is the ridge penalty on every row. It shrinks the rows of
	// words seen in few items towards zero, where a word stops counting.
	Lambda float64
	// Iterations bounds the conjugate-gradient iterations; Tolerance stops
	// them once every column's residual has fallen by that factor.
	Iterations int
	Tolerance  float64
	// MaxTokens is the embedder's truncation length.
	MaxTokens int
	// Workers bounds parallelism (0: GOMAXPROCS). The result does not
	// depend on it.
	Workers int
}

// DefaultStaticOptions returns the options tuned on the validation split of
// Amazon Beauty's cold-start protocol (ColdStart with Split "valid", items
// weighted 1+ln(interactions)): Recall@10 over all items rises with Lambda
// up to about 3 (0.067 at 0.3, 0.079 at 3, 0.080 at 10) while ranking among
// the new items alone slowly falls (0.177, 0.166, 0.152); MinCount 1 gives
// the same figures with twice the vocabulary; Suffixes cost about 0.003.
func DefaultStaticOptions() StaticOptions {
	return StaticOptions{
		MinCount:   2,
		MaxVocab:   100_000,
		Lambda:     3,
		Iterations: 200,
		Tolerance:  1e-4,
		MaxTokens:  embed.DefaultMaxTokens,
	}
}

// Validate reports the first invalid field.
func (o StaticOptions) Validate() error {
	switch {
	case o.MinCount < 1:
		return fmt.Errorf("embed: min count %d, want ≥ 1", o.MinCount)
	case o.MaxVocab < 3 || o.MaxVocab > embed.MaxVocab:
		return fmt.Errorf("embed: max vocabulary %d outside [3, %d]", o.MaxVocab, embed.MaxVocab)
	case !(o.Lambda > 0) || math.IsInf(o.Lambda, 0):
		return fmt.Errorf("embed: lambda %v, want a positive number", o.Lambda)
	case o.Iterations < 1:
		return fmt.Errorf("embed: iterations %d, want ≥ 1", o.Iterations)
	case !(o.Tolerance >= 0) || o.Tolerance >= 1:
		return fmt.Errorf("embed: tolerance %v outside [0, 1)", o.Tolerance)
	case o.MaxTokens < 1 || o.MaxTokens > embed.MaxTokensLimit:
		return fmt.Errorf("embed: max tokens %d outside [1, %d]", o.MaxTokens, embed.MaxTokensLimit)
	case o.Workers < 0:
		return fmt.Errorf("embed: workers %d, want ≥ 0", o.Workers)
	}
	return nil
}

// ErrNoTrainingData is returned when no item has both a non-zero target and
// a known word.
var ErrNoTrainingData = errors.New("embed: no item has both a target vector and text")

// TrainStatic learns a static embedder whose vector for an item's text
// (mean of its tokens' rows, normalised) lands near the item's target — in
// the hub, its behaviour vector — so that items with text but no behaviour
// get a useful position.
//
// The vocabulary is the words of at least opt.MinCount items (and suffix
// pieces for rarer ones); the table solves the ridge regression
//
//	min_W Σ_i w_i ‖a_i W − y_i‖² + λ ‖W‖²
//
// where a_i is item i's mean-pooling row (token counts over its known
// tokens), y_i its target and w_i its weight, by preconditioned conjugate
// gradients, one column per dimension. Items whose target is zero are left
// out. The result is deterministic.
func TrainStatic(ctx context.Context, items []Doc, targets [][]float32, dims int, opt StaticOptions) (*embed.Embedder, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if len(items) != len(targets) {
		return nil, fmt.Errorf("embed: %d items but %d targets", len(items), len(targets))
	}
	if dims < 1 || dims > embed.MaxDims {
		return nil, fmt.Errorf("embed: dims %d outside [1, %d]", dims, embed.MaxDims)
	}
	var use []int // items with a target
	for i, y := range targets {
		if len(y) != dims {
			return nil, fmt.Errorf("embed: item %d (%s): target of %d values, want %d", i, items[i].ID, len(y), dims)
		}
		var ss float64
		for _, x := range y {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("embed: item %d (%s): target holds %v", i, items[i].ID, x)
			}
			ss += float64(x) * float64(x)
		}
		if w := items[i].Weight; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("embed: item %d (%s): weight %v, want finite and ≥ 0", i, items[i].ID, w)
		}
		if ss > 0 {
			use = append(use, i)
		}
	}
	texts := make([]string, len(use))
	for k, i := range use {
		texts[k] = items[i].Text
	}
	vocab := buildVocab(texts, opt)
	skel, err := embed.New(vocab, 1, make([]int8, len(vocab)), make([]float32, len(vocab)), opt.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("embed: vocabulary: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The design matrix, one row per training item: a_it = count_t / known.
	a := &sparse{cols: len(vocab)}
	var y []float64
	var w []float64
	var ids []int32
	counts := map[int32]int{}
	for _, i := range use {
		ids = skel.Tokenize(items[i].Text, ids[:0])
		clear(counts)
		known := 0
		for _, id := range ids {
			if id != embed.UnkID && id != embed.PadID {
				counts[id]++
				known++
			}
		}
		if known == 0 {
			continue
		}
		row := make([]entry, 0, len(counts))
		for id, c := range counts {
			row = append(row, entry{id, float64(c) / float64(known)})
		}
		slices.SortFunc(row, func(x, y entry) int { return cmp.Compare(x.col, y.col) })
		a.add(row)
		for _, x := range targets[i] {
			y = append(y, float64(x))
		}
		wi := items[i].Weight
		if wi == 0 {
			wi = 1
		}
		w = append(w, wi)
	}
	if a.rows() == 0 {
		return nil, ErrNoTrainingData
	}
	x, err := ridgeCG(ctx, a, w, y, dims, opt)
	if err != nil {
		return nil, err
	}
	weights := make([]float32, len(x))
	for i, v := range x {
		weights[i] = float32(v)
	}
	clear(weights[embed.PadID*dims : (embed.UnkID+1)*dims])
	e, err := embed.Quantize(vocab, dims, weights, opt.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("embed: quantise table: %w", err)
	}
	return e, nil
}

// vocabWord reports whether a word may get a row: not cut short, and not a
// lone punctuation character (those carry nothing and stay unknown).
func vocabWord(w string) bool {
	if w == "" || len(w) > embed.MaxWordBytes {
		return false
	}
	r, size := utf8.DecodeRuneInString(w)
	return !(size == len(w) && embed.IsPunctuation(r))
}

// buildVocab returns the special tokens, then the words of at least
// opt.MinCount texts by falling frequency, then (with opt.Suffixes) the
// continuation pieces that spell the rarer words, all within opt.MaxVocab.
func buildVocab(texts []string, opt StaticOptions) []string {
	df := map[string]int{}
	docWords := make([][]string, len(texts))
	for i, t := range texts {
		ws := embed.Words(t, nil)
		slices.Sort(ws)
		ws = slices.Compact(ws)
		docWords[i] = ws
		for _, w := range ws {
			if vocabWord(w) {
				df[w]++
			}
		}
	}
	type counted struct {
		s string
		n int
	}
	byFreq := func(m map[string]int) []counted {
		var out []counted
		for s, n := range m {
			if n >= opt.MinCount {
				out = append(out, counted{s, n})
			}
		}
		slices.SortFunc(out, func(a, b counted) int {
			if c := cmp.Compare(b.n, a.n); c != 0 {
				return c
			}
			return cmp.Compare(a.s, b.s)
		})
		return out
	}
	budget := opt.MaxVocab - 2
	words := byFreq(df)
	if len(words) > budget {
		words = words[:budget]
	}
	vocab := []string{embed.PadToken, embed.UnkToken}
	known := make(map[string]bool, len(words))
	for _, c := range words {
		vocab = append(vocab, c.s)
		known[c.s] = true
	}
	budget -= len(words)
	if !opt.Suffixes || budget <= 0 {
		return vocab
	}
	// The remainder after the longest known prefix, as WordPiece's greedy
	// first step finds it.
	suffix := map[string]int{}
	for _, ws := range docWords {
		seen := map[string]bool{}
		for _, w := range ws {
			if known[w] || !vocabWord(w) {
				continue
			}
			for cut := len(w) - 1; cut > 0; cut-- {
				if !utf8.RuneStart(w[cut]) || !known[w[:cut]] {
					continue
				}
				if s := w[cut:]; !seen[s] {
					seen[s] = true
					suffix[s]++
				}
				break
			}
		}
	}
	for i, c := range byFreq(suffix) {
		if i == budget {
			break
		}
		vocab = append(vocab, embed.ContinuingPrefix+c.s)
	}
	return vocab
}

// entry is one non-zero of a sparse row.
type entry struct {
	col int32
	v   float64
}

// sparse is a row-compressed matrix with its transpose.
type sparse struct {
	cols   int
	offs   []int // row r is ents[offs[r]:offs[r+1]]
	ents   []entry
	tOffs  []int // column c is tEnts[tOffs[c]:tOffs[c+1]], entries hold row numbers
	tEnts  []entry
	frozen bool
}

func (s *sparse) rows() int { return max(len(s.offs)-1, 0) }

func (s *sparse) add(row []entry) {
	if len(s.offs) == 0 {
		s.offs = append(s.offs, 0)
	}
	s.ents = append(s.ents, row...)
	s.offs = append(s.offs, len(s.ents))
}

// transpose builds the column index once all rows are added.
func (s *sparse) transpose() {
	if s.frozen {
		return
	}
	s.frozen = true
	s.tOffs = make([]int, s.cols+1)
	for _, e := range s.ents {
		s.tOffs[e.col+1]++
	}
	for c := range s.cols {
		s.tOffs[c+1] += s.tOffs[c]
	}
	s.tEnts = make([]entry, len(s.ents))
	next := slices.Clone(s.tOffs[:s.cols])
	for r := range s.rows() {
		for _, e := range s.ents[s.offs[r]:s.offs[r+1]] {
			s.tEnts[next[e.col]] = entry{int32(r), e.v}
			next[e.col]++
		}
	}
}

// Parallel calls fn on consecutive chunks of [0, n) from up to workers
// goroutines (GOMAXPROCS when workers ≤ 0) and waits for them all.
// The chunks are fixed, so results never depend on how many goroutines
// run them.
func Parallel(n, workers int, fn func(lo, hi int)) {
	const chunks = 64
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := max((n+chunks-1)/chunks, 1)
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for lo := 0; lo < n; lo += size {
		next <- lo
	}
	close(next)
	for range min(workers, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				fn(lo, min(lo+size, n))
			}
		}()
	}
	wg.Wait()
}

// mulAW sets out = diag(w) A m for dense m (cols × d).
func (s *sparse) mulAW(m, w []float64, d, workers int, out []float64) {
	Parallel(s.rows(), workers, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := out[r*d : (r+1)*d]
			clear(o)
			for _, e := range s.ents[s.offs[r]:s.offs[r+1]] {
				mr := m[int(e.col)*d : (int(e.col)+1)*d]
				for j, x := range mr {
					o[j] += e.v * x
				}
			}
			if wr := w[r]; wr != 1 {
				for j := range o {
					o[j] *= wr
				}
			}
		}
	})
}

// mulT sets out = Aᵀ m for dense m (rows × d).
func (s *sparse) mulT(m []float64, d, workers int, out []float64) {
	Parallel(s.cols, workers, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			o := out[c*d : (c+1)*d]
			clear(o)
			for _, e := range s.tEnts[s.tOffs[c]:s.tOffs[c+1]] {
				mr := m[int(e.col)*d : (int(e.col)+1)*d]
				for j, x := range mr {
					o[j] += e.v * x
				}
			}
		}
	})
}

// ridgeCG solves (Aᵀ W A + λ I) X = Aᵀ W Y for X (cols × d) by
// Jacobi-preconditioned conjugate gradients run on all d columns in
// lockstep.
func ridgeCG(ctx context.Context, a *sparse, w, y []float64, d int, opt StaticOptions) ([]float64, error) {
	a.transpose()
	v := a.cols
	diag := make([]float64, v)
	for c := range v {
		var s float64
		for _, e := range a.tEnts[a.tOffs[c]:a.tOffs[c+1]] {
			s += w[e.col] * e.v * e.v
		}
		diag[c] = 1 / (s + opt.Lambda)
	}
	// K p = Aᵀ W A p + λ p
	tmp := make([]float64, a.rows()*d)
	kmul := func(p, out []float64) {
		a.mulAW(p, w, d, opt.Workers, tmp)
		a.mulT(tmp, d, opt.Workers, out)
		for i := range out {
			out[i] += opt.Lambda * p[i]
		}
	}
	wy := make([]float64, len(y))
	for r := range w {
		for j := range d {
			wy[r*d+j] = w[r] * y[r*d+j]
		}
	}
	x := make([]float64, v*d)
	r := make([]float64, v*d)
	a.mulT(wy, d, opt.Workers, r) // r = b - K·0
	z := make([]float64, v*d)
	precond := func() {
		for c := range v {
			for j := range d {
				z[c*d+j] = r[c*d+j] * diag[c]
			}
		}
	}
	colDot := func(p, q []float64) []float64 {
		s := make([]float64, d)
		for c := range v {
			pc, qc := p[c*d:(c+1)*d], q[c*d:(c+1)*d]
			for j := range d {
				s[j] += pc[j] * qc[j]
			}
		}
		return s
	}
	precond()
	p := slices.Clone(z)
	rz := colDot(r, z)
	r0 := colDot(r, r)
	q := make([]float64, v*d)
	alpha := make([]float64, d)
	beta := make([]float64, d)
	done := make([]bool, d)
	tol2 := opt.Tolerance * opt.Tolerance
	for it := 0; it < opt.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kmul(p, q)
		pq := colDot(p, q)
		for j := range d {
			alpha[j] = 0
			if !done[j] && pq[j] > 0 {
				alpha[j] = rz[j] / pq[j]
			}
		}
		for i := range x {
			j := i % d
			x[i] += alpha[j] * p[i]
			r[i] -= alpha[j] * q[i]
		}
		rr := colDot(r, r)
		all := true
		for j := range d {
			if rr[j] <= tol2*r0[j] {
				done[j] = true
			}
			all = all && done[j]
		}
		if all {
			break
		}
		precond()
		rzNew := colDot(r, z)
		for j := range d {
			beta[j] = 0
			if rz[j] > 0 {
				beta[j] = rzNew[j] / rz[j]
			}
			rz[j] = rzNew[j]
		}
		for i := range p {
			j := i % d
			if done[j] {
				continue
			}
			p[i] = z[i] + beta[j]*p[i]
		}
	}
	return x, nil
}
