package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/aisle-rec/aisle/hub/linalg"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// itemVectors embeds items by a truncated SVD of the matrix whose row for an
// item is its symmetrised co-visitation row followed by its title's TF-IDF
// vector scaled by cfg.TextWeight. Items close in behaviour or wording end up
// close; an item with text but no behaviour still gets a position. Rows are
// L2-normalised; an item with neither stays zero.
func itemVectors(cfg Config, in *Input, g snapshot.Graph, pop []float64) []float32 {
	n := len(in.Items)
	rows := make([][]entry, n)
	for a := range n {
		nb, w := g.Row(uint32(a))
		for j, b := range nb {
			rows[a] = append(rows[a], entry{int32(b), float64(w[j])})
			rows[b] = append(rows[b], entry{int32(a), float64(w[j])})
		}
	}
	for a := range rows {
		rows[a] = normalizeRow(mergeRow(rows[a]))
	}
	cols := n
	if cfg.TextWeight > 0 {
		text, vocab := titleMatrix(in.Items)
		for a := range rows {
			for _, e := range text[a] {
				rows[a] = append(rows[a], entry{int32(n) + e.col, e.v * cfg.TextWeight})
			}
		}
		cols += vocab
	}
	return truncatedSVD(rows, cols, cfg.Dims, cfg.Seed)
}

// entry is one non-zero of a sparse row.
type entry struct {
	col int32
	v   float64
}

func mergeRow(r []entry) []entry {
	slices.SortFunc(r, func(x, y entry) int { return int(x.col - y.col) })
	out := r[:0]
	for _, e := range r {
		if len(out) > 0 && out[len(out)-1].col == e.col {
			out[len(out)-1].v += e.v
			continue
		}
		out = append(out, e)
	}
	return out
}

func normalizeRow(r []entry) []entry {
	var s float64
	for _, e := range r {
		s += e.v * e.v
	}
	if s == 0 {
		return r
	}
	s = 1 / math.Sqrt(s)
	for i := range r {
		r[i].v *= s
	}
	return r
}

// Tokens splits text into lower-case words of letters and digits, dropping
// one-character words.
func Tokens(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := f[:0]
	for _, t := range f {
		if len(t) > 1 {
			out = append(out, t)
		}
	}
	return out
}

