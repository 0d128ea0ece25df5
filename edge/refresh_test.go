package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

var errDown = errors.New("fake source: connection refused")

// TestNoIndexSourceDown: without an index and with the source down the edge
// answers 503 with Retry-After, retries no sooner than RetryAfter, and loads
// once the source is back.
func TestNoIndexSourceDown(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	src := newSource(bl)
	src.down(errDown)
	clk := newClock()
	e := newEdge(t, src, nil, clk, nil)

	w := do(e, http.MethodPost, "/v1/recommend", `{"placement":"trending"}`)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	errorBody(t, w)
	h := health(t, e)
	if h.Loaded || h.LastError == nil || !strings.Contains(*h.LastError, "connection refused") {
		t.Errorf("health %+v, want not loaded with the source error", h)
	}
	if h.LastErrorAt != t0.UnixMilli() {
		t.Errorf("last_error_at %d, want %d", h.LastErrorAt, t0.UnixMilli())
	}

	// Within RetryAfter: 503 again without asking the source.
	src.down(nil)
	clk.Advance(5*time.Second - time.Millisecond)
	if w := do(e, http.MethodPost, "/v1/recommend", `{"placement":"trending"}`); w.Code != 503 {
		t.Fatalf("status %d, want 503 within RetryAfter", w.Code)
	}
	if p, _ := src.calls(); p != 1 {
		t.Errorf("%d pointer calls within RetryAfter, want 1", p)
	}
	clk.Advance(time.Millisecond)
	if got := indexOf(t, e); got != bl.version {
		t.Errorf("index %q, want %q", got, bl.version)
	}
	if h := health(t, e); !h.Loaded || h.LastError != nil || h.Items != 200 || h.Built != synthBuilt || h.AgeSeconds != 86400+5 {
		t.Errorf("health after load %+v", h)
	}
}

// TestKeepsLastGoodIndex: once loaded, a source outage only shows in health.
func TestKeepsLastGoodIndex(t *testing.T) {
	for _, what := range []string{"pointer", "fetch"} {
		t.Run(what, func(t *testing.T) {
			b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
			src := newSource(b1)
			clk := newClock()
			e := newEdge(t, src, nil, clk, nil)
			if got := indexOf(t, e); got != b1.version {
				t.Fatalf("index %q", got)
			}
			if what == "pointer" {
				src.down(errDown)
			} else {
				src.publish(b2)
				src.mu.Lock()
				src.fetchErr = errDown
				src.mu.Unlock()
			}
			clk.Advance(time.Minute)
			if got := indexOf(t, e); got != b1.version {
				t.Errorf("index %q after outage, want %q", got, b1.version)
			}
			h := health(t, e)
			if !h.Loaded || h.Index != b1.version || h.LastError == nil || !strings.Contains(*h.LastError, "connection refused") {
				t.Errorf("health %+v", h)
			}
			if h.RefreshErrors != 1 {
				t.Errorf("refresh_errors %d, want 1", h.RefreshErrors)
			}
			// Recovery clears the error.
			src.down(nil)
			src.publish(b2)
			clk.Advance(time.Minute)
			if got := indexOf(t, e); got != b2.version {
				t.Errorf("index %q after recovery, want %q", got, b2.version)
			}
			if h := health(t, e); h.LastError != nil {
				t.Errorf("last_error %q after recovery", *h.LastError)
			}
		})
	}
}

