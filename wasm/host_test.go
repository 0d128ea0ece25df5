package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for none
	}{
		{"default", func(*Config) {}, ""},
		{"one instance", func(c *Config) { c.Instances = 1 }, ""},
		{"zero instances", func(c *Config) { c.Instances = 0 }, "instances 0"},
		{"too many instances", func(c *Config) { c.Instances = 5000 }, "instances 5000"},
		{"zero pages", func(c *Config) { c.MemoryLimitPages = 0 }, "memory limit 0"},
		{"below the module's minimum", func(c *Config) { c.MemoryLimitPages = 8 }, "below the module's minimum"},
		{"4 GiB", func(c *Config) { c.MemoryLimitPages = 65536 }, ""},
		{"over 4 GiB", func(c *Config) { c.MemoryLimitPages = 65537 }, "memory limit 65537"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if tt.want != "" {
				if _, err := New(context.Background(), c); err == nil {
					t.Fatal("New accepted an invalid config")
				}
			}
		})
	}
}

func TestMemoryMin(t *testing.T) {
	least, err := minPages()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The declared minimum passes Validate, but the Go runtime needs a
	// little more to start: New must say so clearly.
	r, err := New(ctx, Config{Instances: 1, MemoryLimitPages: least, CacheDir: cacheDir})
	if err == nil {
		r.Close(ctx)
	} else if !errors.Is(err, ErrOutOfMemory) || !strings.Contains(err.Error(), "MemoryLimitPages") {
		t.Fatalf("New with the module's minimum of %d pages = %v, want nil or ErrOutOfMemory naming MemoryLimitPages", least, err)
	}
	for _, b := range [][]byte{nil, []byte("\x00asm\x01\x00\x00\x00"), []byte("\x00asm\x01\x00\x00\x00\x05\x09\x01")} {
		if _, err := memoryMin(b); err == nil {
			t.Errorf("memoryMin(%q) accepted a module without a memory", b)
		}
	}
}

// resign replaces an encoded snapshot's SHA-256 trailer, so that a change
// reaches the decoder's later checks.
func resign(b []byte) []byte {
	sum := sha256.Sum256(b[:len(b)-32])
	copy(b[len(b)-32:], sum[:])
	return b
}

func TestLoadBadSnapshot(t *testing.T) {
	good := synth(t, goldenSnapshotArgs)
	flip := func(at func(n int) int, sign bool) func() []byte {
		return func() []byte {
			b := bytes.Clone(good.bytes)
			b[at(len(b))] ^= 0x10
			if sign {
				b = resign(b)
			}
			return b
		}
	}
	bad := []struct {
		name  string
		bytes func() []byte
	}{
		{"empty", func() []byte { return nil }},
		{"garbage", func() []byte { return bytes.Repeat([]byte("not a snapshot "), 100) }},
		{"truncated half", func() []byte { return good.bytes[:len(good.bytes)/2] }},
		{"truncated trailer", func() []byte { return good.bytes[:len(good.bytes)-1] }},
		{"truncated header", func() []byte { return good.bytes[:20] }},
		{"flipped magic", flip(func(int) int { return 2 }, true)},
		{"flipped format version", flip(func(int) int { return 8 }, true)},
		{"flipped body", flip(func(n int) int { return n / 2 }, false)},
		{"trailing byte", func() []byte { return append(bytes.Clone(good.bytes), 0) }},
		{"flipped header count, checksum fixed", flip(func(int) int { return 40 }, true)},
		{"flipped checksum", flip(func(n int) int { return n - 5 }, false)},
	}
	request := goldenCases[0].req(func(i int) string { return good.snap.Items.IDs[i] })
	want := good.native(t, request)
	ctx := context.Background()

	r := newRuntime(t, 2, good)
	fresh := newRuntime(t, 2, nil)
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Load(ctx, tt.bytes())
			if err == nil {
				t.Fatal("Load accepted a bad snapshot")
			}
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Load = %v, want ErrBadSnapshot", err)
			}
			if !strings.HasPrefix(err.Error(), "wasm: load: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			if v := r.Version(); v != good.snap.Version {
				t.Fatalf("Version() = %q after a bad load, want the previous %q", v, good.snap.Version)
			}
			// Every instance still answers from the previous snapshot.
			for range 4 {
				got, err := r.RankMsgpack(ctx, marshalRequest(t, request))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("answer after a bad load differs from the previous snapshot's:\n%s", summary(t, got))
				}
			}
			for _, in := range r.takeAll(t) {
				if in.version != good.snap.Version {
					t.Errorf("an instance holds %q", in.version)
				}
				r.pool <- in
			}

			// With nothing loaded before, nothing is loaded after.
			if err := fresh.Load(ctx, tt.bytes()); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Load on a fresh runtime = %v, want ErrBadSnapshot", err)
			}
			if _, err := fresh.Rank(ctx, request); !errors.Is(err, ErrNoSnapshot) {
				t.Fatalf("Rank after only a bad load = %v, want ErrNoSnapshot", err)
			}
		})
	}
}

