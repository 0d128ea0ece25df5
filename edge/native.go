package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// NativeRanker is a Ranker that runs the ranking core as native Go.
type NativeRanker struct {
	x *rank.Index
}

// Trim drops what the index rebuilds when it needs it (rank.Index.Trim).
func (r *NativeRanker) Trim() { r.x.Trim() }

// NewNativeRanker wraps a prepared index.
func NewNativeRanker(x *rank.Index) (*NativeRanker, error) {
	if x == nil {
		return nil, errors.New("edge: native ranker: nil index")
	}
	return &NativeRanker{x: x}, nil
}

// Rank answers req into resp with the ranking core. It returns ctx's error
// if ctx is already done, and otherwise never blocks.
func (r *NativeRanker) Rank(ctx context.Context, req *wire.RecommendRequest, resp *wire.RecommendResponse) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.x.Rank(req, resp)
}

// Version returns the snapshot's version (hex SHA-256 of its bytes).
func (r *NativeRanker) Version() string { return r.x.Snapshot().Version }

// Items returns the number of items in the index.
func (r *NativeRanker) Items() int { return r.x.Snapshot().Len() }

// Built returns when the snapshot was built, Unix milliseconds.
func (r *NativeRanker) Built() int64 { return r.x.Snapshot().Built }

// Region returns the region the snapshot was built for.
func (r *NativeRanker) Region() string { return r.x.Snapshot().Region }

// Index returns the underlying index.
func (r *NativeRanker) Index() *rank.Index { return r.x }

// NativeLoader is a Loader that decodes snapshots with shared/snapshot (graph
// weights compact) and prepares them with shared/rank. The zero value uses
// snapshot.DefaultLimits and rank.DefaultConfig.
type NativeLoader struct {
	// Limits bound what Decode accepts; zero fields take their defaults.
	Limits snapshot.Limits
	// Rank tunes the ranking core; the zero Config means
	// rank.DefaultConfig().
	Rank rank.Config
	// Inflate, when set, inflates deflated snapshot bodies instead of
	// compress/flate (see snapshot.DecodeOptions): the Workers build plugs
	// in a faster implementation.
	Inflate func(r io.Reader) io.ReadCloser
	// NewHasher, when set, computes a snapshot's SHA-256 sums instead of
	// crypto/sha256 (see snapshot.DecodeOptions): the Workers build hands
	// the bytes to the runtime's native digest.
	NewHasher func(n int) snapshot.Hasher
	// Collect runs the garbage collector once between decoding and
	// building the index, so that the snapshot bytes, no longer needed,
	// are freed before the index allocates. In Wasm, whose memory never
	// shrinks, that lowers the high-water mark by about the snapshot's
	// size (76 → 64 MiB for a 19 MB snapshot in workerd); the collection
	// takes about 15 ms there.
	Collect bool
}

// Load decodes b and builds a NativeRanker from it.
func (l NativeLoader) Load(ctx context.Context, b []byte) (Ranker, error) {
	return l.load(ctx, b, "")
}

// LoadVersion is Load for bytes that must hash to version: it checks that
// in the same pass over b as the snapshot's own checksum
// (snapshot.DecodeVersion). A mismatch is an error wrapping ErrMismatch.
func (l NativeLoader) LoadVersion(ctx context.Context, b []byte, version string) (Ranker, error) {
	if version == "" {
		return nil, fmt.Errorf("%w: no version given", ErrMismatch)
	}
	return l.load(ctx, b, version)
}

// LoadStream is LoadVersion for the n bytes r yields, decoded as they
// arrive (snapshot.DecodeReader): the bytes are never held whole.
func (l NativeLoader) LoadStream(ctx context.Context, r io.Reader, n int, version string) (Ranker, error) {
	if version == "" {
		return nil, fmt.Errorf("%w: no version given", ErrMismatch)
	}
	if hb, ok := r.(heldBody); ok && hb.Len() == len(hb.b) && n == len(hb.b) {
		return l.load(ctx, hb.b, version) // in memory already: decode in place
	}
	return l.decode(ctx, version, func(opt snapshot.DecodeOptions) (*snapshot.Snapshot, error) {
		return snapshot.DecodeReader(r, n, opt)
	})
}

func (l NativeLoader) load(ctx context.Context, b []byte, version string) (Ranker, error) {
	return l.decode(ctx, version, func(opt snapshot.DecodeOptions) (*snapshot.Snapshot, error) {
		return snapshot.DecodeWith(b, opt)
	})
}

func (l NativeLoader) decode(ctx context.Context, version string, decode func(snapshot.DecodeOptions) (*snapshot.Snapshot, error)) (Ranker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := l.Rank
	if cfg == (rank.Config{}) {
		cfg = rank.DefaultConfig()
	}
	// The index only ranks with the graph weights: keep them as the
	// format's one-byte codes, a quarter of the memory.
	if l.Collect {
		// What decoding allocates stays live (it is the index) until the
		// collection below, so collections during it would find nothing
		// to free: leave them to the memory limit alone.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
	}
	s, err := decode(snapshot.DecodeOptions{Limits: l.Limits, Version: version, Inflate: l.Inflate, NewHasher: l.NewHasher, CompactWeights: true})
	if errors.Is(err, snapshot.ErrMismatch) {
		return nil, fmt.Errorf("%w: asked for %s: %w", ErrMismatch, short(version), err)
	}
	if err != nil {
		return nil, err
	}
	if l.Collect {
		// Nothing refers to the snapshot's bytes any more (the snapshot
		// holds no reference to them, and the caller does not use them
		// after Load).
		runtime.GC()
	}
	x, err := rank.New(s, cfg)
	if err != nil {
		return nil, fmt.Errorf("edge: prepare index: %w", err)
	}
	return &NativeRanker{x: x}, nil
}
