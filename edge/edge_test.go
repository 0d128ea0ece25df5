package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// TestRecommendMatchesRank checks that the handler answers exactly what the
// ranking core answers for the same request, Now stamped from the clock.
func TestRecommendMatchesRank(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	clk := newClock()
	e := newEdge(t, newSource(bl), nil, clk, nil)

	s, err := snapshot.Decode(bl.b, snapshot.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	x, err := rank.New(s, rank.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ids := s.Items.IDs
	word := strings.ToLower(strings.Fields(s.Items.Titles[7])[0])
	ms := t0.UnixMilli()

	tests := []struct {
		name, body string
		fallback   bool
	}{
		{"for_you", fmt.Sprintf(`{"placement":"for_you","events":[{"type":"view","item":%q,"time":%d},{"type":"click","item":%q,"time":%d},{"type":"add_to_cart","item":%q,"time":%d}],"k":8}`,
			ids[3], ms-60000, ids[9], ms-30000, ids[20], ms-1000), false},
		{"for_you empty session", `{"placement":"for_you"}`, true},
		{"similar", fmt.Sprintf(`{"placement":"similar","item":%q,"k":5}`, ids[42]), false},
		{"bought_together", fmt.Sprintf(`{"placement":"bought_together","item":%q}`, ids[5]), false},
		{"trending", `{"placement":"trending","k":4}`, false},
		{"search", fmt.Sprintf(`{"placement":"search","query":%q,"k":6}`, word), false},
		{"cart", fmt.Sprintf(`{"placement":"cart","events":[{"type":"add_to_cart","item":%q,"time":%d}]}`, ids[11], ms-5000), false},
		{"filters", fmt.Sprintf(`{"placement":"for_you","events":[{"type":"view","item":%q,"time":%d}],"filters":{"in_stock":true,"exclude":[%q],"price_max":500}}`,
			ids[3], ms, ids[4]), false},
		{"explicit now", fmt.Sprintf(`{"placement":"for_you","events":[{"type":"view","item":%q,"time":1000}],"now":2000}`, ids[8]), false},
		{"unknown ids", `{"placement":"for_you","events":[{"type":"view","item":"no-such-item","time":1}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(e, http.MethodPost, "/v1/recommend", tt.body)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			req, err := wire.DecodeRecommendRequestJSON([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if req.Now == 0 {
				req.Now = clk.Now().UnixMilli()
			}
			want := &wire.RecommendResponse{Items: make([]wire.Rec, 0, req.Limit())}
			if err := x.Rank(req, want); err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(w.Body.Bytes(), wantJSON) {
				t.Errorf("edge answered\n%s\nrank answers\n%s", w.Body, wantJSON)
			}
			got, err := wire.DecodeRecommendResponseJSON(w.Body.Bytes())
			if err != nil {
				t.Fatalf("answer does not pass wire validation: %v", err)
			}
			if got.Index != bl.version {
				t.Errorf("index %q, want %q", got.Index, bl.version)
			}
			if len(got.Items) == 0 {
				t.Error("no items")
			}
			if got.Fallback != tt.fallback {
				t.Errorf("fallback %v, want %v", got.Fallback, tt.fallback)
			}
		})
	}
	h := health(t, e)
	if h.Ranked != int64(len(tests)) || h.Requests != int64(len(tests))+1 { // +1: the health request
		t.Errorf("health counts %d ranked, %d requests; want %d and %d", h.Ranked, h.Requests, len(tests), len(tests)+1)
	}
	if h.Fallbacks != 2 {
		t.Errorf("health counts %d fallbacks, want 2", h.Fallbacks)
	}
}

// TestRecommendRejects covers oversized and invalid bodies.
func TestRecommendRejects(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	item := bl.snap.Items.IDs[0]
	ev := fmt.Sprintf(`{"type":"view","item":%q,"time":1}`, item)
	valid := `{"placement":"trending"}`
	tests := []struct {
		name    string
		body    string
		chunked bool // hide the length, so the size is found while reading
		max     int  // Config.MaxBodyBytes; 0 keeps the default
		status  int
		field   string
		mention string
	}{
		{"over wire.MaxBodyBytes", valid + strings.Repeat(" ", wire.MaxBodyBytes), false, 0, 413, "", "limit"},
		{"over wire.MaxBodyBytes, chunked", valid + strings.Repeat(" ", wire.MaxBodyBytes), true, 0, 413, "", "limit"},
		{"over configured max", `{"placement":"trending","shop":"` + strings.Repeat("s", 200) + `"}`, false, 100, 413, "", "limit"},
		{"at wire.MaxBodyBytes", valid + strings.Repeat(" ", wire.MaxBodyBytes-len(valid)), true, 0, 200, "", ""},
		{"bad event", `{"placement":"for_you","events":[` + strings.Repeat(ev+",", 3) + `{"type":"view","time":1}]}`, false, 0, 400, "events[3].item", "missing"},
		{"unknown event type", `{"placement":"for_you","events":[{"type":"stare","item":"a","time":1}]}`, false, 0, 400, "events[0].type", "unknown"},
		{"unknown field", `{"placement":"trending","colour":"red"}`, false, 0, 400, "colour", ""},
		{"wrong case field", `{"Placement":"trending"}`, false, 0, 400, "Placement", ""},
		{"missing placement", `{"k":3}`, false, 0, 400, "placement", "missing"},
		{"k too large", `{"placement":"trending","k":1000}`, false, 0, 400, "k", ""},
		{"similar without item", `{"placement":"similar"}`, false, 0, 400, "item", ""},
		{"malformed", `{"placement":`, false, 0, 400, "", ""},
		{"two objects", valid + valid, false, 0, 400, "", ""},
		{"empty", ``, false, 0, 400, "", ""},
		{"array", `[1]`, false, 0, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEdge(t, newSource(bl), nil, newClock(), func(c *Config) {
				if tt.max > 0 {
					c.MaxBodyBytes = tt.max
				}
			})
			r := httptest.NewRequest(http.MethodPost, "/v1/recommend", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			r.Header.Set("Origin", testOrigin)
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != testOrigin {
				t.Error("an allowed page must be able to read the error")
			}
			if tt.status == 200 {
				return
			}
			eb := errorBody(t, w)
			if eb.Field != tt.field {
				t.Errorf("field %q, want %q (error %q)", eb.Field, tt.field, eb.Error)
			}
			if !strings.Contains(eb.Error, tt.mention) {
				t.Errorf("error %q does not mention %q", eb.Error, tt.mention)
			}
			if h := health(t, e); h.Errors != 1 {
				t.Errorf("health counts %d errors, want 1", h.Errors)
			}
		})
	}
}

// TestRoutes covers unknown routes, wrong methods and plain OPTIONS.
func TestRoutes(t *testing.T) {
	e := newEdge(t, newSource(synth(t, 1, 0, nil)), nil, newClock(), nil)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", 404, ""},
		{"GET", "/v1/recommendations", 404, ""},
		{"POST", "/v1/recommend/", 404, ""},
		{"GET", "/v1/recommend", 405, "POST, OPTIONS"},
		{"PUT", "/v1/recommend", 405, "POST, OPTIONS"},
		{"POST", "/v1/health", 405, "GET, HEAD, OPTIONS"},
		{"DELETE", "/v1/chat", 405, "POST, OPTIONS"},
		{"GET", "/v1/summarize", 405, "POST, OPTIONS"},
		{"GET", "/v1/health", 200, ""},
		{"HEAD", "/v1/health", 200, ""},
		{"OPTIONS", "/v1/recommend", 204, "POST, OPTIONS"},
		{"OPTIONS", "/v1/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := do(e, tt.method, tt.path, "")
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.status >= 400 {
				errorBody(t, w)
			}
		})
	}
}

// TestCORS checks the exact origin allow-list.
func TestCORS(t *testing.T) {
	e := newEdge(t, newSource(synth(t, 1, 0, nil)), nil, newClock(), nil)
	rec := `{"placement":"trending","k":2}`
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		origin    string
		preflight bool
		status    int
		echo      bool // Access-Control-Allow-Origin echoes the origin
	}{
		{"allowed POST", "POST", "/v1/recommend", rec, testOrigin, false, 200, true},
		{"allowed second origin", "POST", "/v1/recommend", rec, "http://localhost:8080", false, 200, true},
		{"allowed GET health", "GET", "/v1/health", "", testOrigin, false, 200, true},
		{"allowed error", "POST", "/v1/recommend", `{}`, testOrigin, false, 400, true},
		{"allowed preflight", "OPTIONS", "/v1/recommend", "", testOrigin, true, 204, true},
		{"allowed preflight chat", "OPTIONS", "/v1/chat", "", testOrigin, true, 204, true},
		{"denied POST", "POST", "/v1/recommend", rec, "https://evil.example", false, 200, false},
		{"denied preflight", "OPTIONS", "/v1/recommend", "", "https://evil.example", true, 403, false},
		{"denied upper case", "OPTIONS", "/v1/recommend", "", "https://SHOP.example", true, 403, false},
		{"denied suffix", "OPTIONS", "/v1/recommend", "", "https://shop.example.evil.example", true, 403, false},
		{"denied other scheme", "OPTIONS", "/v1/recommend", "", "http://shop.example", true, 403, false},
		{"denied other port", "POST", "/v1/recommend", rec, "https://shop.example:8443", false, 200, false},
		{"denied null", "OPTIONS", "/v1/recommend", "", "null", true, 403, false},
		{"no origin", "POST", "/v1/recommend", rec, "", false, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{}
			if tt.origin != "" {
				hdr = append(hdr, "Origin", tt.origin)
			}
			if tt.preflight {
				hdr = append(hdr, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
			}
			w := do(e, tt.method, tt.path, tt.body, hdr...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			h := w.Header()
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary %q lacks Origin", h.Values("Vary"))
			}
			for k, vs := range h {
				for _, v := range vs {
					if strings.HasPrefix(k, "Access-Control-") && strings.TrimSpace(v) == "*" {
						t.Errorf("%s: *", k)
					}
				}
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must never be allowed")
			}
			if !tt.echo {
				for k := range h {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("disallowed origin got %s: %q", k, h.Get(k))
					}
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.origin)
			}
			if tt.preflight {
				if got := h.Get("Access-Control-Allow-Methods"); got != "GET, POST, OPTIONS" {
					t.Errorf("Allow-Methods %q", got)
				}
				if got := h.Get("Access-Control-Allow-Headers"); got != "Content-Type" {
					t.Errorf("Allow-Headers %q", got)
				}
				if got := h.Get("Access-Control-Max-Age"); got != "600" {
					t.Errorf("Max-Age %q", got)
				}
			}
		})
	}
}

// TestConfigValidate checks that bad configurations name the field.
func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		mention string // "" means valid
	}{
		{"test config", func(*Config) {}, ""},
		{"no origins", func(c *Config) { c.AllowedOrigins = nil }, ""},
		{"timeouts off (Workers)", func(c *Config) { c.HubTimeout, c.SourceTimeout = 0, 0 }, ""},
		{"origin with port", func(c *Config) { c.AllowedOrigins = []string{"http://127.0.0.1:8787"} }, ""},
		{"missing region", func(c *Config) { c.Region = "" }, "region"},
		{"region with slash", func(c *Config) { c.Region = "eu/west" }, "region"},
		{"region dot-dot", func(c *Config) { c.Region = ".." }, "region"},
		{"wildcard origin", func(c *Config) { c.AllowedOrigins = []string{"*"} }, "allowed_origins[0]"},
		{"origin with path", func(c *Config) { c.AllowedOrigins = []string{"https://shop.example/"} }, "allowed_origins[0]"},
		{"origin upper case", func(c *Config) { c.AllowedOrigins = []string{testOrigin, "https://Shop.example"} }, "allowed_origins[1]"},
		{"origin default port", func(c *Config) { c.AllowedOrigins = []string{"https://shop.example:443"} }, "default port"},
		{"origin no scheme", func(c *Config) { c.AllowedOrigins = []string{"shop.example"} }, "allowed_origins[0]"},
		{"origin with credentials", func(c *Config) { c.AllowedOrigins = []string{"https://a:b@shop.example"} }, "allowed_origins[0]"},
		{"zero refresh", func(c *Config) { c.RefreshEvery = 0 }, "refresh_every"},
		{"zero retry", func(c *Config) { c.RetryAfter = 0 }, "retry_after"},
		{"negative hub timeout", func(c *Config) { c.HubTimeout = -time.Second }, "hub_timeout"},
		{"negative source timeout", func(c *Config) { c.SourceTimeout = -time.Second }, "source_timeout"},
		{"body too big", func(c *Config) { c.MaxBodyBytes = wire.MaxBodyBytes + 1 }, "max_body_bytes"},
		{"body zero", func(c *Config) { c.MaxBodyBytes = 0 }, "max_body_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.mention == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.mention != "" && err == nil:
				t.Fatal("accepted")
			case tt.mention != "" && !strings.Contains(err.Error(), tt.mention):
				t.Fatalf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
	if err := DefaultConfig().Validate(); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("DefaultConfig without a region: %v", err)
	}
	if _, err := New(testConfig(), Deps{Loader: NativeLoader{}}); err == nil {
		t.Error("New accepted a nil Source")
	}
	if _, err := New(testConfig(), Deps{Source: newSource()}); err == nil {
		t.Error("New accepted a nil Loader")
	}
}

// TestNewDoesNoIO checks that New touches no dependency.
func TestNewDoesNoIO(t *testing.T) {
	src := newSource(synth(t, 1, 0, nil))
	e := newEdge(t, src, &fakeHub{}, newClock(), nil)
	if p, f := src.calls(); p != 0 || f != 0 {
		t.Errorf("New called the source: %d pointer, %d fetch", p, f)
	}
	// Health reports without loading.
	if h := health(t, e); h.Loaded || h.Index != "" || h.Region != testRegion {
		t.Errorf("health before any request: %+v", h)
	}
	if p, _ := src.calls(); p != 0 {
		t.Error("health loaded an index")
	}
}

// BenchmarkServeRecommend measures one for_you request through the handler.
func BenchmarkServeRecommend(b *testing.B) {
	bl := synth(b, 1, 0, nil)
	e := newEdge(b, newSource(bl), nil, newClock(), nil)
	ids := bl.snap.Items.IDs
	body := fmt.Sprintf(`{"placement":"for_you","events":[{"type":"view","item":%q,"time":1},{"type":"view","item":%q,"time":2}],"k":10}`, ids[1], ids[2])
	if w := do(e, http.MethodPost, "/v1/recommend", body); w.Code != 200 {
		b.Fatal(w.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/recommend", strings.NewReader(body))
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
	}
}