// TestRejectsBadSnapshots: bytes that do not verify or do not load are
// refused, the previous index is kept, and health says why.
func TestRejectsBadSnapshots(t *testing.T) {
	good := synth(t, 2, time.Hour, nil)
	flipped := func(b []byte, at int) []byte {
		c := append([]byte(nil), b...)
		c[at] ^= 0x10
		return c
	}
	tests := []struct {
		name    string
		version string
		bytes   []byte
		is      error  // errors.Is target of the refresh error, if any
		mention string // in last_error
		refetch bool   // fetched again at the next check (never for a bad pointer)
	}{
		{"bit flip", good.version, flipped(good.b, len(good.b)/2), ErrMismatch, "do not match", true},
		{"bytes of another version", good.version, synth(t, 3, 2*time.Hour, nil).b, ErrMismatch, "do not match", true},
		{"truncated", good.version, good.b[:len(good.b)-1], ErrMismatch, "do not match", true},
		{"hashed bit flip", "", flipped(good.b, len(good.b)/2), snapshot.ErrChecksum, "checksum", false},
		{"hashed bit flip in header", "", flipped(good.b, 9), nil, "load snapshot", false},
		{"hashed garbage", "", []byte("not a snapshot at all"), nil, "load snapshot", false},
		{"other region", "", synth(t, 4, 2*time.Hour, func(s *snapshot.Snapshot) { s.Region = "us-east" }).b, ErrRegion, "us-east", false},
		{"pointer not a version", "latest", good.b, ErrBadVersion, "not a snapshot version", false},
		{"pointer upper case", strings.ToUpper(good.version), good.b, ErrBadVersion, "not a snapshot version", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b1 := synth(t, 1, 0, nil)
			src := newSource(b1)
			clk := newClock()
			e := newEdge(t, src, nil, clk, nil)
			if got := indexOf(t, e); got != b1.version {
				t.Fatalf("index %q", got)
			}
			version := tt.version
			if version == "" {
				version = sha(tt.bytes) // content-addressed, so only the decoder can tell
			}
			src.serve(version, tt.bytes)

			err := e.Refresh(context.Background())
			if err == nil {
				t.Fatal("refresh accepted a bad snapshot")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("refresh error %v, want %v", err, tt.is)
			}
			if got := indexOf(t, e); got != b1.version {
				t.Errorf("index %q, want the previous %q", got, b1.version)
			}
			h := health(t, e)
			if !h.Loaded || h.Index != b1.version || h.LastError == nil || !strings.Contains(*h.LastError, tt.mention) {
				t.Fatalf("health %+v, want last_error mentioning %q", h, tt.mention)
			}

			_, f0 := src.calls()
			clk.Advance(time.Minute)
			if got := indexOf(t, e); got != b1.version {
				t.Errorf("index %q, want the previous %q", got, b1.version)
			}
			if _, f1 := src.calls(); (f1 > f0) != tt.refetch {
				t.Errorf("fetched again: %v, want %v", f1 > f0, tt.refetch)
			}
			if h := health(t, e); h.LastError == nil || !strings.Contains(*h.LastError, tt.mention) {
				t.Errorf("last_error after the next check: %v", h.LastError)
			}
		})
	}
}

// TestRefreshInterval: a new pointer is picked up once RefreshEvery has
// passed on the clock, and not before.
func TestRefreshInterval(t *testing.T) {
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	src := newSource(b1)
	clk := newClock()
	e := newEdge(t, src, nil, clk, nil)
	if got := indexOf(t, e); got != b1.version {
		t.Fatalf("index %q", got)
	}
	src.publish(b2)
	clk.Advance(30*time.Second - time.Nanosecond)
	for range 3 {
		if got := indexOf(t, e); got != b1.version {
			t.Fatalf("index %q before RefreshEvery, want %q", got, b1.version)
		}
	}
	if p, _ := src.calls(); p != 1 {
		t.Errorf("%d pointer calls before RefreshEvery, want 1", p)
	}
	clk.Advance(time.Nanosecond)
	if got := indexOf(t, e); got != b2.version {
		t.Fatalf("index %q after RefreshEvery, want %q", got, b2.version)
	}
	h := health(t, e)
	if h.Swaps != 2 || h.LastError != nil || h.LastCheck != clk.Now().UnixMilli() || h.Built != b2.snap.Built {
		t.Errorf("health %+v", h)
	}
	// An unchanged pointer costs one pointer call, no fetch.
	clk.Advance(30 * time.Second)
	indexOf(t, e)
	if p, f := src.calls(); p != 3 || f != 2 {
		t.Errorf("%d pointer and %d fetch calls, want 3 and 2", p, f)
	}
}

