package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/options"
	"github.com/knights-analytics/hugot/pipelines"
)

// Model embeds texts. Implementations return one vector per text, all of
// the same length.
type Model interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// HugotOptions tunes OpenHugot.
type HugotOptions struct {
	// BatchSize is how many texts go through the pipeline at once.
	BatchSize int
	// Raw returns the model's vectors as they come (mean-pooled when the
	// model outputs token vectors); by default they are L2-normalised,
	// a zero vector staying zero.
	Raw bool
	// SequenceBuckets pads the sequence length up to the next bucket so the
	// Go backend compiles fewer shapes; nil lets each batch keep its own
	// length (hugot's default for the Go backend).
	SequenceBuckets []int
}

// DefaultHugotOptions returns the options OpenHugot uses.
func DefaultHugotOptions() HugotOptions { return HugotOptions{BatchSize: 256} }

// Validate reports the first invalid field.
func (o HugotOptions) Validate() error {
	if o.BatchSize < 1 || o.BatchSize > 1<<16 {
		return fmt.Errorf("embed: hugot batch size %d outside [1, 65536]", o.BatchSize)
	}
	for i, b := range o.SequenceBuckets {
		if b < 1 || i > 0 && b <= o.SequenceBuckets[i-1] {
			return fmt.Errorf("embed: hugot sequence buckets %v must be positive and increasing", o.SequenceBuckets)
		}
	}
	return nil
}

// Hugot is a Model that runs a Hugging Face ONNX sentence-embedding model
// directory through hugot's feature-extraction pipeline on the pure-Go
// backend (no cgo, no native libraries). Embed may be called from several
// goroutines; Close, once no Embed is running, releases the session.
type Hugot struct {
	session *hugot.Session
	pipe    *pipelines.FeatureExtractionPipeline
	dims    int
	opt     HugotOptions
	closed  atomic.Bool
	// tokenLevel marks a [batch, seq, dims] output, which hugot pools.
	tokenLevel bool
}

var pipelineSeq atomic.Uint64

// OpenHugot loads the model directory dir — one *.onnx file with inputs
// named input_ids, attention_mask (and optionally token_type_ids), a
// tokenizer.json, and optionally config.json — with DefaultHugotOptions.
// The first output is used; a [batch, seq, dims] output is mean-pooled over
// the attention mask, a [batch, dims] one taken as is. ExportONNX writes
// such a directory; an exported all-MiniLM-L6-v2 is another.
func OpenHugot(dir string) (*Hugot, error) {
	return OpenHugotWith(dir, DefaultHugotOptions())
}

// OpenHugotWith is OpenHugot with options.
func OpenHugotWith(dir string, opt HugotOptions) (*Hugot, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := checkModelDir(dir); err != nil {
		return nil, err
	}
	var sopts []options.WithOption
	if len(opt.SequenceBuckets) > 0 {
		sopts = append(sopts, options.WithGoMLXSequenceBuckets(opt.SequenceBuckets))
	}
	session, err := hugot.NewGoSession(context.Background(), sopts...)
	if err != nil {
		return nil, fmt.Errorf("embed: hugot session: %w", err)
	}
	pipe, err := newPipeline(session, dir)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("embed: load %s with hugot: %w", dir, err), session.Destroy())
	}
	dimsMeta := pipe.Output.Dimensions
	d := int64(-1)
	if len(dimsMeta) > 0 {
		d = dimsMeta[len(dimsMeta)-1]
	}
	if d <= 0 || len(dimsMeta) < 2 || len(dimsMeta) > 3 {
		return nil, errors.Join(fmt.Errorf("embed: %s: output %q has shape %v; want [batch, dims] or [batch, seq, dims] with a fixed last dimension", dir, pipe.Output.Name, dimsMeta), session.Destroy())
	}
	return &Hugot{session: session, pipe: pipe, dims: int(d), opt: opt, tokenLevel: len(dimsMeta) == 3}, nil
}

