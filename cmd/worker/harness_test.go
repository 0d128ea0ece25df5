//go:build !(js && wasm)

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/cmd/internal/workerd"
	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// The harness of the workerd tests: the Worker's build, a hub, a fake KV
// service, workerd itself, and the parity requests.

const (
	testRegion = "eu-west"
	testSecret = "test-edge-secret"
	allowed    = "https://shop.example"
	// goldenNow is the request clock of the parity requests: requests carry
	// it, so the edge's clock never stamps them.
	goldenNow = int64(1767268800000) // 2026-01-01T12:00:00Z
)

// root is the repository root (tests run in cmd/worker).
func root(t testing.TB) string {
	t.Helper()
	r, err := workerd.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// workerdBinary finds workerd, skipping (or failing, when
// AISLE_REQUIRE_WORKERD=1) if it is not installed.
func workerdBinary(t testing.TB) string {
	t.Helper()
	require := os.Getenv("AISLE_REQUIRE_WORKERD") == "1"
	if testing.Short() && !require {
		t.Skip("workerd tests build the Worker and start workerd; skipped in -short mode")
	}
	p, err := workerd.Binary(root(t))
	if err != nil {
		if require {
			t.Fatal(err.Error() + " (AISLE_REQUIRE_WORKERD=1)")
		}
		t.Skip(err)
	}
	return p
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// TestMain removes the shared build directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	crashOnce sync.Once
	crashDir  string
	crashErr  error
)

// crashWorker builds testdata/crashworker, a Go program that exits or
// crashes on request, next to the Worker's entry.mjs and wasm_exec.js.
func crashWorker(t testing.TB) string {
	t.Helper()
	w := worker(t)
	crashOnce.Do(func() {
		crashDir = filepath.Join(w, "crashworker")
		if crashErr = os.MkdirAll(crashDir, 0o755); crashErr != nil {
			return
		}
		for _, f := range []string{workerd.EntryModule, workerd.GoSupport, workerd.Bridge} {
			b, err := os.ReadFile(filepath.Join(w, f))
			if err == nil {
				err = os.WriteFile(filepath.Join(crashDir, f), b, 0o644)
			}
			if err != nil {
				crashErr = err
				return
			}
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(crashDir, workerd.Module), "./testdata/crashworker")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			crashErr = fmt.Errorf("build crashworker: %v\n%s", err, out)
		}
	})
	if crashErr != nil {
		t.Fatal(crashErr)
	}
	return crashDir
}

// worker builds the Worker once per test binary, with build.sh, the script
// wrangler.toml runs (workerd.Build), and returns the directory holding
// app.wasm, wasm_exec.js and entry.mjs.
func worker(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "aisle-worker-")
		if buildErr != nil {
			return
		}
		buildErr = workerd.Build(context.Background(), root(t), buildDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// encoded is a snapshot and its bytes.
type encoded struct {
	snap  *snapshot.Snapshot
	bytes []byte
}

func encode(t testing.TB, s *snapshot.Snapshot) encoded {
	t.Helper()
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	return encoded{snap: s, bytes: b}
}

// synthetic is a small snapshot for region testRegion, built later than
// snapshot.Synthetic's default by the given offset.
func synthetic(t testing.TB, seed uint64, later time.Duration) encoded {
	t.Helper()
	s := snapshot.Synthetic(300, 16, 8, 6, seed)
	s.Region = testRegion
	s.Built += later.Milliseconds()
	return encode(t, s)
}

// testHub is the hub: publish.Handler over a publish.Store and a chat
// route. serveBad makes it name and serve bytes of its choosing instead,
// as a hub (or its storage, or a cache in front of it) gone wrong would;
// publish.Store itself never points at bytes that do not decode.
type testHub struct {
	store *publish.Store
	srv   *httptest.Server

	mu         sync.Mutex
	badVersion string // when set, the pointer route names it
	badBytes   []byte // and its route serves these

	// hung, while set, makes every route accept the request and never
	// answer it (until the client gives up or the test ends).
	hung    atomic.Bool
	stopped chan struct{}
	// waits counts the requests a hung hub has held.
	waits atomic.Int64
}

func newHub(t testing.TB) *testHub {
	t.Helper()
	h := &testHub{stopped: make(chan struct{})}
	var err error
	if h.store, err = publish.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	snapshots := publish.Handler(h.store, testSecret)
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/snapshots/", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		version, b := h.badVersion, h.badBytes
		h.mu.Unlock()
		if version == "" || r.Header.Get("Authorization") != "Bearer "+testSecret {
			snapshots.ServeHTTP(w, r)
			return
		}
		switch name := path.Base(r.URL.Path); {
		case name == version:
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(b)
		case len(name) != 64: // the pointer route, whatever its name
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"version": version, "hash": version})
		default:
			snapshots.ServeHTTP(w, r)
		}
	})
	mux.HandleFunc("POST /v1/chat", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testSecret {
			http.Error(w, `{"error":"unauthorised"}`, http.StatusUnauthorized)
			return
		}
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"answer": "echo: " + fmt.Sprint(in["message"]), "region": in["region"]})
	})
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.hung.Load() {
			h.waits.Add(1)
			select {
			case <-r.Context().Done():
			case <-h.stopped:
			}
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	// Runs before Close, which waits for the held requests.
	t.Cleanup(func() { close(h.stopped) })
	return h
}