// TestRefusesOlderBuilt: no rollback to a snapshot built earlier.
func TestRefusesOlderBuilt(t *testing.T) {
	cur, older, newer := synth(t, 1, 0, nil), synth(t, 2, -time.Hour, nil), synth(t, 3, time.Hour, nil)
	src := newSource(cur)
	clk := newClock()
	e := newEdge(t, src, nil, clk, nil)
	if got := indexOf(t, e); got != cur.version {
		t.Fatalf("index %q", got)
	}
	src.publish(older)
	err := e.Refresh(context.Background())
	if !errors.Is(err, ErrRollback) {
		t.Fatalf("refresh error %v, want ErrRollback", err)
	}
	if got := indexOf(t, e); got != cur.version {
		t.Errorf("index %q, want %q", got, cur.version)
	}
	h := health(t, e)
	if h.LastError == nil || !strings.Contains(*h.LastError, "roll back") || !strings.Contains(*h.LastError, older.version[:12]) {
		t.Errorf("last_error %v", h.LastError)
	}
	// The refused version is not fetched again while the pointer stays.
	_, f0 := src.calls()
	clk.Advance(time.Minute)
	indexOf(t, e)
	if _, f1 := src.calls(); f1 != f0 {
		t.Errorf("refused version fetched again (%d → %d)", f0, f1)
	}
	if h := health(t, e); h.LastError == nil {
		t.Error("last_error cleared while the pointer still names a refused version")
	}
	// A newer one is taken.
	src.publish(newer)
	clk.Advance(time.Minute)
	if got := indexOf(t, e); got != newer.version {
		t.Errorf("index %q, want %q", got, newer.version)
	}
	if h := health(t, e); h.LastError != nil {
		t.Errorf("last_error %q", *h.LastError)
	}
	// Equal Built (a rebuild with other content) is accepted.
	same := synth(t, 4, time.Hour, nil)
	src.publish(same)
	if err := e.Refresh(context.Background()); err != nil {
		t.Errorf("same Built refused: %v", err)
	}
}

// TestRefreshHonoursContext: a forced refresh waits for the lock only as
// long as its context allows.
func TestRefreshHonoursContext(t *testing.T) {
	e := newEdge(t, newSource(synth(t, 1, 0, nil)), nil, newClock(), nil)
	e.sem <- struct{}{} // a refresh in flight
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Refresh(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("refresh error %v, want context.Canceled", err)
	}
	// A first request waiting on it gives up with its context: 503.
	r := httpRequest(ctx, http.MethodPost, "/v1/recommend", `{"placement":"trending"}`)
	w := serve(e, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	<-e.sem
	if err := e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := health(t, e); !h.Loaded {
		t.Error("not loaded after Refresh")
	}
}

// TestConcurrentRecommend: 50 concurrent requests all succeed, during the
// first load (which happens once) and during a swap.
func TestConcurrentRecommend(t *testing.T) {
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	src := newSource(b1)
	clk := newClock()
	e := newEdge(t, src, nil, clk, nil)
	ids := b1.snap.Items.IDs

	burst := func(want ...string) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan string, 50)
		for i := range 50 {
			wg.Go(func() {
				body := fmt.Sprintf(`{"placement":"for_you","events":[{"type":"view","item":%q,"time":%d}],"k":5}`, ids[i%len(ids)], i)
				if i%5 == 0 {
					body = `{"placement":"trending"}`
				}
				w := do(e, http.MethodPost, "/v1/recommend", body)
				if w.Code != http.StatusOK {
					errs <- fmt.Sprintf("request %d: %d %s", i, w.Code, w.Body)
					return
				}
				for _, v := range want {
					if strings.Contains(w.Body.String(), `"index":"`+v+`"`) {
						return
					}
				}
				errs <- fmt.Sprintf("request %d: answered by another index: %.80s", i, w.Body)
			})
			if i%10 == 0 {
				wg.Go(func() { health(t, e) })
			}
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
	}

	burst(b1.version)
	if p, f := src.calls(); p != 1 || f != 1 {
		t.Errorf("first load: %d pointer and %d fetch calls, want 1 and 1", p, f)
	}
	src.publish(b2)
	clk.Advance(time.Minute)
	burst(b1.version, b2.version)
	if got := indexOf(t, e); got != b2.version {
		t.Errorf("index %q after the burst, want %q", got, b2.version)
	}
	if p, f := src.calls(); p != 2 || f != 2 {
		t.Errorf("refresh: %d pointer and %d fetch calls, want 2 and 2", p, f)
	}
}

