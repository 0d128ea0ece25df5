// Package embed is the query-text embedder that runs at the edge: a
// WordPiece tokenizer and an int8 token table with one float32 scale per
// row. A text's vector is the mean of its tokens' rows, L2-normalised.
//
// The hub trains or distils the table (hub/embed), exports it as an ONNX
// model directory that hugot loads, and ships the same table in the snapshot
// section "embedder" so an edge can embed a search query itself, with no
// ONNX runtime. The two paths agree: the tokenizer here reproduces exactly
// what hugot's pure-Go tokenizer does with the exported tokenizer.json
// (BertNormalizer with lower-casing and no accent stripping, the
// BertPreTokenizer and a WordPiece model without special tokens), and the
// exported graph pools exactly the first MaxTokens tokens, as Embed does.
//
// The package is pure Go (no I/O, clock or platform code) and builds for
// GOOS=js and GOOS=wasip1.
package embed

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Special tokens. Every vocabulary starts with them, at these ids.
const (
	// PadToken fills the padding positions of a batch; its row is ignored
	// by the attention mask.
	PadToken = "[PAD]"
	// UnkToken stands for a word the vocabulary cannot spell. The
	// hub leaves its row zero, so unknown words count for nothing.
	UnkToken = "[UNK]"
	// PadID and UnkID are the ids of PadToken and UnkToken.
	PadID = 0
	UnkID = 1
)

// Tokenizer and size limits.
const (
	// ContinuingPrefix marks a vocabulary entry that continues a word
	// ("##s" in "lipstick ##s").
	ContinuingPrefix = "##"
	// MaxWordBytes is the longest word, in bytes after normalisation, that
	// is split into pieces; a longer word is one UnkToken. hugot's pure-Go
	// tokenizer counts bytes here (the Rust tokenizers count characters;
	// they agree on ASCII).
	MaxWordBytes = 100
	// MaxTokenBytes bounds one vocabulary entry.
	MaxTokenBytes = MaxWordBytes + len(ContinuingPrefix)
	// MaxDims bounds the vector length.
	MaxDims = 1024
	// MaxVocab bounds the vocabulary size.
	MaxVocab = 1 << 20
	// MaxTableBytes bounds the int8 table (vocabulary × dims).
	MaxTableBytes = 256 << 20
	// MaxTokensLimit bounds MaxTokens.
	MaxTokensLimit = 1 << 16
	// DefaultMaxTokens is the truncation length the hub uses: a text's
	// vector pools its first DefaultMaxTokens tokens.
	DefaultMaxTokens = 256
)

// ErrInvalid is wrapped by every error about a malformed embedder.
var ErrInvalid = errors.New("embed: invalid embedder")

// Embedder maps text to vectors. It is immutable after construction and
// safe for concurrent use.
type Embedder struct {
	vocab     []string
	words     map[string]int32 // entries that start a word
	cont      map[string]int32 // ContinuingPrefix entries, keyed without the prefix
	dims      int
	maxTokens int
	table     []int8    // len(vocab)*dims
	scales    []float32 // len(vocab)
}

// New returns an embedder over vocab (vocab[PadID] must be PadToken and
// vocab[UnkID] UnkToken; entries unique, valid UTF-8, at most MaxTokenBytes
// long) with row i of the table at table[i*dims:(i+1)*dims], its value
// scaled by scales[i]. A text pools at most maxTokens tokens. New keeps the
// slices; the caller must not change them afterwards.
func New(vocab []string, dims int, table []int8, scales []float32, maxTokens int) (*Embedder, error) {
	switch {
	case dims < 1 || dims > MaxDims:
		return nil, fmt.Errorf("%w: dims %d outside [1, %d]", ErrInvalid, dims, MaxDims)
	case maxTokens < 1 || maxTokens > MaxTokensLimit:
		return nil, fmt.Errorf("%w: max tokens %d outside [1, %d]", ErrInvalid, maxTokens, MaxTokensLimit)
	case len(vocab) < 2 || len(vocab) > MaxVocab:
		return nil, fmt.Errorf("%w: vocabulary of %d entries outside [2, %d]", ErrInvalid, len(vocab), MaxVocab)
	case vocab[PadID] != PadToken || vocab[UnkID] != UnkToken:
		return nil, fmt.Errorf("%w: vocabulary must start with %s and %s, got %q and %q", ErrInvalid, PadToken, UnkToken, vocab[PadID], vocab[UnkID])
	case int64(len(vocab))*int64(dims) > MaxTableBytes:
		return nil, fmt.Errorf("%w: table of %d×%d exceeds %d bytes", ErrInvalid, len(vocab), dims, MaxTableBytes)
	case len(table) != len(vocab)*dims:
		return nil, fmt.Errorf("%w: table has %d values, want %d×%d", ErrInvalid, len(table), len(vocab), dims)
	case len(scales) != len(vocab):
		return nil, fmt.Errorf("%w: %d scales for %d entries", ErrInvalid, len(scales), len(vocab))
	}
	e := &Embedder{
		vocab: vocab, dims: dims, maxTokens: maxTokens, table: table, scales: scales,
		words: make(map[string]int32, len(vocab)),
		cont:  make(map[string]int32),
	}
	for i, tok := range vocab {
		if tok == "" || len(tok) > MaxTokenBytes || !utf8.ValidString(tok) {
			return nil, fmt.Errorf("%w: vocabulary entry %d (%.40q) is empty, longer than %d bytes or not UTF-8", ErrInvalid, i, tok, MaxTokenBytes)
		}
		if s := scales[i]; !(s >= 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("%w: scale of entry %d (%q) is %v, want finite and non-negative", ErrInvalid, i, tok, s)
		}
		m, key := e.words, tok
		if rest, ok := strings.CutPrefix(tok, ContinuingPrefix); ok {
			m, key = e.cont, rest
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("%w: vocabulary entry %q appears twice", ErrInvalid, tok)
		}
		m[key] = int32(i)
	}
	return e, nil
}

