package wasm

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/aisle-rec/aisle/shared/wire"
)

// module is the ranker built from wasm/guest by go generate.
//
//go:embed ranker.wasm
var module []byte

// PageSize is the size of a Wasm memory page, the unit of
// Config.MemoryLimitPages.
const PageSize = 64 << 10

// Errors that callers branch on; test them with errors.Is.
var (
	// ErrClosed: the Runtime was closed.
	ErrClosed = errors.New("runtime closed")
	// ErrNoSnapshot: Rank was called before any Load succeeded.
	ErrNoSnapshot = errors.New("no snapshot loaded")
	// ErrBadSnapshot: the guest rejected the snapshot (snapshot.Decode or
	// rank.New failed); the previous snapshot stays in use.
	ErrBadSnapshot = errors.New("bad snapshot")
	// ErrBadRequest: the request is not a valid msgpack RecommendRequest.
	ErrBadRequest = errors.New("bad request")
	// ErrOutOfMemory: a guest instance needed more than
	// Config.MemoryLimitPages.
	ErrOutOfMemory = errors.New("guest out of memory")
	// ErrTrap: a guest instance trapped or exited; it was replaced.
	ErrTrap = errors.New("guest trapped")
)

// Config sizes a Runtime. Start from DefaultConfig.
type Config struct {
	// Instances is the number of module instances in the pool: the most
	// Rank calls that run at once. Each holds its own decoded copy of the
	// snapshot.
	Instances int
	// MemoryLimitPages caps each instance's linear memory, in 64 KiB pages
	// (65536 pages is 4 GiB, the most a Wasm memory can have). A snapshot
	// that does not fit fails to load with ErrOutOfMemory.
	MemoryLimitPages uint32
	// CacheDir, when set, is a directory where wazero keeps the compiled
	// machine code, so that a later process starts in tens of milliseconds
	// instead of about a second. Empty means compile in memory.
	CacheDir string
	// Interruptible aborts a guest call as soon as its context is done
	// (wazero's WithCloseOnContextDone), killing and replacing the
	// instance. It costs about 5x per Rank call: wazero then calls a
	// check at every loop back-edge of the guest. Without it, a call whose
	// context is already done fails at once, and a call in progress
	// finishes (a Rank takes well under a millisecond).
	Interruptible bool
}

// DefaultConfig returns one instance per CPU (at most 8) with 1 GiB of
// memory each, no compilation cache on disk, and interruptible calls.
func DefaultConfig() Config {
	return Config{
		Instances:        min(runtime.GOMAXPROCS(0), 8),
		MemoryLimitPages: 16384,
		CacheDir:         "",
		Interruptible:    true,
	}
}

// Validate reports the first invalid field. MemoryLimitPages must be at
// least the embedded module's initial memory (48 pages, 3 MiB, today).
func (c Config) Validate() error {
	switch {
	case c.Instances < 1 || c.Instances > 1024:
		return fmt.Errorf("wasm: config: instances %d outside [1, 1024]", c.Instances)
	case c.MemoryLimitPages < 1 || c.MemoryLimitPages > 65536:
		return fmt.Errorf("wasm: config: memory limit %d pages outside [1, 65536]", c.MemoryLimitPages)
	}
	if least, err := minPages(); err != nil {
		return fmt.Errorf("wasm: config: read ranker.wasm: %w", err)
	} else if c.MemoryLimitPages < least {
		return fmt.Errorf("wasm: config: memory limit %d pages (%d KiB) is below the module's minimum of %d pages (%d KiB): raise MemoryLimitPages",
			c.MemoryLimitPages, c.MemoryLimitPages*64, least, least*64)
	}
	return nil
}

// Runtime runs the embedded ranker module: it compiles it once, keeps a
// pool of Config.Instances instances, loads snapshots into all of them and
// ranks requests on whichever is free. It is safe for concurrent use.
type Runtime struct {
	cfg      Config
	rt       wazero.Runtime
	cache    wazero.CompilationCache // nil without Config.CacheDir
	compiled wazero.CompiledModule

	// pool holds the instances not in use; every instance is always either
	// in pool or held by one caller (which may be repairing it).
	pool  chan *instance
	done  chan struct{} // closed by Close
	close sync.Once

	loadMu sync.Mutex // serialises Load

	mu   sync.RWMutex
	cur  state  // the last good snapshot
	gens uint64 // the last generation handed out, under mu
}

// state is a snapshot the instances may hold: its bytes, its version and a
// generation number unique to one Load attempt (0: no snapshot).
type state struct {
	bytes   []byte
	version string
	gen     uint64
}

