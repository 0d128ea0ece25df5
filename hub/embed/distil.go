package embed

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/aisle-rec/aisle/hub/linalg"

	"github.com/aisle-rec/aisle/shared/embed"
)

// DistilOptions tunes Distil.
type DistilOptions struct {
	// BatchSize is how many vocabulary entries go to the teacher at once.
	BatchSize int
	// Frequencies, parallel to the vocabulary, switches token weighting to
	// SIF: a row is scaled by SIF / (SIF + p), p the token's share of all
	// occurrences. Without it rows get model2vec's Zipf weighting,
	// log(2 + rank), the vocabulary being taken as ordered by falling
	// frequency.
	Frequencies []float64
	SIF         float64
	// MaxTokens is the embedder's truncation length.
	MaxTokens int
}

// DefaultDistilOptions returns the defaults.
func DefaultDistilOptions() DistilOptions {
	return DistilOptions{BatchSize: 256, SIF: 1e-3, MaxTokens: embed.DefaultMaxTokens}
}

// Validate reports the first invalid field.
func (o DistilOptions) Validate() error {
	switch {
	case o.BatchSize < 1:
		return fmt.Errorf("embed: distil batch size %d, want ≥ 1", o.BatchSize)
	case o.Frequencies != nil && !(o.SIF > 0):
		return fmt.Errorf("embed: SIF parameter %v, want > 0", o.SIF)
	case o.MaxTokens < 1 || o.MaxTokens > embed.MaxTokensLimit:
		return fmt.Errorf("embed: max tokens %d outside [1, %d]", o.MaxTokens, embed.MaxTokensLimit)
	}
	for i, f := range o.Frequencies {
		if !(f >= 0) || math.IsInf(f, 0) {
			return fmt.Errorf("embed: frequency %d is %v, want finite and ≥ 0", i, f)
		}
	}
	return nil
}

// Distil builds a static embedder from a teacher model, model2vec style:
// every vocabulary entry is embedded on its own through the teacher (a
// "##" continuation piece as its bare text), the vectors are centred and
// reduced to dims by PCA, and each row is weighted (Zipf or SIF, see
// DistilOptions) so frequent tokens count for less in the mean.
//
// Entries are normalised as the tokenizer sees them (lower-cased); an
// entry that is not a single word (or "##" and a word) is an error,
// duplicates after normalising keep their first position, and the special
// tokens are added in front with zero rows. dims must not exceed the
// teacher's vector length.
func Distil(ctx context.Context, teacher Model, vocab []string, dims int, opt DistilOptions) (*embed.Embedder, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Frequencies != nil && len(opt.Frequencies) != len(vocab) {
		return nil, fmt.Errorf("embed: %d frequencies for %d vocabulary entries", len(opt.Frequencies), len(vocab))
	}
	if dims < 1 || dims > embed.MaxDims {
		return nil, fmt.Errorf("embed: dims %d outside [1, %d]", dims, embed.MaxDims)
	}
	entries := []string{embed.PadToken, embed.UnkToken}
	var texts []string
	var freq []float64
	seen := map[string]bool{embed.PadToken: true, embed.UnkToken: true}
	for i, raw := range vocab {
		tok, text, err := distilEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("embed: vocabulary entry %d: %w", i, err)
		}
		if seen[tok] {
			continue
		}
		seen[tok] = true
		entries = append(entries, tok)
		texts = append(texts, text)
		if opt.Frequencies != nil {
			freq = append(freq, opt.Frequencies[i])
		}
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("embed: distil: empty vocabulary")
	}
	if len(entries) > embed.MaxVocab {
		return nil, fmt.Errorf("embed: distil: %d entries exceed %d", len(entries), embed.MaxVocab)
	}
	var teacherDims int
	var x []float64 // len(texts) × teacherDims
	for start := 0; start < len(texts); start += opt.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := texts[start:min(start+opt.BatchSize, len(texts))]
		vecs, err := teacher.Embed(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed: distil: teacher: %w", err)
		}
		if len(vecs) != len(batch) {
			return nil, fmt.Errorf("embed: distil: teacher returned %d vectors for %d texts", len(vecs), len(batch))
		}
		for i, v := range vecs {
			if teacherDims == 0 {
				teacherDims = len(v)
				if dims > teacherDims {
					return nil, fmt.Errorf("embed: distil: %d dims asked of a teacher with %d", dims, teacherDims)
				}
				x = make([]float64, 0, len(texts)*teacherDims)
			}
			if len(v) != teacherDims {
				return nil, fmt.Errorf("embed: distil: teacher vector %d has %d values, want %d", start+i, len(v), teacherDims)
			}
			for _, f := range v {
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					return nil, fmt.Errorf("embed: distil: teacher vector for %q holds %v", batch[i], f)
				}
				x = append(x, float64(f))
			}
		}
	}
	z := pca(x, len(texts), teacherDims, dims)

	// Token weights.
	wt := make([]float64, len(texts))
	if freq != nil {
		var total float64
		for _, f := range freq {
			total += f
		}
		for i, f := range freq {
			p := 0.0
			if total > 0 {
				p = f / total
			}
			wt[i] = opt.SIF / (opt.SIF + p)
		}
	} else {
		for i := range wt {
			wt[i] = math.Log(2 + float64(i))
		}
	}
	weights := make([]float32, len(entries)*dims)
	for i := range texts {
		row := weights[(i+2)*dims : (i+3)*dims]
		for j := range dims {
			row[j] = float32(z[i*dims+j] * wt[i])
		}
	}
	e, err := embed.Quantize(entries, dims, weights, opt.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("embed: distil: %w", err)
	}
	return e, nil
}