// titleMatrix returns each item's L2-normalised TF-IDF vector of its title,
// category and text, over the words that occur in at least two items and at
// most half of them.
func titleMatrix(items []Item) ([][]entry, int) {
	n := len(items)
	df := map[string]int{}
	toks := make([][]string, n)
	for i, it := range items {
		t := Tokens(it.Title + " " + it.Category + " " + it.Text)
		toks[i] = t
		seen := map[string]bool{}
		for _, w := range t {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	words := make([]string, 0, len(df))
	for w, c := range df {
		if c >= 2 && c <= n/2 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	col := make(map[string]int32, len(words))
	for i, w := range words {
		col[w] = int32(i)
	}
	out := make([][]entry, n)
	for i, t := range toks {
		var r []entry
		for _, w := range t {
			if c, ok := col[w]; ok {
				r = append(r, entry{c, math.Log(float64(n) / float64(df[w]))})
			}
		}
		out[i] = normalizeRow(mergeRow(r))
	}
	return out, len(words)
}

// truncatedSVD returns the n×dims matrix U·Σ of the rank-dims randomized SVD
// (one power iteration) of the sparse n×cols matrix rows, each output row
// L2-normalised.
func truncatedSVD(rows [][]entry, cols, dims int, seed uint64) []float32 {
	n := len(rows)
	r := min(dims+10, max(n, 1))
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	omega := make([]float64, cols*r)
	for i := range omega {
		omega[i] = rng.NormFloat64()
	}
	// Y = X Ω, then one power iteration Y = X (Xᵀ Q).
	y := mulRows(rows, omega, n, r)
	orthonormalize(y, n, r)
	z := mulRowsT(rows, y, cols, r)
	y = mulRows(rows, z, n, r)
	orthonormalize(y, n, r)
	z = mulRowsT(rows, y, cols, r) // Z = Xᵀ Q, so B Bᵀ = Zᵀ Z
	bbt := make([]float64, r*r)
	for c := range cols {
		zc := z[c*r : (c+1)*r]
		for i, zi := range zc {
			if zi == 0 {
				continue
			}
			row := bbt[i*r : (i+1)*r]
			for j, zj := range zc {
				row[j] += zi * zj
			}
		}
	}
	vals, vecs := linalg.SymEigen(bbt, r)
	order := linalg.Descending(vals)
	// U Σ = Q W Σ, with Σ = sqrt(eigenvalues).
	k := min(dims, r)
	out := make([]float32, n*dims)
	for i := range n {
		qi := y[i*r : (i+1)*r]
		o := out[i*dims : (i+1)*dims]
		var norm float64
		tmp := make([]float64, k)
		for d := range k {
			col := order[d]
			var s float64
			for j, q := range qi {
				s += q * vecs[j*r+col]
			}
			s *= math.Sqrt(max(vals[col], 0))
			tmp[d] = s
			norm += s * s
		}
		if norm > 0 {
			norm = 1 / math.Sqrt(norm)
			for d := range k {
				o[d] = float32(tmp[d] * norm)
			}
		}
	}
	return out
}

// mulRows returns X·M for sparse X (n rows) and dense M (cols×r).
func mulRows(rows [][]entry, m []float64, n, r int) []float64 {
	out := make([]float64, n*r)
	for i, row := range rows {
		o := out[i*r : (i+1)*r]
		for _, e := range row {
			mr := m[int(e.col)*r : (int(e.col)+1)*r]
			for j := range o {
				o[j] += e.v * mr[j]
			}
		}
	}
	return out
}

// mulRowsT returns Xᵀ·M for sparse X (n rows, cols columns) and dense M (n×r).
func mulRowsT(rows [][]entry, m []float64, cols, r int) []float64 {
	out := make([]float64, cols*r)
	for i, row := range rows {
		mi := m[i*r : (i+1)*r]
		for _, e := range row {
			o := out[int(e.col)*r : (int(e.col)+1)*r]
			for j := range o {
				o[j] += e.v * mi[j]
			}
		}
	}
	return out
}

// orthonormalize makes the r columns of the n×r row-major matrix a
// orthonormal (modified Gram–Schmidt, twice for stability). A column that
// vanishes is left zero. It works on a column-major copy so that every inner
// loop runs over contiguous memory.
func orthonormalize(a []float64, n, r int) {
	cols := make([][]float64, r)
	for j := range cols {
		c := make([]float64, n)
		for i := range n {
			c[i] = a[i*r+j]
		}
		cols[j] = c
	}
	for pass := 0; pass < 2; pass++ {
		for j, cj := range cols {
			for _, cp := range cols[:j] {
				var dot float64
				for i, x := range cj {
					dot += x * cp[i]
				}
				for i, y := range cp {
					cj[i] -= dot * y
				}
			}
			var s float64
			for _, x := range cj {
				s += x * x
			}
			if s < 1e-20 {
				clear(cj)
				continue
			}
			s = 1 / math.Sqrt(s)
			for i := range cj {
				cj[i] *= s
			}
		}
	}
	for j, c := range cols {
		for i, x := range c {
			a[i*r+j] = x
		}
	}
}

// quantize converts n vectors of dims float32s to int8 with one scale per
// vector (max |x| / 127).
func quantize(v []float32, n, dims int) ([]int8, []float32) {
	q := make([]int8, n*dims)
	scales := make([]float32, n)
	for i := range n {
		row := v[i*dims : (i+1)*dims]
		var m float32
		for _, x := range row {
			m = max(m, float32(math.Abs(float64(x))))
		}
		if m == 0 {
			continue
		}
		s := m / 127
		scales[i] = s
		for j, x := range row {
			q[i*dims+j] = int8(math.Round(float64(x / s)))
		}
	}
	return q, scales
}
