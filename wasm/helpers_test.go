package wasm

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// cacheDir is a compilation cache shared by the tests' runtimes, so that
// only the first one compiles the module.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aisle-wasm-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goldenSnapshotArgs are the snapshot.Synthetic arguments of the snapshot
// the golden responses were ranked from (see testdata/golden/snapshot.json).
var goldenSnapshotArgs = synthArgs{N: 2000, Dims: 64, Nbrs: 20, Clusters: 16, Seed: 1}

type synthArgs struct {
	N, Dims, Nbrs, Clusters int
	Seed                    uint64
}

// fixture is an encoded snapshot and the native index ranking from it.
type fixture struct {
	args  synthArgs
	bytes []byte
	snap  *snapshot.Snapshot
	index *rank.Index
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[synthArgs]*fixture{}
)

// synth returns the (cached) fixture for a. The native index ranks from the
// decoded bytes, exactly what the guest sees.
func synth(tb testing.TB, a synthArgs) *fixture {
	tb.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[a]; ok {
		return f
	}
	b, err := snapshot.Encode(snapshot.Synthetic(a.N, a.Dims, a.Nbrs, a.Clusters, a.Seed), snapshot.EncodeOptions{Compress: true})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	x, err := rank.New(s, rank.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{args: a, bytes: b, snap: s, index: x}
	fixtures[a] = f
	return f
}

// native ranks req with the native core and encodes the answer as the
// guest must.
func (f *fixture) native(tb testing.TB, req *wire.RecommendRequest) []byte {
	tb.Helper()
	var resp wire.RecommendResponse
	if err := f.index.Rank(req, &resp); err != nil {
		tb.Fatalf("native rank: %v", err)
	}
	b, err := wire.MarshalResponse(&resp)
	if err != nil {
		tb.Fatalf("native marshal: %v", err)
	}
	return b
}

// newRuntime starts a runtime with n instances and the test cache, loaded
// with f when f is not nil, and closes it when the test ends.
func newRuntime(tb testing.TB, n int, f *fixture) *Runtime {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Instances = n
	return newRuntimeConfig(tb, cfg, f)
}

// newRuntimeConfig is newRuntime with a whole config (its CacheDir is
// replaced by the tests' cache).
func newRuntimeConfig(tb testing.TB, cfg Config, f *fixture) *Runtime {
	tb.Helper()
	cfg.CacheDir = cacheDir
	ctx := context.Background()
	r, err := New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	if f != nil {
		if err := r.Load(ctx, f.bytes); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// takeAll takes every instance out of r's pool, for inspection, and puts
// them back when the test ends.
func (r *Runtime) takeAll(tb testing.TB) []*instance {
	tb.Helper()
	all := make([]*instance, 0, r.cfg.Instances)
	for range r.cfg.Instances {
		all = append(all, <-r.pool)
	}
	return all
}

func (r *Runtime) putAll(all []*instance) {
	for _, in := range all {
		r.pool <- in
	}
}

// marshalRequest encodes req or fails the test.
func marshalRequest(tb testing.TB, req *wire.RecommendRequest) []byte {
	tb.Helper()
	b, err := wire.MarshalRequest(req)
	if err != nil {
		tb.Fatalf("marshal request: %v", err)
	}
	return b
}
