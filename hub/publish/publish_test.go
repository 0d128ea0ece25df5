package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

func snap(t *testing.T, region string, seed uint64) []byte {
	t.Helper()
	s := snapshot.Synthetic(50, 8, 4, 3, seed)
	s.Region = region
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublishKeepsLastGood(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pointer("eu"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store pointer: %v", err)
	}
	v1, err := st.Publish("eu", snap(t, "eu", 1))
	if err != nil {
		t.Fatal(err)
	}
	bad := snap(t, "eu", 2)
	bad[len(bad)/2] ^= 1
	for name, tc := range map[string]struct {
		region string
		b      []byte
	}{
		"corrupt":      {"eu", bad},
		"truncated":    {"eu", snap(t, "eu", 3)[:100]},
		"other region": {"eu", snap(t, "us", 4)},
		"bad region":   {"../x", snap(t, "eu", 5)},
	} {
		if _, err := st.Publish(tc.region, tc.b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if p, _ := st.Pointer("eu"); p != v1 {
		t.Fatalf("pointer moved to %q after refused publishes", p)
	}
	v2, err := st.Publish("eu", snap(t, "eu", 6))
	if err != nil || v2 == v1 {
		t.Fatalf("second publish: %v %v", v2, err)
	}
	if p, _ := st.Pointer("eu"); p != v2 {
		t.Fatalf("pointer %q, want %q", p, v2)
	}
	// Old versions stay readable (edges may still be fetching them).
	if _, err := st.Get("eu", v1); err != nil {
		t.Fatal(err)
	}
	// A stored file that no longer matches its name is never served: the
	// store serves the bytes it checked when they are still cached, and
	// refuses the file when they are not.
	if err := os.WriteFile(filepath.Join(st.dir, "eu", v1+".snap"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := st.Get("eu", v1); err != nil || sha(b) != v1 {
		t.Fatalf("cached v1: %d bytes hashing to %.12s, %v; want the checked bytes", len(b), sha(b), err)
	}
	cold, err := Open(st.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cold.Get("eu", v1); err == nil {
		t.Fatal("tampered snapshot served")
	}
	if b, err := cold.Get("eu", v2); err != nil || sha(b) != v2 {
		t.Fatalf("v2 from disk: %.12s, %v", sha(b), err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestStoreCache: the cache holds at most CacheBytes, dropping the least
// recently served version first, and every Get returns a version's bytes.
func TestStoreCache(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	var size int
	for seed := range 4 {
		b := snap(t, "eu", uint64(10+seed))
		size = max(size, len(b))
		v, err := st.Publish("eu", b)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	// A store reopened with room for two versions.
	st2, err := Open(st.dir)
	if err != nil {
		t.Fatal(err)
	}
	st2.CacheBytes = 2*size + size/2
	for _, v := range vs {
		if b, err := st2.Get("eu", v); err != nil || sha(b) != v {
			t.Fatalf("Get %.12s: %v", v, err)
		}
		if st2.cached > st2.CacheBytes || len(st2.cache) > 2 {
			t.Fatalf("cache holds %d bytes in %d versions; limit %d", st2.cached, len(st2.cache), st2.CacheBytes)
		}
	}
	// vs[2] served again is the most recent; vs[3] is dropped for vs[0].
	if _, err := st2.Get("eu", vs[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Get("eu", vs[0]); err != nil {
		t.Fatal(err)
	}
	_, has0 := st2.cache["eu/"+vs[0]]
	_, has2 := st2.cache["eu/"+vs[2]]
	_, has3 := st2.cache["eu/"+vs[3]]
	if !has0 || !has2 || has3 {
		t.Fatalf("cache holds v0 %v, v2 %v, v3 %v; want v0 and v2", has0, has2, has3)
	}
	// No cache at all still serves checked bytes.
	st2.CacheBytes = 0
	st2.cache, st2.cached = map[string]*cached{}, 0
	if b, err := st2.Get("eu", vs[1]); err != nil || sha(b) != vs[1] || len(st2.cache) != 0 {
		t.Fatalf("uncached Get: %v, cache %d", err, len(st2.cache))
	}
}

func TestHandler(t *testing.T) {
	st, _ := Open(t.TempDir())
	b := snap(t, "eu", 1)
	v, err := st.Publish("eu", b)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(st, "s3cret"))
	defer srv.Close()
	other := v[:63] + "0"
	if other == v {
		other = v[:63] + "1"
	}
	get := func(path, auth, etag string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	tests := []struct {
		name, path, auth, etag string
		code                   int
	}{
		{"current", "/v1/snapshots/eu/current", "Bearer s3cret", "", 200},
		{"content", "/v1/snapshots/eu/" + v, "Bearer s3cret", "", 200},
		{"not modified", "/v1/snapshots/eu/" + v, "Bearer s3cret", `"` + v + `"`, 304},
		{"no credential", "/v1/snapshots/eu/current", "", "", 401},
		{"wrong credential", "/v1/snapshots/eu/current", "Bearer nope", "", 401},
		{"unknown region", "/v1/snapshots/us/current", "Bearer s3cret", "", 404},
		{"unknown version", "/v1/snapshots/eu/" + other, "Bearer s3cret", "", 404},
		{"traversal", "/v1/snapshots/..%2f..%2fetc/passwd", "Bearer s3cret", "", 404},
		{"other route", "/v1/admin", "Bearer s3cret", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(tc.path, tc.auth, tc.etag)
			if code != tc.code {
				t.Fatalf("status %d (%s), want %d", code, body, tc.code)
			}
			if tc.name == "content" && string(body) != string(b) {
				t.Fatal("served bytes differ from the published ones")
			}
		})
	}
}

// TestEdgeLoadsFromHub runs the real edge source against the real hub
// handler: the edge finds the pointer, fetches, verifies and ranks.
func TestEdgeLoadsFromHub(t *testing.T) {
	st, _ := Open(t.TempDir())
	v, err := st.Publish("eu", snap(t, "eu", 1))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(st, "s3cret"))
	defer srv.Close()
	src, err := edge.NewHTTPSource(srv.URL, "eu", "s3cret", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := src.Pointer(ctx)
	if err != nil || got != v {
		t.Fatalf("pointer %q %v, want %q", got, err, v)
	}
	b, err := src.Fetch(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	r, err := edge.NativeLoader{}.Load(ctx, b)
	if err != nil || r.Version() != v {
		t.Fatalf("load: %v", err)
	}
}