func TestLoadNewVersion(t *testing.T) {
	a := synth(t, goldenSnapshotArgs)
	b := synth(t, synthArgs{N: 500, Dims: 32, Nbrs: 10, Clusters: 8, Seed: 2})
	const instances = 4
	r := newRuntime(t, instances, a)
	ctx := context.Background()

	for round, f := range []*fixture{b, a, b} {
		if err := r.Load(ctx, f.bytes); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if r.Version() != f.snap.Version {
			t.Fatalf("round %d: Version() = %q, want %q", round, r.Version(), f.snap.Version)
		}
		all := r.takeAll(t)
		for i, in := range all {
			if in.version != f.snap.Version {
				t.Errorf("round %d: instance %d holds %q, want %q", round, i, in.version, f.snap.Version)
			}
		}
		r.putAll(all)

		// 4 goroutines per instance, ranking at once: every answer comes
		// from the new snapshot and matches native.
		item := func(i int) string { return f.snap.Items.IDs[i%f.snap.Len()] }
		var wg sync.WaitGroup
		errs := make(chan error, 4*instances)
		for g := range 4 * instances {
			req := &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{ev(wire.View, item(g*7), 1)}}
			want := f.native(t, req)
			wg.Go(func() {
				got, err := r.Rank(ctx, req)
				if err != nil {
					errs <- err
					return
				}
				if got.Index != f.snap.Version {
					errs <- fmt.Errorf("goroutine %d: answer from %q, want %q", g, got.Index, f.snap.Version)
					return
				}
				if mp, _ := wire.MarshalResponse(got); !bytes.Equal(mp, want) {
					errs <- fmt.Errorf("goroutine %d: answer differs from native", g)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// TestFirstLoadAtOnce: with no snapshot loaded yet, every instance starts
// loading before any has finished (the hook waits for all of them, so a
// load one instance at a time never gets past the first); a later load
// still validates in one instance first.
func TestFirstLoadAtOnce(t *testing.T) {
	a := synth(t, goldenSnapshotArgs)
	b := synth(t, synthArgs{N: 500, Dims: 32, Nbrs: 10, Clusters: 8, Seed: 2})
	ctx := context.Background()
	const n = 3
	r := newRuntime(t, n, nil)
	var entered atomic.Int32
	all := make(chan struct{})
	testHookLoad = func(*instance) error {
		if entered.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("the other instances did not start loading")
		}
	}
	defer func() { testHookLoad = nil }()
	if err := r.Load(ctx, a.bytes); err != nil {
		t.Fatal(err)
	}
	if r.Version() != a.snap.Version || entered.Load() != n {
		t.Fatalf("version %q after %d loads; want %q after %d", r.Version(), entered.Load(), a.snap.Version, n)
	}
	// With a snapshot served, the first instance validates alone (see
	// TestLoadRollback): the same hook would wait for the others forever.
	testHookLoad = nil
	if err := r.Load(ctx, b.bytes); err != nil || r.Version() != b.snap.Version {
		t.Fatalf("second load: %v, version %q", err, r.Version())
	}
}

// TestLoadRollback makes the second instance fail to take a new snapshot
// after the first has validated and taken it: every instance must end up
// on the previous snapshot (or none), and the runtime must take the new
// snapshot on the next try.
func TestLoadRollback(t *testing.T) {
	a := synth(t, goldenSnapshotArgs)
	b := synth(t, synthArgs{N: 500, Dims: 32, Nbrs: 10, Clusters: 8, Seed: 2})
	ctx := context.Background()
	tests := []struct {
		name string
		prev *fixture                 // nil: nothing loaded before
		fail func(in *instance) error // what happens to the second load
		want error                    // the error Load wraps
	}{
		{"trap, to the previous snapshot", a, func(in *instance) error { return in.mod.Close(ctx) }, ErrTrap},
		{"trap, to no snapshot", nil, func(in *instance) error { return in.mod.Close(ctx) }, ErrTrap},
		{"refusal, to the previous snapshot", a, func(*instance) error { return ErrOutOfMemory }, ErrOutOfMemory},
		{"refusal, to no snapshot", nil, func(*instance) error { return ErrOutOfMemory }, ErrOutOfMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, 3, tt.prev)
			wantVersion := ""
			if tt.prev != nil {
				wantVersion = tt.prev.snap.Version
			}
			var loads atomic.Int32
			testHookLoad = func(in *instance) error {
				if loads.Add(1) == 2 {
					return tt.fail(in)
				}
				return nil
			}
			err := r.Load(ctx, b.bytes)
			testHookLoad = nil
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load = %v, want %v", err, tt.want)
			}
			if r.Version() != wantVersion {
				t.Fatalf("Version() = %q after a failed load, want %q", r.Version(), wantVersion)
			}
			all := r.takeAll(t)
			for i, in := range all {
				if !in.alive() || in.version != wantVersion {
					t.Errorf("instance %d: alive %v, holds %q, want %q", i, in.alive(), in.version, wantVersion)
				}
			}
			r.putAll(all)
			req := &wire.RecommendRequest{Placement: wire.Trending, Now: t0}
			for range 6 {
				got, err := r.Rank(ctx, req)
				switch {
				case tt.prev == nil && !errors.Is(err, ErrNoSnapshot):
					t.Fatalf("Rank = %v, want ErrNoSnapshot", err)
				case tt.prev != nil && (err != nil || got.Index != wantVersion):
					t.Fatalf("Rank = %v, %v, want an answer from %q", got, err, wantVersion)
				}
			}

			if err := r.Load(ctx, b.bytes); err != nil {
				t.Fatal(err)
			}
			for range 6 {
				got, err := r.Rank(ctx, req)
				if err != nil || got.Index != b.snap.Version {
					t.Fatalf("Rank = %v, %v, want an answer from %q", got, err, b.snap.Version)
				}
			}
		})
	}
}

// TestLoadRevivesDeadInstance: an instance that died behind the runtime's
// back is restarted by the next Load, which succeeds.
func TestLoadRevivesDeadInstance(t *testing.T) {
	a := synth(t, goldenSnapshotArgs)
	b := synth(t, synthArgs{N: 500, Dims: 32, Nbrs: 10, Clusters: 8, Seed: 2})
	ctx := context.Background()
	r := newRuntime(t, 3, a)
	for _, dead := range []int{0, 2} { // the validating one, then another
		all := r.takeAll(t)
		if err := all[dead].mod.Close(ctx); err != nil {
			t.Fatal(err)
		}
		r.putAll(all)
		next := map[int]*fixture{0: b, 2: a}[dead]
		if err := r.Load(ctx, next.bytes); err != nil {
			t.Fatalf("Load with instance %d dead: %v", dead, err)
		}
		all = r.takeAll(t)
		for i, in := range all {
			if !in.alive() || in.version != next.snap.Version {
				t.Errorf("instance %d: alive %v, holds %q, want %q", i, in.alive(), in.version, next.snap.Version)
			}
		}
		r.putAll(all)
	}
}

func TestConcurrentRank(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	r := newRuntime(t, 4, f)
	ctx := context.Background()
	item := func(i int) string { return f.snap.Items.IDs[i] }
	reqs := make([][]byte, len(goldenCases))
	want := make([][]byte, len(goldenCases))
	for i, c := range goldenCases {
		req := c.req(item)
		reqs[i] = marshalRequest(t, req)
		want[i] = f.native(t, req)
	}
	const goroutines, perGoroutine = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	var answered sync.Map
	for g := range goroutines {
		wg.Go(func() {
			for j := range perGoroutine {
				k := (g*perGoroutine + j) % len(reqs)
				got, err := r.RankMsgpack(ctx, reqs[k])
				if err != nil {
					errs <- fmt.Errorf("goroutine %d request %d: %w", g, j, err)
					continue
				}
				if !bytes.Equal(got, want[k]) {
					errs <- fmt.Errorf("goroutine %d request %d (%s): answer differs from native", g, j, goldenCases[k].name)
					continue
				}
				answered.Store(g*perGoroutine+j, true)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	answered.Range(func(any, any) bool { n++; return true })
	if n != goroutines*perGoroutine {
		t.Fatalf("%d of %d requests answered correctly", n, goroutines*perGoroutine)
	}
}

func TestCancelledContext(t *testing.T) {
	for _, interruptible := range []bool{true, false} {
		t.Run(fmt.Sprintf("interruptible=%v", interruptible), func(t *testing.T) {
			testCancelledContext(t, interruptible)
		})
	}
}

func testCancelledContext(t *testing.T, interruptible bool) {
	f := synth(t, goldenSnapshotArgs)
	g := synth(t, synthArgs{N: 500, Dims: 32, Nbrs: 10, Clusters: 8, Seed: 2})
	const instances = 2
	r := newRuntimeConfig(t, Config{Instances: instances, MemoryLimitPages: 4096, Interruptible: interruptible}, f)
	item := func(i int) string { return f.snap.Items.IDs[i] }
	heavy := &wire.RecommendRequest{Placement: wire.ForYou, K: 100, Now: t0}
	for i := range 150 {
		heavy.Events = append(heavy.Events, ev(wire.View, item(i*13%2000), int64(150-i)))
	}
	heavyMP := marshalRequest(t, heavy)
	want := f.native(t, heavy)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Rank", func(ctx context.Context) error { _, err := r.Rank(ctx, heavy); return err }},
		{"RankMsgpack", func(ctx context.Context) error { _, err := r.RankMsgpack(ctx, heavyMP); return err }},
		{"Load", func(ctx context.Context) error { return r.Load(ctx, g.bytes) }},
	}
	for _, c := range calls {
		t.Run("already cancelled/"+c.name, func(t *testing.T) {
			start := time.Now()
			err := c.call(cancelled)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s with a cancelled context = %v, want context.Canceled", c.name, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Logf("took %v", d) // reported, never asserted
			}
		})
	}
	// Deadlines that fire before, during or after the call; with
	// Interruptible, one that fires during it kills the instance (ErrTrap),
	// which is replaced; without, the call finishes.
	t.Run("deadlines", func(t *testing.T) {
		start := time.Now()
		if _, err := r.RankMsgpack(context.Background(), heavyMP); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		trapped := 0
		for i := 0; i < 400 && trapped < 3 && (interruptible || i < 50); i++ {
			timeout := took * time.Duration(i%16) / 10
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			got, err := r.RankMsgpack(ctx, heavyMP)
			cancel()
			switch {
			case err != nil && !errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("timeout %v: %v, want nil or context.DeadlineExceeded", timeout, err)
			case err == nil && !bytes.Equal(got, want):
				t.Fatalf("timeout %v: answer differs from native", timeout)
			case errors.Is(err, ErrTrap):
				trapped++
			}
		}
		switch {
		case interruptible && trapped == 0:
			t.Errorf("no deadline fired during a call (a call takes about %v)", took)
		case !interruptible && trapped > 0:
			t.Errorf("%d calls were interrupted without Config.Interruptible", trapped)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := r.Load(ctx, g.bytes)
		cancel()
		if err != nil && r.Version() != f.snap.Version {
			t.Fatalf("a cancelled Load changed the version to %q", r.Version())
		}
		if err == nil { // the load beat the deadline: go back
			if err := r.Load(context.Background(), f.bytes); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("keeps working", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 4*instances)
		for range 4 * instances {
			wg.Go(func() {
				got, err := r.RankMsgpack(context.Background(), heavyMP)
				if err == nil && !bytes.Equal(got, want) {
					err = errors.New("answer differs from native")
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i, in := range r.takeAll(t) {
			if !in.alive() || in.version != f.snap.Version {
				t.Errorf("instance %d: alive %v, holds %q", i, in.alive(), in.version)
			}
			r.pool <- in
		}
	})
}

func TestMemoryLimit(t *testing.T) {
	small := synth(t, goldenSnapshotArgs)
	ctx := context.Background()
	cfg := Config{Instances: 2, MemoryLimitPages: 512, CacheDir: cacheDir, Interruptible: true} // 32 MiB
	r, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(ctx) })
	if err := r.Load(ctx, small.bytes); err != nil {
		t.Fatalf("a 2,000-item snapshot must fit in 32 MiB: %v", err)
	}
	tests := []struct {
		name  string
		bytes func() []byte
	}{
		// 6.8 MB encoded, well over 32 MiB decoded and indexed.
		{"decoding runs out", func() []byte { return synth(t, synthArgs{N: 50000, Dims: 64, Nbrs: 20, Clusters: 64, Seed: 3}).bytes }},
		{"bytes alone do not fit", func() []byte { return make([]byte, 512*PageSize) }},
	}
	req := &wire.RecommendRequest{Placement: wire.Similar, Item: small.snap.Items.IDs[0], Now: t0}
	want := small.native(t, req)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Load(ctx, tt.bytes())
			if !errors.Is(err, ErrOutOfMemory) {
				t.Fatalf("Load = %v, want ErrOutOfMemory", err)
			}
			if !strings.Contains(err.Error(), "MemoryLimitPages") {
				t.Fatalf("error %q does not say what to change", err)
			}
			t.Log(err)
			if r.Version() != small.snap.Version {
				t.Fatalf("Version() = %q, want the previous %q", r.Version(), small.snap.Version)
			}
			for range 2 * cfg.Instances {
				got, err := r.RankMsgpack(ctx, marshalRequest(t, req))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("after the failed load: %v, answer equal to native: %v", err, bytes.Equal(got, want))
				}
			}
		})
	}
}

// TestDeadInstanceReplaced kills the only instance behind the runtime's
// back: the next call runs on a fresh instance holding the current snapshot.
// (TestCancelledContext/deadlines kills instances in the middle of calls.)
func TestDeadInstanceReplaced(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	r := newRuntime(t, 1, f)
	ctx := context.Background()
	req := &wire.RecommendRequest{Placement: wire.SearchResults, Query: "yoga mat", Now: t0}
	want := f.native(t, req)
	for round := range 3 {
		all := r.takeAll(t)
		if err := all[0].mod.Close(ctx); err != nil {
			t.Fatal(err)
		}
		r.putAll(all)
		got, err := r.RankMsgpack(ctx, marshalRequest(t, req))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: after the instance died: %v, answer equal to native: %v", round, err, bytes.Equal(got, want))
		}
	}
}

func TestRankErrors(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	r := newRuntime(t, 1, f)
	ctx := context.Background()
	var field *wire.FieldError
	tests := []struct {
		name  string
		call  func() error
		check func(error) bool
	}{
		{"garbage msgpack", func() error { _, err := r.RankMsgpack(ctx, []byte{0xc1, 0x00}); return err },
			func(err error) bool { return errors.Is(err, ErrBadRequest) && strings.Contains(err.Error(), "c1") }},
		{"empty msgpack", func() error { _, err := r.RankMsgpack(ctx, nil); return err },
			func(err error) bool { return errors.Is(err, ErrBadRequest) }},
		{"hostile length", func() error { _, err := r.RankMsgpack(ctx, []byte{0xdd, 0xff, 0xff, 0xff, 0xff}); return err },
			func(err error) bool { return errors.Is(err, ErrBadRequest) }},
		{"invalid request in msgpack", func() error {
			b := marshalRequest(t, &wire.RecommendRequest{Placement: wire.Similar, Item: "x"})
			b = bytes.Replace(b, []byte("similar"), []byte("simular"), 1)
			_, err := r.RankMsgpack(ctx, b)
			return err
		}, func(err error) bool {
			return errors.Is(err, ErrBadRequest) && strings.Contains(err.Error(), "placement")
		}},
		{"too large", func() error { _, err := r.RankMsgpack(ctx, make([]byte, wire.MaxBodyBytes+1)); return err },
			func(err error) bool { return errors.Is(err, ErrBadRequest) && errors.Is(err, wire.ErrTooLarge) }},
		{"invalid typed request", func() error { _, err := r.Rank(ctx, &wire.RecommendRequest{Placement: "elsewhere"}); return err },
			func(err error) bool { return errors.As(err, &field) && field.Field == "placement" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !tt.check(err) {
				t.Fatalf("got %v", err)
			}
			if !strings.HasPrefix(err.Error(), "wasm: rank: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			// The instance survives a bad request.
			if _, err := r.Rank(ctx, &wire.RecommendRequest{Placement: wire.Trending}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	ctx := context.Background()
	r, err := New(ctx, Config{Instances: 2, MemoryLimitPages: 1024, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(ctx, f.bytes); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := r.Rank(ctx, &wire.RecommendRequest{Placement: wire.Trending}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Rank after Close = %v, want ErrClosed", err)
	}
	if err := r.Load(ctx, f.bytes); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close = %v, want ErrClosed", err)
	}
}
