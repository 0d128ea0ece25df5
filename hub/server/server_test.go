package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

func TestHub(t *testing.T) {
	st, err := publish.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	const secret = "a-long-edge-secret-value"
	h, err := New(Deps{Snapshots: st, EdgeSecret: secret, Regions: []string{"eu"}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/v1/health", false); code != 503 || !strings.Contains(body, "no snapshot published") {
		t.Fatalf("health before publishing: %d %s", code, body)
	}
	s := snapshot.Synthetic(40, 8, 4, 3, 1)
	s.Region = "eu"
	b, _ := snapshot.Encode(s, snapshot.EncodeOptions{})
	v, err := st.Publish("eu", b)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get("/v1/health", false); code != 200 || !strings.Contains(body, v) {
		t.Fatalf("health: %d %s", code, body)
	}
	if code, _ := get("/v1/snapshots/eu/current", false); code != 401 {
		t.Fatalf("snapshot route without credential: %d", code)
	}
	if code, body := get("/v1/snapshots/eu/"+v, true); code != 200 || body != string(b) {
		t.Fatalf("snapshot: %d", code)
	}
	if code, body := get("/nope", false); code != 404 || !strings.Contains(body, "not found") {
		t.Fatalf("unknown route: %d %s", code, body)
	}
	code, metrics := get("/metrics", false)
	for _, want := range []string{
		`aisle_hub_requests_total{route="/v1/snapshots/{region}/current",code="401"} 1`,
		`aisle_hub_requests_total{route="/v1/snapshots/{region}/{version}",code="200"} 1`,
		`aisle_hub_requests_total{route="/v1/health",code="503"} 1`,
		`aisle_hub_request_seconds_count{route="/v1/health"} 2`,
		`aisle_hub_snapshot_bytes{region="eu"} ` + strconv.Itoa(len(b)),
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), v) {
		t.Error("logs carry the secret or a snapshot id")
	}
	if _, err := New(Deps{Snapshots: st, EdgeSecret: "short"}); err == nil {
		t.Error("short edge secret accepted")
	}
}

func TestRateLimits(t *testing.T) {
	st, _ := publish.Open(t.TempDir())
	now := time.Unix(1000, 0)
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h, err := New(Deps{Snapshots: st, EdgeSecret: "a-long-edge-secret-value", Admin: admin,
		Limits: Limits{ClientRate: 2, ClientBurst: 3, ShopRate: 1, ShopBurst: 2}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	call := func(path, client string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.RemoteAddr = client + ":5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// A client's burst of 3 on a route, then 429 with Retry-After.
	for i := range 3 {
		if c := call("/metrics", "10.0.0.1").Code; c == 429 {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	rec := call("/metrics", "10.0.0.1")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Another client is not affected; time refills the bucket.
	if c := call("/metrics", "10.0.0.2").Code; c == 429 {
		t.Fatal("another client limited")
	}
	now = now.Add(time.Second)
	if c := call("/metrics", "10.0.0.1").Code; c == 429 {
		t.Fatal("bucket did not refill")
	}
	// The shop limit holds across clients.
	for i, client := range []string{"10.0.1.1", "10.0.1.2"} {
		if c := call("/v1/admin/toys/catalog", client).Code; c != 200 {
			t.Fatalf("admin %d: %d", i, c)
		}
	}
	if c := call("/v1/admin/toys/catalog", "10.0.1.3").Code; c != 429 {
		t.Fatalf("third admin call of shop toys from a third client: %d, want 429", c)
	}
	if c := call("/v1/admin/other/catalog", "10.0.1.3").Code; c != 200 {
		t.Fatalf("another shop limited: %d", c)
	}
}