// serveBad points at version and serves b under it; "" goes back to the
// store.
func (h *testHub) serveBad(version string, b []byte) {
	h.mu.Lock()
	h.badVersion, h.badBytes = version, b
	h.mu.Unlock()
}

func (h *testHub) publish(t testing.TB, e encoded) string {
	t.Helper()
	v, err := h.store.Publish(testRegion, e.bytes)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeKV is a Workers KV namespace as workerd's KV binding sees it: an
// HTTP service answering GET /{url-encoded key}?urlencoded=true with the
// value, or 404 for a missing key.
type fakeKV struct {
	mu   sync.Mutex
	vals map[string][]byte
	gets map[string]int
	srv  *httptest.Server
}

func newKV(t testing.TB) *fakeKV {
	t.Helper()
	kv := &fakeKV{vals: map[string][]byte{}, gets: map[string]int{}}
	kv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		key, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"))
		if err != nil {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		kv.mu.Lock()
		v, ok := kv.vals[key]
		kv.gets[key]++
		kv.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(v)
	}))
	t.Cleanup(kv.srv.Close)
	return kv
}

func (kv *fakeKV) put(key string, v []byte) {
	kv.mu.Lock()
	kv.vals[key] = bytes.Clone(v)
	kv.mu.Unlock()
}

func (kv *fakeKV) count(key string) int {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kv.gets[key]
}

// workerdRun is a running workerd serving the Worker.
type workerdRun struct {
	*workerd.Process
	url     string
	started time.Time
	ready   time.Time // when its socket first accepted a connection
}

// workerdOpts configures one workerd.
type workerdOpts struct {
	build string            // directory with entry.mjs, wasm_exec.js, app.wasm; "" is the Worker
	vars  map[string]string // text bindings (env vars and the secret)
	kv    string            // fake KV base URL; "" binds no SNAPSHOTS
}

// startWorkerd starts workerd serving the built Worker on a free loopback
// port (workerd.Start). It returns once the port accepts connections (the
// Go program starts with the first request). workerd is killed in
// t.Cleanup.
func startWorkerd(t *testing.T, o workerdOpts) *workerdRun {
	t.Helper()
	cfg := workerd.DefaultConfig()
	cfg.Binary = workerdBinary(t)
	cfg.Build = o.build
	if cfg.Build == "" {
		cfg.Build = worker(t)
	}
	cfg.Vars, cfg.KV = o.vars, o.kv
	p, err := workerd.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() || os.Getenv("AISLE_WORKERD_LOG") == "1" {
			t.Logf("workerd output:\n%s", p.Output())
		}
	})
	return &workerdRun{Process: p, url: p.URL, started: p.Started, ready: p.Listening}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// call sends one request and returns status, headers and body.
func call(t testing.TB, method, u string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header, b
}

