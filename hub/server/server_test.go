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