// Quantize returns an embedder whose table is weights (len(vocab)*dims
// float32s, row-major) quantised to int8 with one scale per row, max|x|/127.
// A row of zeros keeps scale 0.
func Quantize(vocab []string, dims int, weights []float32, maxTokens int) (*Embedder, error) {
	if dims < 1 || len(weights) != len(vocab)*dims {
		return nil, fmt.Errorf("%w: %d weights for %d entries of %d dims", ErrInvalid, len(weights), len(vocab), dims)
	}
	q := make([]int8, len(weights))
	scales := make([]float32, len(vocab))
	for i := range vocab {
		row := weights[i*dims : (i+1)*dims]
		var m float64
		for _, x := range row {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%w: weight of entry %d (%q) is %v", ErrInvalid, i, vocab[i], x)
			}
			m = max(m, math.Abs(float64(x)))
		}
		if m == 0 {
			continue
		}
		s := float32(m / 127)
		if s == 0 { // subnormal rows round to nothing
			continue
		}
		scales[i] = s
		for j, x := range row {
			v := math.Round(float64(x) / float64(s))
			q[i*dims+j] = int8(max(-127, min(127, v)))
		}
	}
	return New(vocab, dims, q, scales, maxTokens)
}

// Dims returns the vector length.
func (e *Embedder) Dims() int { return e.dims }

// MaxTokens returns how many leading tokens of a text are pooled.
func (e *Embedder) MaxTokens() int { return e.maxTokens }

// Len returns the vocabulary size.
func (e *Embedder) Len() int { return len(e.vocab) }

// Token returns vocabulary entry id.
func (e *Embedder) Token(id int) string { return e.vocab[id] }

// Vocab returns the vocabulary, entry i having id i. The slice is shared:
// do not modify it.
func (e *Embedder) Vocab() []string { return e.vocab }

// Table returns the int8 table (row i at [i*Dims():(i+1)*Dims()]) and the
// per-row scales. The slices are shared: do not modify them.
func (e *Embedder) Table() ([]int8, []float32) { return e.table, e.scales }

// Row appends the dequantised row id to dst[:0] and returns it.
func (e *Embedder) Row(id int, dst []float32) []float32 {
	dst = dst[:0]
	s := e.scales[id]
	for _, q := range e.table[id*e.dims : (id+1)*e.dims] {
		dst = append(dst, float32(q)*s)
	}
	return dst
}

// Embed returns the vector of text in dst[:Dims()] (allocating only when
// dst is too short): the mean of the rows of its first MaxTokens() tokens,
// L2-normalised. A text with no tokens, or only zero rows, gives the zero
// vector.
func (e *Embedder) Embed(text string, dst []float32) []float32 {
	if cap(dst) < e.dims {
		dst = make([]float32, e.dims)
	}
	dst = dst[:e.dims]
	clear(dst)
	n := 0
	e.tokenize(text, func(id int32) bool {
		// The same arithmetic as the exported graph: Cast(int8) * scale,
		// summed in float32.
		if s := e.scales[id]; s != 0 {
			row := e.table[int(id)*e.dims : (int(id)+1)*e.dims]
			for j, q := range row {
				dst[j] += float32(q) * s
			}
		}
		n++
		return n < e.maxTokens
	})
	if n == 0 {
		return dst
	}
	inv := 1 / float32(n)
	var ss float64
	for j, x := range dst {
		x *= inv
		dst[j] = x
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return dst
	}
	norm := float32(1 / math.Sqrt(ss))
	for j := range dst {
		dst[j] *= norm
	}
	return dst
}

// Tokenize appends the ids of text's first MaxTokens() tokens to dst and
// returns it — the input_ids hugot feeds the exported model, truncated as
// the model truncates them.
func (e *Embedder) Tokenize(text string, dst []int32) []int32 {
	n := 0
	e.tokenize(text, func(id int32) bool {
		dst = append(dst, id)
		n++
		return n < e.maxTokens
	})
	return dst
}
