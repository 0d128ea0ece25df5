package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

const (
	testRegion = "eu-west" // the region of snapshot.Synthetic
	testOrigin = "https://shop.example"
	// synthBuilt is snapshot.Synthetic's Built: 2026-01-01T00:00:00Z.
	synthBuilt = int64(1767225600000)
)

// t0 is the fake clock's start, a day after synthBuilt.
var t0 = time.UnixMilli(synthBuilt).Add(24 * time.Hour)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// blob is an encoded snapshot and its version.
type blob struct {
	b       []byte
	version string
	snap    *snapshot.Snapshot
}

// synth encodes snapshot.Synthetic(200, 16, 5, 4, seed) with the given
// Built offset from synthBuilt, after letting edit change it.
func synth(t testing.TB, seed uint64, built time.Duration, edit func(*snapshot.Snapshot)) blob {
	t.Helper()
	s := snapshot.Synthetic(200, 16, 5, 4, seed)
	s.Built += built.Milliseconds()
	if edit != nil {
		edit(s)
	}
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return blob{b: b, version: s.Version, snap: s}
}

// raw makes a blob of arbitrary bytes named by their hash.
func raw(b []byte) blob {
	return blob{b: b, version: sha(b)}
}

// fakeSource serves snapshots from memory and counts calls.
type fakeSource struct {
	mu           sync.Mutex
	pointer      string
	blobs        map[string][]byte
	pointerErr   error
	fetchErr     error
	pointerCalls int
	fetchCalls   int
}

func newSource(bs ...blob) *fakeSource {
	s := &fakeSource{blobs: map[string][]byte{}}
	for _, b := range bs {
		s.publish(b)
	}
	return s
}

// publish stores b under its version and points at it.
func (s *fakeSource) publish(b blob) { s.serve(b.version, b.b) }

// serve stores arbitrary bytes under version and points at it.
func (s *fakeSource) serve(version string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[version] = bytes.Clone(b)
	s.pointer = version
}

// down makes every call fail with err (nil: back up).
func (s *fakeSource) down(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pointerErr, s.fetchErr = err, err
}

func (s *fakeSource) calls() (pointer, fetch int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pointerCalls, s.fetchCalls
}

func (s *fakeSource) Pointer(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pointerCalls++
	if s.pointerErr != nil {
		return "", s.pointerErr
	}
	if s.pointer == "" {
		return "", errors.New("fake source: nothing published")
	}
	return s.pointer, nil
}

func (s *fakeSource) Fetch(ctx context.Context, version string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetchCalls++
	if s.fetchErr != nil {
		return nil, s.fetchErr
	}
	b, ok := s.blobs[version]
	if !ok {
		return nil, errors.New("fake source: no such version")
	}
	return bytes.Clone(b), nil
}

// fakeHub records what it is sent and answers as configured.
type fakeHub struct {
	mu        sync.Mutex
	chat      [][]byte
	summarize [][]byte
	answer    []byte
	err       error
	slow      bool // block until ctx is done
}

func (h *fakeHub) call(ctx context.Context, list *[][]byte, body []byte) ([]byte, error) {
	h.mu.Lock()
	*list = append(*list, bytes.Clone(body))
	answer, err, slow := h.answer, h.err, h.slow
	h.mu.Unlock()
	if slow {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if answer == nil {
		answer = []byte(`{"answer":"Yes, it suits dry skin.","items":["SKU-1"]}`)
	}
	return answer, nil
}

func (h *fakeHub) Chat(ctx context.Context, body []byte) ([]byte, error) {
	return h.call(ctx, &h.chat, body)
}

func (h *fakeHub) Summarize(ctx context.Context, body []byte) ([]byte, error) {
	return h.call(ctx, &h.summarize, body)
}

func (h *fakeHub) received() (chat, summarize [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.chat, h.summarize
}

// testConfig is the configuration most tests use.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Region = testRegion
	cfg.AllowedOrigins = []string{testOrigin, "http://localhost:8080"}
	cfg.RefreshEvery = 30 * time.Second
	cfg.RetryAfter = 5 * time.Second
	cfg.HubTimeout = 50 * time.Millisecond
	return cfg
}

// newEdge builds an Edge over src with the native loader and a fake clock.
func newEdge(t testing.TB, src Source, hub Hub, clk *fakeClock, edit func(*Config)) *Edge {
	t.Helper()
	cfg := testConfig()
	if edit != nil {
		edit(&cfg)
	}
	e, err := New(cfg, Deps{Source: src, Loader: NativeLoader{}, Hub: hub, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// do serves one request and returns the recorder.
func do(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// httpRequest builds a request bound to ctx.
func httpRequest(ctx context.Context, method, path, body string) *http.Request {
	return httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
}

// serve serves r and returns the recorder.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// health fetches /v1/health.
func health(t testing.TB, h http.Handler) Health {
	t.Helper()
	w := do(h, http.MethodGet, "/v1/health", "")
	if w.Code != http.StatusOK {
		t.Fatalf("health: %d %s", w.Code, w.Body)
	}
	var hl Health
	if err := json.Unmarshal(w.Body.Bytes(), &hl); err != nil {
		t.Fatalf("health: %v in %s", err, w.Body)
	}
	return hl
}

// indexOf posts a trending request and returns the index that answered.
func indexOf(t testing.TB, h http.Handler) string {
	t.Helper()
	w := do(h, http.MethodPost, "/v1/recommend", `{"placement":"trending","k":3}`)
	if w.Code != http.StatusOK {
		t.Fatalf("recommend: %d %s", w.Code, w.Body)
	}
	var resp struct {
		Index string `json:"index"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.Index
}

// errorBody decodes an error answer.
func errorBody(t testing.TB, w *httptest.ResponseRecorder) apiError {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error answer Content-Type %q, want JSON", ct)
	}
	var e apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("error answer %q is not {\"error\": ...}: %v", w.Body, err)
	}
	return e
}

// sha is the hex SHA-256 of b.
func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
