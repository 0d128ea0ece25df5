package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// post sends body to the admin API with token (none when empty).
func post(t *testing.T, h http.Handler, method, path, token string, body io.Reader) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec, out
}

func TestAdminAuth(t *testing.T) {
	st := testStore(t)
	h := AdminHandler(st, nil)
	body := `{"id":"p1","title":"Train"}`
	cases := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"own token", "POST", "/v1/admin/a/catalog", "Bearer " + tokenA, 200},
		{"lower-case scheme", "POST", "/v1/admin/b/catalog", "bearer " + tokenB, 200},
		{"no header", "POST", "/v1/admin/a/catalog", "", 401},
		{"basic auth", "POST", "/v1/admin/a/catalog", "Basic " + tokenA, 401},
		{"unknown token", "POST", "/v1/admin/a/catalog", "Bearer not-a-token-0123456789", 401},
		{"unknown token, unknown shop", "POST", "/v1/admin/nope/catalog", "Bearer not-a-token-0123456789", 401},
		{"another shop's token", "POST", "/v1/admin/b/catalog", "Bearer " + tokenA, 403},
		{"valid token, unknown shop", "POST", "/v1/admin/nope/catalog", "Bearer " + tokenA, 404},
		{"unknown kind", "POST", "/v1/admin/a/orders", "Bearer " + tokenA, 404},
		{"GET", "GET", "/v1/admin/a/catalog", "Bearer " + tokenA, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body.String())
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAdminIngest(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	var logs bytes.Buffer
	h := AdminHandler(st, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	// 200 with the result, then 0 changed on the same body.
	events := `{"session":"visitor-secret-session","type":"view","item":"p1","time":1}
{"session":"visitor-secret-session","type":"search","query":"secret query","time":2}
`
	for i, want := range []float64{2, 0} {
		rec, out := post(t, h, "POST", "/v1/admin/a/events", tokenA, strings.NewReader(events))
		if rec.Code != 200 || out["read"] != 2.0 || out["changed"] != want {
			t.Fatalf("round %d: %d %v", i, rec.Code, out)
		}
	}
	rec, out := post(t, h, "POST", "/v1/admin/a/faq", tokenA, strings.NewReader(`{"id":"returns","title":"Returns","body":"# Returns\n30 days"}`))
	if rec.Code != 200 || out["changed"] != 1.0 {
		t.Fatalf("faq: %d %v", rec.Code, out)
	}
	rec, out = post(t, h, "POST", "/v1/admin/a/reviews", tokenA, strings.NewReader(`{"id":"r1","item":"p1","stars":4}`))
	if rec.Code != 200 || out["changed"] != 1.0 {
		t.Fatalf("reviews: %d %v", rec.Code, out)
	}

	// 400 with every bad row, and nothing written.
	before, beforeB := snap(t, st, "a"), snap(t, st, "b")
	bad := `{"id":"p1","title":"ok"}
{"id":"p2","title":"","price":-3}
{"id":"p3"
`
	rec, out = post(t, h, "POST", "/v1/admin/a/catalog", tokenA, strings.NewReader(bad))
	if rec.Code != 400 || out["total"] != 3.0 {
		t.Fatalf("bad rows: %d %v", rec.Code, out)
	}
	rows := out["rows"].([]any)
	first := rows[0].(map[string]any)
	if first["line"] != 2.0 || first["field"] != "title" || first["problem"] == "" {
		t.Errorf("first row error %v", first)
	}
	if snap(t, st, "a") != before {
		t.Error("a rejected body changed the store")
	}

	// Shop a's token cannot write to shop b.
	rec, _ = post(t, h, "POST", "/v1/admin/b/catalog", tokenA, strings.NewReader(`{"id":"p1","title":"hijack"}`))
	if rec.Code != 403 {
		t.Errorf("a's token on b: %d", rec.Code)
	}
	if snap(t, st, "b") != beforeB {
		t.Error("shop b changed by a's token")
	}
	if c, _ := st.Counts(ctx, "b"); c.Products != 0 {
		t.Errorf("shop b has %d products", c.Products)
	}

	// Logs carry neither tokens nor visitor data.
	for _, secret := range []string{tokenA, tokenB, "visitor-secret-session", "secret query", "hijack"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "status=403") || !strings.Contains(logs.String(), "status=400") {
		t.Errorf("logs miss statuses:\n%s", logs.String())
	}
}

func TestAdminBodyLimit(t *testing.T) {
	st := testStore(t)
	a := &admin{st: st, log: slog.New(slog.DiscardHandler), maxBody: 1 << 10}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/admin/{shop}/{kind}", a.ingest)
	line := `{"id":"p0000","title":"A product with a fairly long title"}` + "\n"
	big := strings.Repeat(line, 40) // > 1 KiB
	before := snap(t, st, "a")

	// With a Content-Length: refused before reading.
	rec, out := post(t, mux, "POST", "/v1/admin/a/catalog", tokenA, strings.NewReader(big))
	if rec.Code != 413 || !strings.Contains(out["error"].(string), "limit") {
		t.Errorf("with length: %d %v", rec.Code, out)
	}
	// Without one (chunked): cut off while reading.
	req := httptest.NewRequest("POST", "/v1/admin/a/catalog", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tokenA)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("chunked: %d %s", rec.Code, rec.Body.String())
	}
	if snap(t, st, "a") != before {
		t.Error("an oversized body changed the store")
	}
	// Under the limit it goes through.
	rec, _ = post(t, mux, "POST", "/v1/admin/a/catalog", tokenA, strings.NewReader(line))
	if rec.Code != 200 {
		t.Errorf("small body: %d %s", rec.Code, rec.Body.String())
	}
	if MaxBodyBytes != 32<<20 {
		t.Errorf("MaxBodyBytes = %d", MaxBodyBytes)
	}
}