// distilEntry normalises one vocabulary entry and returns it with the text
// the teacher embeds for it.
func distilEntry(raw string) (tok, text string, err error) {
	rest, cont := strings.CutPrefix(raw, embed.ContinuingPrefix)
	if len(rest) > embed.MaxWordBytes {
		return "", "", fmt.Errorf("%.40q… is longer than %d bytes", raw, embed.MaxWordBytes)
	}
	ws := embed.Words(rest, nil)
	if len(ws) != 1 {
		return "", "", fmt.Errorf("%q is not a single word after normalising (got %q)", raw, ws)
	}
	if cont {
		if strings.ContainsFunc(ws[0], embed.IsPunctuation) {
			return "", "", fmt.Errorf("%q: a continuation piece cannot hold punctuation", raw)
		}
		return embed.ContinuingPrefix + ws[0], ws[0], nil
	}
	return ws[0], ws[0], nil
}

// pca centres the n×d rows of x and projects them on the k directions of
// largest variance; the result is n×k, row-major. Sign is fixed so each
// component's largest-magnitude loading is positive (deterministic output).
func pca(x []float64, n, d, k int) []float64 {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v / float64(n)
		}
	}
	cov := make([]float64, d*d)
	c := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			c[j] = v - mean[j]
		}
		for a, ca := range c {
			if ca == 0 {
				continue
			}
			row := cov[a*d : (a+1)*d]
			for b := a; b < d; b++ {
				row[b] += ca * c[b]
			}
		}
	}
	for a := range d {
		for b := a + 1; b < d; b++ {
			cov[b*d+a] = cov[a*d+b]
		}
	}
	vals, vecs := linalg.SymEigen(cov, d)
	order := linalg.Descending(vals)
	comp := make([]float64, k*d) // component p at [p*d:(p+1)*d]
	for p := range k {
		col := order[p]
		big := 0.0
		for j := range d {
			v := vecs[j*d+col]
			comp[p*d+j] = v
			if math.Abs(v) > math.Abs(big) {
				big = v
			}
		}
		if big < 0 {
			for j := range d {
				comp[p*d+j] = -comp[p*d+j]
			}
		}
	}
	out := make([]float64, n*k)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			c[j] = v - mean[j]
		}
		for p := range k {
			var s float64
			for j, cp := range comp[p*d : (p+1)*d] {
				s += cp * c[j]
			}
			out[i*k+p] = s
		}
	}
	return out
}