func (w *workerdRun) health(t testing.TB) edge.Health {
	t.Helper()
	h, err := w.Health(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (w *workerdRun) recommend(t testing.TB, req []byte) (int, []byte) {
	t.Helper()
	code, _, b := call(t, http.MethodPost, w.url+"/v1/recommend", req, nil)
	return code, b
}

// waitFor sends a recommend request (which runs a due refresh) and reads
// health until ok accepts it, for up to 15 s.
func (w *workerdRun) waitFor(t testing.TB, req []byte, what string, ok func(edge.Health) bool) edge.Health {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		w.recommend(t, req)
		h := w.health(t)
		if ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 15 s; health: %+v", what, h)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// parityCase is a recommend request and what the native core answers.
type parityCase struct {
	name string
	req  []byte // storefront JSON
	want any    // the native answer, decoded from its JSON
}

// paritySet is a snapshot and requests to check on it: the wasm package's
// golden requests when they are there and match their manifest, else our
// own.
func paritySet(t testing.TB) (encoded, []parityCase) {
	t.Helper()
	e, reqs, src := goldenRequests(t)
	if e.snap == nil {
		e, reqs, src = ownRequests(t)
	}
	t.Logf("parity requests: %d from %s, snapshot %s (%d bytes)", len(reqs), src, e.snap.Version[:12], len(e.bytes))
	dec, err := snapshot.Decode(e.bytes, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := rank.New(dec, rank.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range reqs {
			if !yield(k) {
				return
			}
		}
	})
	var cases []parityCase
	for _, name := range names {
		req, err := wire.DecodeRecommendRequestJSON(reqs[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if req.Now == 0 {
			// The edge stamps its own clock on requests without now.
			req.Now = goldenNow
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		resp := wire.RecommendResponse{Items: []wire.Rec{}}
		if err := x.Rank(req, &resp); err != nil {
			t.Fatalf("%s: native: %v", name, err)
		}
		cases = append(cases, parityCase{name: name, req: body, want: decodeAny(t, mustJSON(t, resp))})
	}
	return e, cases
}

// goldenRequests reads ../../wasm/testdata/golden: snapshot.json says how
// the snapshot was made, *.request.json are the requests.
func goldenRequests(t testing.TB) (encoded, map[string][]byte, string) {
	t.Helper()
	dir := filepath.Join(root(t), "wasm", "testdata", "golden")
	mb, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		return encoded{}, nil, ""
	}
	var m struct {
		Generator               string
		N, Dims, Nbrs, Clusters int
		Seed                    uint64
		Encode, Version         string
	}
	if err := json.Unmarshal(mb, &m); err != nil || m.Generator != "snapshot.Synthetic" || !strings.Contains(m.Encode, "Compress: true") {
		t.Logf("golden manifest not understood (%v); using own requests", err)
		return encoded{}, nil, ""
	}
	s := snapshot.Synthetic(m.N, m.Dims, m.Nbrs, m.Clusters, m.Seed)
	if s.Region == "" {
		s.Region = testRegion
	}
	e := encode(t, s)
	if e.snap.Version != m.Version {
		t.Logf("golden snapshot %s does not match the manifest's %s (stale golden files?); using own requests", e.snap.Version[:12], m.Version)
		return encoded{}, nil, ""
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.request.json"))
	reqs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		reqs[strings.TrimSuffix(filepath.Base(f), ".request.json")] = b
	}
	if len(reqs) == 0 {
		return encoded{}, nil, ""
	}
	return e, reqs, "wasm/testdata/golden"
}

// ownRequests covers every placement, filters, k=1 and k=100, and an empty
// session, on snapshot.Synthetic(2000, 32, 10, 16, 1).
func ownRequests(t testing.TB) (encoded, map[string][]byte, string) {
	t.Helper()
	s := snapshot.Synthetic(2000, 32, 10, 16, 1)
	s.Region = testRegion
	e := encode(t, s)
	id := func(i int) string { return s.Items.IDs[i] }
	ev := func(typ wire.EventType, i int, minutesAgo int64) wire.Event {
		return wire.Event{Type: typ, Item: id(i), Time: goldenNow - minutesAgo*60_000}
	}
	session := []wire.Event{ev(wire.View, 10, 30), ev(wire.Click, 11, 20), ev(wire.AddToCart, 500, 10),
		{Type: wire.Search, Query: "serum", Time: goldenNow - 5*60_000}, ev(wire.View, 900, 1)}
	cat := s.Items.Categories[10]
	if i := strings.Index(cat, " > "); i > 0 {
		cat = cat[:i]
	}
	reqs := map[string]*wire.RecommendRequest{
		"for_you":              {Placement: wire.ForYou, Events: session},
		"for_you_empty":        {Placement: wire.ForYou},
		"for_you_k1":           {Placement: wire.ForYou, Events: session, K: 1},
		"for_you_k100_filters": {Placement: wire.ForYou, Events: session, K: 100, Filters: wire.Filters{Categories: []string{cat}, PriceMin: 5, PriceMax: 80, InStock: true, Exclude: []string{id(12), id(13)}}},
		"similar":              {Placement: wire.Similar, Item: id(42), Events: session},
		"similar_empty":        {Placement: wire.Similar, Item: id(43)},
		"bought_together":      {Placement: wire.BoughtTogether, Item: id(500), K: 100},
		"trending":             {Placement: wire.Trending, K: 100, Filters: wire.Filters{InStock: true}},
		"search":               {Placement: wire.SearchResults, Query: "serum", Events: session},
		"search_k1":            {Placement: wire.SearchResults, Query: "mat", K: 1},
		"cart":                 {Placement: wire.Cart, Item: id(500), Events: session},
		"cart_empty":           {Placement: wire.Cart},
	}
	out := map[string][]byte{}
	for name, r := range reqs {
		r.Now = goldenNow
		out[name] = mustJSON(t, r)
	}
	return e, out, "own requests"
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // compare numbers as written, not as float64
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// settingsFor is the test Worker's configuration, for a native edge.
func settingsFor(t testing.TB, hubURL string) settings {
	t.Helper()
	s, err := loadSettings(env("HUB_URL", hubURL, "EDGE_SECRET", testSecret, "REGION", testRegion,
		"ALLOWED_ORIGINS", allowed, "REFRESH_SECONDS", "1"), false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The KV keys the hub publishes to, spelled out here as the contract they
// are (edge.PointerKey and edge.ContentKey build them in the Worker).
func pointerKey(region string) string          { return "snapshot:" + region + ":pointer" }
func contentKey(region, version string) string { return "snapshot:" + region + ":" + version }