// TestRefreshInFlightDoesNotBlock: while one request refreshes, the others
// rank with the current index instead of waiting.
func TestRefreshInFlightDoesNotBlock(t *testing.T) {
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	src := newSource(b1)
	clk := newClock()
	e := newEdge(t, src, nil, clk, nil)
	if got := indexOf(t, e); got != b1.version {
		t.Fatalf("index %q", got)
	}
	src.publish(b2)
	clk.Advance(time.Minute)
	e.sem <- struct{}{} // a refresh in flight
	done := make(chan string, 1)
	go func() { done <- indexOf(t, e) }()
	select {
	case got := <-done:
		if got != b1.version {
			t.Errorf("index %q, want the current %q", got, b1.version)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a request waited for the refresh in flight")
	}
	<-e.sem
	if p, _ := src.calls(); p != 1 {
		t.Errorf("%d pointer calls, want 1 (the refresh was someone else's)", p)
	}
	if got := indexOf(t, e); got != b2.version {
		t.Errorf("index %q once the lock is free, want %q", got, b2.version)
	}
}

// trimCounter is a Ranker that counts Trim calls.
type trimCounter struct {
	Ranker
	trims *atomic.Int64
}

func (r trimCounter) Trim() { r.trims.Add(1) }

// trimLoader loads with the native loader, wraps each Ranker to count its
// trims, and records the heap's soft limit and the trims so far at each
// load.
type trimLoader struct {
	trims  atomic.Int64
	mu     sync.Mutex
	limits []int64
	seen   []int64
}

func (l *trimLoader) Load(ctx context.Context, b []byte) (Ranker, error) {
	l.mu.Lock()
	l.limits = append(l.limits, debug.SetMemoryLimit(-1))
	l.seen = append(l.seen, l.trims.Load())
	l.mu.Unlock()
	r, err := NativeLoader{}.Load(ctx, b)
	if err != nil {
		return nil, err
	}
	return trimCounter{r, &l.trims}, nil
}

// TestSwapMakesRoom: with a memory limit, loading a new index beside the
// served one trims the served one first, loads under a limit with room for
// both, and sets the configured limit again afterwards.
func TestSwapMakesRoom(t *testing.T) {
	orig := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(orig) })
	const limit, most = 1 << 40, 1 << 41 // far above any heap: observable, harmless
	b1, b2 := synth(t, 1, 0, nil), synth(t, 2, time.Hour, nil)
	src := newSource(b1)
	clk := newClock()
	l := &trimLoader{}
	cfg := testConfig()
	cfg.MemoryLimit, cfg.MaxMemoryLimit = limit, most
	e, err := New(cfg, Deps{Source: src, Loader: l, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got := indexOf(t, e); got != b1.version {
		t.Fatalf("index %q", got)
	}
	src.publish(b2)
	clk.Advance(time.Minute)
	if got := indexOf(t, e); got != b2.version {
		t.Fatalf("index %q after the swap, want %q", got, b2.version)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// The first load has nothing beside it: the limit is untouched.
	if len(l.limits) != 2 || l.limits[0] != orig || l.seen[0] != 0 {
		t.Fatalf("loads saw limits %v and trims %v; want %d first, then a raised one", l.limits, l.seen, orig)
	}
	if l.seen[1] != 1 {
		t.Fatalf("the served index was trimmed %d times before the new one loaded; want 1", l.seen[1])
	}
	if l.limits[1] < limit || l.limits[1] > most {
		t.Fatalf("the swap loaded under a limit of %d; want within [%d, %d]", l.limits[1], limit, most)
	}
	if now := debug.SetMemoryLimit(-1); now != limit {
		t.Fatalf("after the swap the limit is %d; want MemoryLimit %d", now, limit)
	}
}

func TestSwapLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct{ live, limit, most, want int64 }{
		{35 * mib, 72 * mib, 96 * mib, 82 * mib}, // two 35 MiB indexes and the slack
		{10 * mib, 72 * mib, 96 * mib, 72 * mib}, // room already
		{60 * mib, 72 * mib, 96 * mib, 96 * mib}, // capped
		{60 * mib, 72 * mib, 0, 72 * mib},        // no cap given: never below the limit
	} {
		if got := swapLimit(tc.live, tc.limit, tc.most); got != tc.want {
			t.Errorf("swapLimit(%d, %d, %d) = %d MiB; want %d MiB", tc.live/mib, tc.limit/mib, tc.most/mib, got/mib, tc.want/mib)
		}
	}
}