// newPipeline creates the feature-extraction pipeline, turning a panic
// inside the ONNX converter (an unsupported operator) into an error.
func newPipeline(session *hugot.Session, dir string) (pipe *pipelines.FeatureExtractionPipeline, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("model conversion failed: %v", r)
		}
	}()
	return hugot.NewPipeline(session, hugot.FeatureExtractionConfig{
		ModelPath: dir,
		Name:      fmt.Sprintf("aisle-embed-%d", pipelineSeq.Add(1)),
	})
}

// checkModelDir gives a clear error for the common mistakes before hugot
// gives an obscure one.
func checkModelDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("embed: model directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("embed: model directory %s is not a directory", dir)
	}
	onnx, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil {
		return fmt.Errorf("embed: model directory %s: %w", dir, err)
	}
	switch len(onnx) {
	case 0:
		return fmt.Errorf("embed: model directory %s has no .onnx file (export the model to ONNX first)", dir)
	case 1:
	default:
		return fmt.Errorf("embed: model directory %s has %d .onnx files; keep exactly one", dir, len(onnx))
	}
	if _, err := os.Stat(filepath.Join(dir, TokenizerFile)); err != nil {
		return fmt.Errorf("embed: model directory %s needs a %s (WordPiece, BPE or Unigram): %w", dir, TokenizerFile, err)
	}
	return nil
}

// Dims returns the vector length.
func (h *Hugot) Dims() int { return h.dims }

// Embed implements Model.
func (h *Hugot) Embed(ctx context.Context, texts []string) (out [][]float32, err error) {
	if h.closed.Load() {
		return nil, errors.New("embed: hugot model is closed")
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("embed: hugot pipeline failed: %v", r)
		}
	}()
	// Batches of texts of similar length waste less on padding: a batch is
	// as long as its longest text.
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(texts[a]), len(texts[b])) })
	out = make([][]float32, len(texts))
	if h.tokenLevel {
		// hugot v0.7.7 panics mean-pooling a text without a single token
		// (possible when the tokenizer adds no [CLS]/[SEP]); such a text's
		// vector is zero.
		order = slices.DeleteFunc(order, func(i int) bool {
			if h.tokenCount(texts[i]) == 0 {
				out[i] = make([]float32, h.dims)
				return true
			}
			return false
		})
	}
	batch := make([]string, 0, min(h.opt.BatchSize, len(texts)))
	for start := 0; start < len(order); start += h.opt.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := order[start:min(start+h.opt.BatchSize, len(order))]
		batch = batch[:0]
		for _, i := range idx {
			batch = append(batch, texts[i])
		}
		res, err := h.pipe.RunPipeline(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed: hugot: batch of %d texts: %w", len(batch), err)
		}
		if len(res.Embeddings) != len(batch) {
			return nil, fmt.Errorf("embed: hugot returned %d vectors for %d texts", len(res.Embeddings), len(batch))
		}
		for k, v := range res.Embeddings {
			if len(v) != h.dims {
				return nil, fmt.Errorf("embed: hugot: text %d: vector of %d values, want %d", idx[k], len(v), h.dims)
			}
			if !h.opt.Raw {
				normalize(v)
			}
			out[idx[k]] = v
		}
	}
	return out, nil
}

// tokenCount returns how many tokens the model's tokenizer makes of text,
// or -1 when it cannot tell.
func (h *Hugot) tokenCount(text string) int {
	tk := h.pipe.Model.Tokenizer
	if tk == nil || tk.GoTokenizer == nil || tk.GoTokenizer.Tokenizer == nil {
		return -1
	}
	return len(tk.GoTokenizer.Tokenizer.Encode(text))
}

// Close releases the hugot session. It is safe to call more than once.
func (h *Hugot) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	if err := h.session.Destroy(); err != nil {
		return fmt.Errorf("embed: close hugot session: %w", err)
	}
	return nil
}

// normalize scales v to unit length in place; a zero (or non-finite)
// vector becomes zero.
func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 || math.IsInf(ss, 0) || math.IsNaN(ss) {
		clear(v)
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
}
