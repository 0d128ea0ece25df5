package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
	"github.com/aisle-rec/aisle/wasm"
)

// wasmLoader loads each snapshot into a fresh pool of wazero instances of the
// ranking module, so an edge swaps indexes the same way whatever ranks them:
// the new pool is built and checked while the old one keeps serving, and
// the old one is closed once the last request holding it has finished.
type wasmLoader struct{ cfg wasm.Config }

func newWasmLoader(cacheDir string) (*wasmLoader, error) {
	cfg := wasm.DefaultConfig()
	cfg.CacheDir = cacheDir
	// A rank finishes in well under a millisecond; checking for
	// cancellation inside the guest would cost several times that. A call
	// whose context is already done still fails at once.
	cfg.Interruptible = false
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &wasmLoader{cfg: cfg}, nil
}

// Load implements edge.Loader.
func (l *wasmLoader) Load(ctx context.Context, b []byte) (edge.Ranker, error) {
	info, err := snapshot.ReadInfo(b, snapshot.DefaultLimits())
	if err != nil {
		return nil, err
	}
	rt, err := wasm.New(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	if err := rt.Load(ctx, b); err != nil {
		_ = rt.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if rt.Version() != info.Version {
		_ = rt.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("wasm: loaded %s, want %s", rt.Version(), info.Version)
	}
	r := &wasmRanker{rt: rt, info: info}
	runtime.AddCleanup(r, func(rt *wasm.Runtime) { _ = rt.Close(context.Background()) }, rt)
	return r, nil
}

// wasmRanker is one loaded snapshot in a pool of wazero instances.
type wasmRanker struct {
	rt   *wasm.Runtime
	info snapshot.Info
}

func (r *wasmRanker) Rank(ctx context.Context, req *wire.RecommendRequest, resp *wire.RecommendResponse) error {
	out, err := r.rt.Rank(ctx, req)
	if err != nil {
		return err
	}
	*resp = *out
	return nil
}

func (r *wasmRanker) Version() string { return r.info.Version }
func (r *wasmRanker) Items() int      { return r.info.Items }
func (r *wasmRanker) Built() int64    { return r.info.Built }
func (r *wasmRanker) Region() string  { return r.info.Region }

// wazeroCache is where compiled modules are kept between runs.
func wazeroCache(dataDir string) string { return filepath.Join(dataDir, "wazero-cache") }