// New compiles the embedded module and starts cfg.Instances instances,
// with no snapshot loaded yet: call Load before Rank. ctx bounds the
// compilation and instantiation.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(cfg.MemoryLimitPages).
		WithCloseOnContextDone(cfg.Interruptible)
	r := &Runtime{
		cfg:  cfg,
		pool: make(chan *instance, cfg.Instances),
		done: make(chan struct{}),
	}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm: compilation cache %s: %w", cfg.CacheDir, err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := r.start(ctx); err != nil {
		_ = r.rt.Close(context.WithoutCancel(ctx))
		if r.cache != nil {
			_ = r.cache.Close(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	return r, nil
}

func (r *Runtime) start(ctx context.Context) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		return fmt.Errorf("wasm: instantiate WASI: %w", err)
	}
	compiled, err := r.rt.CompileModule(ctx, module)
	if err != nil {
		return fmt.Errorf("wasm: compile ranker.wasm: %w", err)
	}
	r.compiled = compiled
	for range r.cfg.Instances {
		in, err := r.instantiate(ctx)
		if err != nil {
			return err
		}
		r.pool <- in
	}
	return nil
}

// Load loads an encoded snapshot into every instance, so that every Rank
// that starts after Load returns ranks from it. If the snapshot is bad, or
// any instance cannot take it, Load returns an error (ErrBadSnapshot,
// ErrOutOfMemory, ErrTrap or the context's error) and every instance keeps
// the previous snapshot. With a snapshot loaded, Rank calls go on during
// the first, validating load and wait during the rest; without one, every
// instance loads at once. Load copies b.
func (r *Runtime) Load(ctx context.Context, b []byte) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if r.isClosed() {
		return fmt.Errorf("wasm: load: %w", ErrClosed)
	}
	if limit := int64(r.cfg.MemoryLimitPages) * PageSize; int64(len(b)) >= limit {
		return fmt.Errorf("wasm: load: %w: the snapshot is %d bytes, the memory limit %d pages (%d bytes): raise Config.MemoryLimitPages",
			ErrOutOfMemory, len(b), r.cfg.MemoryLimitPages, limit)
	}
	prev := r.current()
	next := state{bytes: slices.Clone(b), gen: r.nextGen()}

	// Validate in one instance while the others keep serving; with nothing
	// served yet, there is nobody to keep serving, and every instance
	// loads at once (at 100,000 items that halves a pool's first load on
	// two cores).
	first, err := r.acquire(ctx)
	if err != nil {
		return fmt.Errorf("wasm: load: %w", err)
	}
	held := []*instance{first}
	defer func() {
		for _, in := range held {
			r.release(in)
		}
	}()
	if prev.gen == 0 {
		return r.loadAll(ctx, &held, next, prev)
	}
	if err := r.loadInto(ctx, first, next, prev); err != nil {
		return fmt.Errorf("wasm: load: %w", err)
	}
	next.version = first.version

	// Take every other instance, then load them all at once.
	return r.loadAll(ctx, &held, next, prev)
}

