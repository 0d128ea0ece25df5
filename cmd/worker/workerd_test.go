//go:build !(js && wasm)

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/cmd/internal/workerd"
	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// These tests build the real Worker (GOOS=js GOARCH=wasm, through
// build.sh), run it in workerd (the open-source Workers runtime, from the
// npm package @cloudflare/workerd-linux-64 that wrangler installs), and talk
// to it over HTTP on loopback. The hub is publish.Handler on an httptest
// server; Workers KV is workerd's own KV binding pointed at a fake KV
// service (workerd speaks GET /{urlencoded key}?urlencoded=true to it).
//
// Without workerd they skip, unless AISLE_REQUIRE_WORKERD=1 (CI), which
// makes them fail. Times are logged, never asserted.

// maxWasmGzip is the size budget of the Worker's module, gzip-compressed
// (DESIGN.md: wasm ≤ 3 MiB gzip). Linking net/http's client (a reference
// to http.DefaultClient is enough) adds about 1.1 MB gzip on its own.
const maxWasmGzip = 3 << 20

// TestWorkerSize builds the Worker as wrangler does and holds it to the
// size budget.
func TestWorkerSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Worker; skipped in -short mode")
	}
	raw, gz, err := workerd.ModuleSize(worker(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("app.wasm: %d bytes raw (%.2f MiB), %d bytes gzip (%.2f MiB)", raw, float64(raw)/(1<<20), gz, float64(gz)/(1<<20))
	if gz > maxWasmGzip {
		t.Fatalf("app.wasm is %d bytes gzip, over the budget of %d: look for a new dependency (net/http's client, text/template, ...)", gz, maxWasmGzip)
	}
}

// TestWorkerd runs the Worker in workerd against a hub and checks, in
// order: a cold start, persistence of the one Go instance, parity with the
// native ranking core, CORS, concurrency, chat forwarding, a corrupt and a
// mismatched snapshot, a new version, and the hub going down.
func TestWorkerd(t *testing.T) {
	workerdBinary(t)
	hub := newHub(t)
	golden, cases := paritySet(t)
	first := hub.publish(t, golden)
	w := startWorkerd(t, workerdOpts{vars: map[string]string{
		"HUB_URL":         hub.srv.URL,
		"EDGE_SECRET":     testSecret,
		"REGION":          testRegion,
		"ALLOWED_ORIGINS": allowed + ", http://localhost:8080",
		"REFRESH_SECONDS": "1",
	}})
	t.Logf("workerd listening %v after start (config load, wasm compile)", w.ready.Sub(w.started).Round(time.Millisecond))

	t.Run("cold start", func(t *testing.T) {
		start := time.Now()
		h := w.health(t)
		t.Logf("first request (Go instance start + /v1/health): %v", time.Since(start).Round(time.Millisecond))
		if h.Loaded || h.Region != testRegion || h.Requests != 1 {
			t.Fatalf("health before any recommend: %+v; want region %s, not loaded, 1 request", h, testRegion)
		}
		start = time.Now()
		code, b := w.recommend(t, cases[0].req)
		t.Logf("first recommend (index fetched from the hub and loaded): %v", time.Since(start).Round(time.Millisecond))
		if code != http.StatusOK {
			t.Fatalf("first recommend: %d %s", code, b)
		}
	})

	t.Run("one instance", func(t *testing.T) {
		before := w.health(t)
		for range 5 {
			w.recommend(t, cases[0].req)
		}
		after := w.health(t)
		// A new Go instance per request would start every count from zero.
		if after.Requests != before.Requests+6 || after.Swaps != 1 || after.Index != first {
			t.Fatalf("health went from %+v to %+v: want 6 more requests, 1 swap, index %s", before, after, first[:12])
		}
	})

	t.Run("parity", func(t *testing.T) {
		for _, c := range cases {
			code, b := w.recommend(t, c.req)
			if code != http.StatusOK {
				t.Errorf("%s: %d %s", c.name, code, b)
				continue
			}
			if got := decodeAny(t, b); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: workerd and the native core differ\nworkerd: %s\nnative:  %s", c.name, b, mustJSON(t, c.want))
			}
		}
	})

	t.Run("cors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, origin string
			preflight            bool
			code                 int
			acao                 string
		}{
			{"allowed", http.MethodPost, allowed, false, 200, allowed},
			{"second allowed", http.MethodPost, "http://localhost:8080", false, 200, "http://localhost:8080"},
			{"denied", http.MethodPost, "https://evil.example", false, 200, ""},
			{"no origin", http.MethodPost, "", false, 200, ""},
			{"preflight allowed", http.MethodOptions, allowed, true, 204, allowed},
			{"preflight denied", http.MethodOptions, "https://evil.example", true, 403, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hdr := map[string]string{}
				if tc.origin != "" {
					hdr["Origin"] = tc.origin
				}
				var body []byte
				if tc.preflight {
					hdr["Access-Control-Request-Method"] = "POST"
					hdr["Access-Control-Request-Headers"] = "content-type"
				} else {
					body = cases[0].req
				}
				code, h, b := call(t, tc.method, w.url+"/v1/recommend", body, hdr)
				if code != tc.code || h.Get("Access-Control-Allow-Origin") != tc.acao {
					t.Fatalf("%d, Access-Control-Allow-Origin %q (%s); want %d, %q", code, h.Get("Access-Control-Allow-Origin"), b, tc.code, tc.acao)
				}
				if !strings.Contains(h.Get("Vary"), "Origin") {
					t.Errorf("Vary %q lacks Origin", h.Get("Vary"))
				}
				if tc.preflight && tc.code == 204 && !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("preflight Access-Control-Allow-Methods %q lacks POST", h.Get("Access-Control-Allow-Methods"))
				}
			})
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path string
			body               []byte
			code               int
		}{
			{"bad json", http.MethodPost, "/v1/recommend", []byte(`{"placement":`), 400},
			{"bad field", http.MethodPost, "/v1/recommend", []byte(`{"placement":"nowhere"}`), 400},
			{"too large", http.MethodPost, "/v1/recommend", bytes.Repeat([]byte(" "), wire.MaxBodyBytes+10), 413},
			{"over entry.mjs MAX_BODY", http.MethodPost, "/v1/recommend", bytes.Repeat([]byte(" "), 1<<20+10), 413},
			{"unknown route", http.MethodGet, "/nowhere", nil, 404},
			{"wrong method", http.MethodGet, "/v1/recommend", nil, 405},
		} {
			code, _, b := call(t, tc.method, w.url+tc.path, tc.body, nil)
			if code != tc.code {
				t.Errorf("%s: %d %s; want %d", tc.name, code, b, tc.code)
			}
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			c := cases[i%len(cases)]
			wg.Go(func() {
				resp, err := client.Post(w.url+"/v1/recommend", "application/json", bytes.NewReader(c.req))
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				switch {
				case err != nil:
					errs <- err
				case resp.StatusCode != http.StatusOK:
					errs <- fmt.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
				case !reflect.DeepEqual(decodeAny(t, b), c.want):
					errs <- fmt.Errorf("%s: answer differs from the native core: %s", c.name, b)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("latency", func(t *testing.T) {
		// The same requests against the native edge handler on loopback,
		// as a baseline measured in the same run.
		native, err := newEdge(settingsFor(t, hub.srv.URL), platform{hub: nativeHub})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(native)
		defer srv.Close()
		measure := func(base string) (p50, p99, max time.Duration) {
			const n = 500
			lat := make([]time.Duration, 0, n)
			for i := range n {
				c := cases[i%len(cases)]
				start := time.Now()
				code, _, b := call(t, http.MethodPost, base+"/v1/recommend", c.req, nil)
				lat = append(lat, time.Since(start))
				if code != http.StatusOK {
					t.Fatalf("%s: %d %s", c.name, code, b)
				}
			}
			slices.Sort(lat)
			return lat[n/2], lat[n*99/100], lat[n-1]
		}
		wp50, wp99, wmax := measure(w.url)
		np50, np99, _ := measure(srv.URL)
		t.Logf("recommend, 500 sequential requests from the test client: workerd p50 %v, p99 %v, max %v; native edge on loopback p50 %v, p99 %v (workerd/native p50 %.1fx)",
			wp50.Round(time.Microsecond), wp99.Round(time.Microsecond), wmax.Round(time.Microsecond),
			np50.Round(time.Microsecond), np99.Round(time.Microsecond), float64(wp50)/float64(np50))
	})

	t.Run("chat", func(t *testing.T) {
		code, _, b := call(t, http.MethodPost, w.url+"/v1/chat", []byte(`{"message":"gift ideas?","email":"dropped@example.com"}`), nil)
		if code != http.StatusOK {
			t.Fatalf("chat: %d %s", code, b)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got["answer"] != "echo: gift ideas?" || got["region"] != testRegion {
			t.Fatalf("chat answer %s; want the hub's echo of the message, with region %s", b, testRegion)
		}
	})

	t.Run("corrupt snapshot kept out", func(t *testing.T) {
		next := synthetic(t, 7, time.Hour)
		defer hub.serveBad("", nil)

		// A truncated snapshot named by its own hash: it verifies, and
		// does not decode.
		truncated := next.bytes[:len(next.bytes)/2]
		bad := sha(truncated)
		hub.serveBad(bad, truncated)
		h := w.waitFor(t, cases[0].req, "truncated snapshot refused", func(h edge.Health) bool {
			return h.LastError != nil && strings.Contains(*h.LastError, bad[:12])
		})
		if h.Index != first || !h.Loaded {
			t.Fatalf("after a truncated snapshot: serving %q; want %s kept", h.Index, first[:12])
		}
		t.Logf("last_error: %s", *h.LastError)

		// Bytes that do not hash to the version the pointer names.
		flipped := bytes.Clone(next.bytes)
		flipped[len(flipped)/3] ^= 1
		hub.serveBad(next.snap.Version, flipped)
		h = w.waitFor(t, cases[0].req, "mismatched snapshot refused", func(h edge.Health) bool {
			return h.LastError != nil && strings.Contains(*h.LastError, "do not match")
		})
		if h.Index != first {
			t.Fatalf("after a mismatched snapshot: serving %q; want %s kept", h.Index, first[:12])
		}
		t.Logf("last_error: %s", *h.LastError)

		// The Worker's inflater (the runtime's DecompressionStream) rejects
		// a deflate stream with a byte after its end, cut short, corrupt,
		// or inflating to more or fewer bytes than the header declares, in
		// snapshots whose trailer and name both verify.
		end := len(next.bytes) - sha256.Size
		hlen := int(binary.LittleEndian.Uint32(next.bytes[len(snapshot.Magic)+2:]))
		bodyAt := len(snapshot.Magic) + 2 + 4 + hlen
		damaged := map[string][]byte{
			"byte after the deflate stream": resign(append(append(bytes.Clone(next.bytes[:end]), 0), make([]byte, sha256.Size)...)),
			"deflate stream cut short":      resign(append(bytes.Clone(next.bytes[:end-5]), make([]byte, sha256.Size)...)),
			"deflate stream cut in half":    resign(append(bytes.Clone(next.bytes[:(bodyAt+end)/2]), make([]byte, sha256.Size)...)),
		}
		corrupt := bytes.Clone(next.bytes)
		corrupt[bodyAt] = 0x07 // a final block of the reserved type 3
		damaged["corrupt deflate stream"] = resign(corrupt)
		for _, d := range []int64{-1, 1} {
			c := bytes.Clone(next.bytes)
			binary.LittleEndian.PutUint64(c[bodyAt-8:], uint64(int64(binary.LittleEndian.Uint64(c[bodyAt-8:]))+d))
			damaged[fmt.Sprintf("declared body length %+d", d)] = resign(c)
		}
		for name, c := range damaged {
			v := sha(c)
			hub.serveBad(v, c)
			h = w.waitFor(t, cases[0].req, name+" refused", func(h edge.Health) bool {
				return h.LastError != nil && strings.Contains(*h.LastError, v[:12]) && strings.Contains(*h.LastError, "snapshot: ")
			})
			if h.Index != first {
				t.Fatalf("after a snapshot with a %s: serving %q; want %s kept", name, h.Index, first[:12])
			}
			t.Logf("%s: last_error: %s", name, *h.LastError)
		}
		code, b := w.recommend(t, cases[0].req)
		if code != http.StatusOK || !reflect.DeepEqual(decodeAny(t, b), cases[0].want) {
			t.Fatalf("recommend with the old index kept: %d %s", code, b)
		}
	})

	t.Run("new version", func(t *testing.T) {
		next := synthetic(t, 8, 2*time.Hour)
		v := hub.publish(t, next)
		start := time.Now()
		h := w.waitFor(t, cases[0].req, "new version "+v[:12], func(h edge.Health) bool { return h.Index == v })
		t.Logf("new version served %v after publishing (REFRESH_SECONDS=1)", time.Since(start).Round(time.Millisecond))
		if h.LastError != nil || h.Items != next.snap.Len() {
			t.Fatalf("after the new version: %+v; want no last_error and %d items", h, next.snap.Len())
		}
	})

	t.Run("hub down", func(t *testing.T) {
		hub.srv.Close()
		failed := 0
		for i := range 100 {
			if code, b := w.recommend(t, cases[i%len(cases)].req); code != http.StatusOK {
				failed++
				t.Logf("request %d: %d %s", i, code, b)
			}
			if i%20 == 19 {
				time.Sleep(300 * time.Millisecond) // let refreshes come due and fail
			}
		}
		if failed > 0 {
			t.Fatalf("%d of 100 recommend requests failed with the hub down", failed)
		}
		h := w.health(t)
		if h.LastError == nil || !h.Loaded {
			t.Fatalf("with the hub down: %+v; want the index kept and last_error set", h)
		}
		t.Logf("last_error with the hub down: %s", *h.LastError)
	})
}

// TestWorkerdKV binds the SNAPSHOTS KV namespace: the Worker reads the
// snapshot from KV when it is there, and from the hub when KV has none.
func TestWorkerdKV(t *testing.T) {
	workerdBinary(t)
	hub := newHub(t)
	kv := newKV(t)
	fromHub := synthetic(t, 21, 0)
	hub.publish(t, fromHub)
	w := startWorkerd(t, workerdOpts{kv: kv.srv.URL, vars: map[string]string{
		"HUB_URL":         hub.srv.URL,
		"EDGE_SECRET":     testSecret,
		"REGION":          testRegion,
		"REFRESH_SECONDS": "1",
	}})
	req := mustJSON(t, wire.RecommendRequest{Placement: wire.Trending, Now: goldenNow})

	// KV empty: the hub's snapshot.
	if code, b := w.recommend(t, req); code != http.StatusOK {
		t.Fatalf("recommend with KV empty: %d %s", code, b)
	}
	if h := w.health(t); h.Index != fromHub.snap.Version {
		t.Fatalf("with KV empty, serving %q; want the hub's %s", h.Index, fromHub.snap.Version[:12])
	}
	if kv.count(pointerKey(testRegion)) == 0 {
		t.Fatalf("the Worker never read %s from KV", pointerKey(testRegion))
	}

	// A newer snapshot in KV, as JSON pointer; the hub still has the old one.
	fromKV := synthetic(t, 22, time.Hour)
	kv.put(contentKey(testRegion, fromKV.snap.Version), fromKV.bytes)
	kv.put(pointerKey(testRegion), []byte(`{"version":"`+fromKV.snap.Version+`","hash":"`+fromKV.snap.Version+`","built":1767229200000}`))
	w.waitFor(t, req, "snapshot from KV", func(h edge.Health) bool { return h.Index == fromKV.snap.Version })

	// The hub's pointer, with the length: the value streams into the
	// decoder. One with a wrong length fails once, then is read whole.
	streamed := synthetic(t, 24, 90*time.Minute)
	kv.put(contentKey(testRegion, streamed.snap.Version), streamed.bytes)
	kv.put(pointerKey(testRegion), snapshot.KVPointerValue(streamed.snap.Version, len(streamed.bytes)))
	w.waitFor(t, req, "snapshot streamed from KV", func(h edge.Health) bool { return h.Index == streamed.snap.Version })
	lying := synthetic(t, 25, 100*time.Minute)
	kv.put(contentKey(testRegion, lying.snap.Version), lying.bytes)
	kv.put(pointerKey(testRegion), snapshot.KVPointerValue(lying.snap.Version, len(lying.bytes)-5))
	h := w.waitFor(t, req, "snapshot with a wrong length read whole", func(h edge.Health) bool { return h.Index == lying.snap.Version })
	if h.RefreshErrors == 0 {
		t.Fatal("a pointer with a wrong length loaded at the first attempt; the streamed read should have failed once")
	}

	// A plain-text pointer to a version KV does not hold: the hub has it.
	both := synthetic(t, 23, 2*time.Hour)
	hub.publish(t, both)
	kv.put(pointerKey(testRegion), []byte(both.snap.Version+"\n"))
	w.waitFor(t, req, "KV pointer, hub bytes", func(h edge.Health) bool { return h.Index == both.snap.Version })
	if kv.count(contentKey(testRegion, both.snap.Version)) == 0 {
		t.Fatalf("the Worker did not try KV for %s before the hub", both.snap.Version[:12])
	}
	if code, b := w.recommend(t, req); code != http.StatusOK {
		t.Fatalf("recommend: %d %s", code, b)
	}
}

// TestWorkerdMisconfigured: without REGION the Worker answers 503 on every
// route and says where to look, instead of failing to start per request.
func TestWorkerdMisconfigured(t *testing.T) {
	workerdBinary(t)
	w := startWorkerd(t, workerdOpts{vars: map[string]string{"HUB_URL": "http://127.0.0.1:9", "EDGE_SECRET": testSecret}})
	for range 2 {
		code, _, b := call(t, http.MethodGet, w.url+"/v1/health", nil, nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "not configured") {
			t.Fatalf("health without REGION: %d %s; want 503 \"not configured\"", code, b)
		}
	}
	// The configuration error is logged once, naming the binding.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.Output(), "REGION is not set") {
		if time.Now().After(deadline) {
			t.Logf("workerd output does not show the configuration error (console output may be off): %s", w.Output())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(w.Output(), testSecret) {
		t.Fatal("the secret appears in the Worker's logs")
	}
}

// TestWorkerdInstance checks entry.mjs's handling of the one Go instance:
// it persists across requests and survives a handler panic, and after the
// Go program exits or crashes the request in flight gets 503 and the next
// one a fresh program.
func TestWorkerdInstance(t *testing.T) {
	workerdBinary(t)
	w := startWorkerd(t, workerdOpts{build: crashWorker(t)})
	get := func(path string, wantCode int, wantBody string) {
		t.Helper()
		code, _, b := call(t, http.MethodGet, w.url+path, nil, nil)
		if code != wantCode || (wantBody != "" && string(b) != wantBody) {
			t.Fatalf("GET %s: %d %q; want %d %q", path, code, b, wantCode, wantBody)
		}
	}
	get("/count", 200, "1")
	get("/count", 200, "2") // the same Go program
	get("/handler-panic", 500, "")
	get("/count", 200, "4") // a recovered panic keeps the program
	get("/exit", 503, "")
	get("/count", 200, "1") // a fresh program after os.Exit
	get("/count", 200, "2")
	get("/crash", 503, "")
	get("/count", 200, "1") // and after a fatal panic

	// Concurrent requests share the one program.
	var wg sync.WaitGroup
	counts := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			code, _, b := call(t, http.MethodGet, w.url+"/count", nil, nil)
			n, _ := strconv.Atoi(string(b))
			if code != 200 {
				n = -code
			}
			counts <- n
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]bool{}
	for n := range counts {
		if n < 2 || n > 21 || seen[n] {
			t.Errorf("concurrent /count answered %d; want each of 2..21 once", n)
		}
		seen[n] = true
	}
}

// TestWorkerdColdConcurrent sends 50 concurrent recommend requests as the
// very first requests of a fresh workerd: they share one Go program start
// and one index load, and all are answered.
func TestWorkerdColdConcurrent(t *testing.T) {
	workerdBinary(t)
	hub := newHub(t)
	e := synthetic(t, 31, 0)
	v := hub.publish(t, e)
	w := startWorkerd(t, workerdOpts{vars: map[string]string{
		"HUB_URL": hub.srv.URL, "EDGE_SECRET": testSecret, "REGION": testRegion,
	}})
	req := mustJSON(t, wire.RecommendRequest{Placement: wire.ForYou, Now: goldenNow, Events: []wire.Event{
		{Type: wire.View, Item: e.snap.Items.IDs[3], Time: goldenNow - 60_000}}})
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		wg.Go(func() {
			resp, err := client.Post(w.url+"/v1/recommend", "application/json", bytes.NewReader(req))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%d %s", resp.StatusCode, b)
			}
		})
	}
	wg.Wait()
	close(errs)
	t.Logf("%d concurrent first requests answered in %v", n, time.Since(start).Round(time.Millisecond))
	for err := range errs {
		t.Error(err)
	}
	if h := w.health(t); h.Index != v || h.Swaps != 1 || h.Requests != n+1 {
		t.Fatalf("health %+v; want index %s loaded once and %d requests in one instance", h, v[:12], n+1)
	}
}

// TestWorkerdHungHub: a hub that accepts connections and never answers
// holds no recommend request much beyond the pointer check's bound
// (pointerTimeout): with an index loaded the requests that run the due
// check are answered from it, and without one the first request is
// answered 503 instead of waiting for the platform's limit (about a
// minute) or the entry module's (30 s). Chat, through the same hub, is
// answered degraded after hubTimeout.
func TestWorkerdHungHub(t *testing.T) {
	workerdBinary(t)
	// The bound asserted, with a generous margin for a loaded machine:
	// far below the 30 s and 60 s a hung fetch would otherwise take.
	const bound = pointerTimeout + 6*time.Second

	t.Run("index loaded", func(t *testing.T) {
		hub := newHub(t)
		e := synthetic(t, 41, 0)
		v := hub.publish(t, e)
		w := startWorkerd(t, workerdOpts{vars: map[string]string{
			"HUB_URL": hub.srv.URL, "EDGE_SECRET": testSecret, "REGION": testRegion, "REFRESH_SECONDS": "1",
		}})
		req := mustJSON(t, wire.RecommendRequest{Placement: wire.Trending, Now: goldenNow})
		if code, b := w.recommend(t, req); code != http.StatusOK {
			t.Fatalf("recommend with the hub up: %d %s", code, b)
		}
		hub.hung.Store(true)
		var slowest time.Duration
		for i := range 6 {
			time.Sleep(1100 * time.Millisecond) // a pointer check is due again
			start := time.Now()
			code, b := w.recommend(t, req)
			took := time.Since(start)
			slowest = max(slowest, took)
			if code != http.StatusOK {
				t.Fatalf("request %d with the hub hung: %d %s", i, code, b)
			}
			if took > bound {
				t.Fatalf("request %d with the hub hung took %v; want at most %v (pointer bound %v)", i, took.Round(time.Millisecond), bound, pointerTimeout)
			}
		}
		t.Logf("slowest recommend with the hub hung: %v (pointer bound %v); the hub held %d requests", slowest.Round(time.Millisecond), pointerTimeout, hub.waits.Load())
		if hub.waits.Load() == 0 {
			t.Fatal("the Worker never asked the hung hub: no pointer check ran")
		}
		h := w.health(t)
		if h.Index != v || h.LastError == nil {
			t.Fatalf("health with the hub hung: %+v; want index %s kept and last_error set", h, v[:12])
		}
		t.Logf("last_error: %s", *h.LastError)

		start := time.Now()
		code, _, b := call(t, http.MethodPost, w.url+"/v1/chat", mustJSON(t, map[string]any{"message": "hello", "region": testRegion}), nil)
		t.Logf("chat with the hub hung: %d after %v: %.200s", code, time.Since(start).Round(time.Millisecond), b)
		if took := time.Since(start); took > hubTimeout+6*time.Second {
			t.Fatalf("chat with the hub hung took %v; want about %v", took.Round(time.Millisecond), hubTimeout)
		}
	})

	t.Run("no index", func(t *testing.T) {
		hub := newHub(t)
		hub.hung.Store(true)
		w := startWorkerd(t, workerdOpts{vars: map[string]string{
			"HUB_URL": hub.srv.URL, "EDGE_SECRET": testSecret, "REGION": testRegion,
		}})
		req := mustJSON(t, wire.RecommendRequest{Placement: wire.Trending, Now: goldenNow})
		start := time.Now()
		code, b := w.recommend(t, req)
		took := time.Since(start)
		t.Logf("first recommend with the hub hung: %d after %v", code, took.Round(time.Millisecond))
		if code != http.StatusServiceUnavailable {
			t.Fatalf("first recommend with the hub hung: %d %s; want 503", code, b)
		}
		// The cold start (Go instance, module compile) comes on top.
		if took > bound+5*time.Second {
			t.Fatalf("first recommend with the hub hung took %v; want about %v", took.Round(time.Millisecond), pointerTimeout)
		}
	})
}
