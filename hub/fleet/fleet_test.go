package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

const secret = "edge-secret-0123456789"

func valid() fleet.Report {
	return fleet.Report{Region: "eu", Instance: "0123456789abcdef", From: 1_000, To: 61_000,
		Requests: 10, Recommends: 8, Errors: 1, Fallbacks: 2, Timed: true,
		Latency: []int64{4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}}
}

func TestBucketsAgreeWithTheEdge(t *testing.T) {
	if fleet.LatencyBoundsMicros != edge.LatencyBoundsMicros || fleet.MaxReportBytes != edge.MaxReportBytes {
		t.Fatal("hub and edge disagree on the latency buckets or the report size")
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := func(edit func(*fleet.Report)) string {
		r := valid()
		edit(&r)
		b, _ := json.Marshal(r)
		return string(b)
	}
	good := enc(func(*fleet.Report) {})
	if _, err := fleet.Decode([]byte(good)); err != nil {
		t.Fatalf("a valid report: %v", err)
	}
	for name, body := range map[string]string{
		"not json":            `{"region":`,
		"array":               `[1]`,
		"unknown field":       strings.Replace(good, `{`, `{"visitor":"x",`, 1),
		"trailing":            good + `{}`,
		"no region":           enc(func(r *fleet.Report) { r.Region = "" }),
		"region with slash":   enc(func(r *fleet.Report) { r.Region = "eu/../x" }),
		"long region":         enc(func(r *fleet.Report) { r.Region = strings.Repeat("e", 65) }),
		"instance not hex":    enc(func(r *fleet.Report) { r.Instance = "<script>" }),
		"bad index":           enc(func(r *fleet.Report) { r.Index = "latest" }),
		"window backwards":    enc(func(r *fleet.Report) { r.To = r.From - 1 }),
		"no window":           enc(func(r *fleet.Report) { r.From = 0 }),
		"window too long":     enc(func(r *fleet.Report) { r.To = r.From + int64(8*24*time.Hour/time.Millisecond) }),
		"negative count":      enc(func(r *fleet.Report) { r.Errors = -1 }),
		"huge count":          enc(func(r *fleet.Report) { r.Requests = 1 << 50 }),
		"recommends>requests": enc(func(r *fleet.Report) { r.Recommends = 11 }),
		"fallbacks>answers":   enc(func(r *fleet.Report) { r.Fallbacks = 9 }),
		"short histogram":     enc(func(r *fleet.Report) { r.Latency = r.Latency[:3] }),
		"histogram untimed":   enc(func(r *fleet.Report) { r.Timed = false }),
		"histogram over":      enc(func(r *fleet.Report) { r.Latency[0] = 100 }),
		"negative bucket":     enc(func(r *fleet.Report) { r.Latency[1] = -3 }),
		"over the size limit": strings.Replace(good, `{`, `{"index":"`+strings.Repeat("a", fleet.MaxReportBytes)+`",`, 1),
	} {
		if _, err := fleet.Decode([]byte(body)); err == nil {
			t.Errorf("%s: accepted %.200s", name, body)
		}
	}
}

func TestRegistry(t *testing.T) {
	g := fleet.NewRegistry(nil)
	r := valid()
	for range fleet.KeepPerRegion + 5 {
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	s, ok := g.Region("eu")
	if !ok || s.Reports != fleet.KeepPerRegion || s.Requests != 10*fleet.KeepPerRegion || s.Instances != 1 {
		t.Fatalf("stats %+v", s)
	}
	if got := s.FallbackRate(); got != 0.25 {
		t.Errorf("fallback rate %v, want 0.25", got)
	}
	// 8 timed answers: 4 ≤ 50 µs, 2 ≤ 100, 1 ≤ 250, 1 slower than 100 ms.
	if p50, p99 := s.Quantile(0.5), s.Quantile(0.99); p50 != 50 || p99 != 1<<63-1 {
		t.Errorf("p50 %d p99 %d", p50, p99)
	}
	if p75 := s.Quantile(0.75); p75 != 100 {
		t.Errorf("p75 %d, want 100", p75)
	}
	if _, ok := g.Region("us"); ok {
		t.Error("stats for a region without reports")
	}
	for i := range fleet.MaxRegions {
		r.Region = fmt.Sprintf("r%d", i)
		_ = g.Add(r)
	}
	r.Region = "one-too-many"
	if err := g.Add(r); err == nil {
		t.Error("more than MaxRegions regions kept")
	}
}

func TestHandler(t *testing.T) {
	g := fleet.NewRegistry(nil)
	srv := httptest.NewServer(fleet.Handler(g, secret))
	defer srv.Close()
	b, _ := json.Marshal(valid())
	post := func(auth, body string) int {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		name, auth, body string
		want             int
	}{
		{"no secret", "", string(b), 401},
		{"wrong secret", "Bearer nope", string(b), 403},
		{"bad report", "Bearer " + secret, `{"region":"eu"}`, 400},
		{"huge body", "Bearer " + secret, strings.Repeat(" ", fleet.MaxReportBytes+1), 413},
		{"good", "Bearer " + secret, string(b), 200},
	} {
		if got := post(c.auth, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if s, ok := g.Region("eu"); !ok || s.Reports != 1 {
		t.Errorf("kept %+v, want only the good report", s)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// source serves one snapshot.
type source struct {
	version string
	b       []byte
}

func (s source) Pointer(context.Context) (string, error) { return s.version, nil }
func (s source) Fetch(context.Context, string) ([]byte, error) {
	return s.b, nil
}

// TestEdgeReportsToHub: a native edge reports through its HTTP hub client
// to the hub's handler, which keeps what it sent; with the wrong secret the
// hub keeps nothing.
func TestEdgeReportsToHub(t *testing.T) {
	snap := snapshot.Synthetic(100, 8, 4, 3, 1)
	b, err := snapshot.Encode(snap, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := snapshot.Decode(b, snapshot.DefaultLimits())
	g := fleet.NewRegistry(nil)
	hub := httptest.NewServer(fleet.Handler(g, secret))
	defer hub.Close()

	for _, sec := range []string{secret, "not-the-secret-0123"} {
		now := time.UnixMilli(1_700_000_000_000)
		client, err := edge.NewHTTPHub(hub.URL, sec, hub.Client())
		if err != nil {
			t.Fatal(err)
		}
		cfg := edge.DefaultConfig()
		cfg.Region = snap.Region
		cfg.ReportEvery = 10 * time.Second
		e, err := edge.New(cfg, edge.Deps{Source: source{dec.Version, b}, Loader: edge.NativeLoader{}, Hub: client, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 25 {
			req := httptest.NewRequest("POST", "/v1/recommend", strings.NewReader(`{"placement":"trending"}`))
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Fatalf("recommend %d: %d", i, w.Code)
			}
			now = now.Add(time.Second)
		}
	}
	s, ok := g.Region(snap.Region)
	if !ok || s.Reports != 2 || s.Requests != 21 || s.Recommends != 21 || s.Index != dec.Version || s.Timed != 21 || s.Instances != 1 {
		t.Fatalf("the hub kept %+v, want the right secret's two reports (at 10 s: 11 requests, at 20 s: 10 more)", s)
	}
}