// loadAll takes every instance not yet in *held (the caller releases them
// all) and loads next into those that do not hold it, at once: with
// next.version set, the instances already held have next; without, none
// has. On success next is current; on failure every instance is back on
// prev.
func (r *Runtime) loadAll(ctx context.Context, held *[]*instance, next, prev state) error {
	loaded := 0 // (*held)[:loaded] hold next
	if next.version != "" {
		loaded = len(*held)
	}
	for len(*held) < r.cfg.Instances {
		in, err := r.acquire(ctx)
		if err != nil {
			r.rollback(ctx, *held, prev)
			return fmt.Errorf("wasm: load: %w", err)
		}
		*held = append(*held, in)
	}
	all := *held
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, in := range all[loaded:] {
		wg.Go(func() { errs[loaded+i] = r.loadInto(ctx, in, next, prev) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		r.rollback(ctx, all, prev)
		return fmt.Errorf("wasm: load: %w", err)
	}
	for _, in := range all {
		if next.version == "" {
			next.version = in.version
		}
		if in.version != next.version {
			r.rollback(ctx, all, prev)
			return fmt.Errorf("wasm: load: instances disagree on the version: %s and %s", next.version, in.version)
		}
	}
	r.mu.Lock()
	r.cur = next
	r.mu.Unlock()
	return nil
}

// testHookLoad, set only by tests, runs before each load of Load and may
// fail it or kill the instance.
var testHookLoad func(in *instance) error

// loadInto loads next into in. If the guest rejects it, in keeps what it
// had; if the guest traps, in is replaced by a fresh instance holding prev.
// An instance left broken by an earlier failure is revived first.
func (r *Runtime) loadInto(ctx context.Context, in *instance, next, prev state) error {
	if !in.alive() {
		r.repair(ctx, in, prev)
		if !in.alive() {
			return fmt.Errorf("%w: cannot restart a broken instance", ErrTrap)
		}
	}
	if testHookLoad != nil {
		if err := testHookLoad(in); err != nil {
			return err
		}
	}
	err := in.load(ctx, next)
	if err == nil || in.alive() {
		return err
	}
	r.repair(ctx, in, prev)
	return fmt.Errorf("%w (instance replaced)", err)
}

// rollback returns the instances that took another snapshot to prev.
func (r *Runtime) rollback(ctx context.Context, held []*instance, prev state) {
	for _, in := range held {
		if in.gen != prev.gen || !in.alive() {
			r.repair(ctx, in, prev)
		}
	}
}

// repair makes in hold prev: a fresh module when it has none (or it
// trapped), then prev loaded into it unless prev is empty. It runs even
// when ctx is cancelled; on failure in is left broken, and the next caller
// that acquires it tries again.
func (r *Runtime) repair(ctx context.Context, in *instance, prev state) {
	ctx = context.WithoutCancel(ctx)
	if in.alive() && prev.gen == 0 {
		in.discard(ctx) // there is no way to unload a snapshot: start afresh
	}
	if !in.alive() {
		in.discard(ctx)
		if r.isClosed() {
			return
		}
		fresh, err := r.instantiate(ctx)
		if err != nil {
			return
		}
		*in = *fresh
	}
	if prev.gen != 0 && in.gen != prev.gen {
		if err := in.load(ctx, prev); err != nil {
			in.discard(ctx)
		}
	}
}

// Rank ranks req on a free instance and returns the guest's answer. req is
// validated and encoded with wire.MarshalRequest and the answer decoded with
// wire.UnmarshalResponse.
func (r *Runtime) Rank(ctx context.Context, req *wire.RecommendRequest) (*wire.RecommendResponse, error) {
	b, err := wire.MarshalRequest(req)
	if err != nil {
		return nil, fmt.Errorf("wasm: rank: %w", err)
	}
	var resp *wire.RecommendResponse
	err = r.rank(ctx, b, func(out []byte) error {
		var err error
		resp, err = wire.UnmarshalResponse(out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RankMsgpack ranks a msgpack RecommendRequest (as wire.MarshalRequest
// writes it) and returns the msgpack RecommendResponse, byte for byte what
// wire.MarshalResponse writes for the native ranking core's answer. A
// request the guest cannot decode or validate fails with ErrBadRequest.
func (r *Runtime) RankMsgpack(ctx context.Context, req []byte) ([]byte, error) {
	var resp []byte
	err := r.rank(ctx, req, func(out []byte) error {
		resp = slices.Clone(out)
		return nil
	})
	return resp, err
}

// rank runs req on a free instance and hands the output, a view into guest
// memory valid only during the call, to use.
func (r *Runtime) rank(ctx context.Context, req []byte, use func([]byte) error) error {
	if len(req) > wire.MaxBodyBytes {
		return fmt.Errorf("wasm: rank: %w: %d bytes, limit %d: %w", ErrBadRequest, len(req), wire.MaxBodyBytes, wire.ErrTooLarge)
	}
	in, err := r.acquire(ctx)
	if err != nil {
		return fmt.Errorf("wasm: rank: %w", err)
	}
	if err := r.ensure(ctx, in); err != nil {
		r.release(in)
		return fmt.Errorf("wasm: rank: %w", err)
	}
	out, err := in.rank(ctx, req)
	if err == nil {
		err = use(out)
		r.release(in)
		if err != nil {
			return fmt.Errorf("wasm: rank: %w", err)
		}
		return nil
	}
	if in.alive() {
		r.release(in)
		return fmt.Errorf("wasm: rank: %w", err)
	}
	// The guest trapped: replace it in the background, so that a cancelled
	// call returns at once.
	go func() {
		r.repair(ctx, in, r.current())
		r.release(in)
	}()
	return fmt.Errorf("wasm: rank: %w (instance replaced)", err)
}

// ensure brings an instance that a failed repair left broken, or that holds
// an older snapshot, up to the current snapshot.
func (r *Runtime) ensure(ctx context.Context, in *instance) error {
	cur := r.current()
	if cur.gen == 0 {
		return ErrNoSnapshot
	}
	if in.alive() && in.gen == cur.gen {
		return nil
	}
	if !in.alive() {
		in.discard(ctx)
		fresh, err := r.instantiate(ctx)
		if err != nil {
			return err
		}
		*in = *fresh
	}
	if err := in.load(ctx, cur); err != nil {
		if !in.alive() {
			in.discard(ctx)
		}
		return err
	}
	return nil
}

// Version returns the version of the snapshot the instances rank from, or
// "" before the first successful Load.
func (r *Runtime) Version() string { return r.current().version }

// Close waits for running calls to finish (until ctx is done) and then
// closes every instance and the compiled module. Calls after Close fail
// with ErrClosed. Close may be called more than once.
func (r *Runtime) Close(ctx context.Context) error {
	first := false
	r.close.Do(func() {
		first = true
		close(r.done)
	})
	if !first {
		return nil
	}
	for range r.cfg.Instances {
		select {
		case <-r.pool:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break // close regardless: running calls are terminated
		}
	}
	ctx = context.WithoutCancel(ctx)
	err := r.rt.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	if err != nil {
		return fmt.Errorf("wasm: close: %w", err)
	}
	return nil
}

func (r *Runtime) isClosed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// acquire takes a free instance, waiting for one until ctx is done.
func (r *Runtime) acquire(ctx context.Context) (*instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case in := <-r.pool:
		if r.isClosed() {
			r.release(in)
			return nil, ErrClosed
		}
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.done:
		return nil, ErrClosed
	}
}

// release returns in to the pool; it never blocks, the pool having room for
// every instance.
func (r *Runtime) release(in *instance) { r.pool <- in }

func (r *Runtime) current() state {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cur
}

func (r *Runtime) nextGen() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gens++
	return r.gens
}
