// Package server assembles the hub's HTTP API: the snapshot routes edges
// fetch from, the admin routes, health, and /metrics in the Prometheus text
// format.
package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/hub/publish"
)

// Deps are the parts the hub serves.
type Deps struct {
	// Snapshots is the published snapshot store; EdgeSecret authenticates
	// edges fetching from it.
	Snapshots  *publish.Store
	EdgeSecret string
	// Regions lists the regions health reports on.
	Regions []string
	// Admin, when set, serves /v1/admin/.
	Admin http.Handler
	// Summaries, when set, serves POST /v1/summarize to edges.
	Summaries http.Handler
	// Chat, when set, serves POST /v1/chat to edges.
	Chat http.Handler
	// EdgeReports, when set, serves POST /v1/edge/report to edges (see
	// hub/fleet); it checks the edge secret itself.
	EdgeReports http.Handler
	// Dashboard, when set, serves /dashboard (see hub/dashboard); it
	// authenticates with the shop admin token itself.
	Dashboard http.Handler
	// Logger receives one line per request (method, route, status,
	// duration) and never a body, token or visitor field.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limits rate-limits clients and shops; the zero value disables it
	// (see DefaultLimits).
	Limits Limits
}

// Hub is the hub's HTTP handler.
type Hub struct {
	mux     *http.ServeMux
	deps    Deps
	metrics metrics
	limits  limiter
}

// New returns the hub handler. It does no I/O.
func New(d Deps) (*Hub, error) {
	if d.Snapshots == nil {
		return nil, fmt.Errorf("server: no snapshot store")
	}
	if len(d.EdgeSecret) < 16 {
		return nil, fmt.Errorf("server: the edge secret must be at least 16 characters")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &Hub{mux: http.NewServeMux(), deps: d}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.Pattern, rt.handler)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "not found"})
	})
	return h, nil
}

// Credentials a route can require.
const (
	CredNone       = "none"
	CredEdgeSecret = "edge secret"
	CredShopToken  = "shop admin token"
)

// Route is one registered API route and the credential it requires.
type Route struct {
	Pattern    string
	Credential string
	handler    http.Handler
}

// routes is the single table New registers, so Routes cannot drift from
// what is served.
func (h *Hub) routes() []Route {
	rs := []Route{
		{"/v1/snapshots/", CredEdgeSecret, publish.Handler(h.deps.Snapshots, h.deps.EdgeSecret)},
		{"GET /v1/health", CredNone, http.HandlerFunc(h.health)},
		{"GET /metrics", CredNone, http.HandlerFunc(h.serveMetrics)},
	}
	if h.deps.Admin != nil {
		rs = append(rs, Route{"/v1/admin/", CredShopToken, h.deps.Admin})
	}
	if h.deps.Summaries != nil {
		rs = append(rs, Route{"POST /v1/summarize", CredEdgeSecret, h.deps.Summaries})
	}
	if h.deps.Chat != nil {
		rs = append(rs, Route{"POST /v1/chat", CredEdgeSecret, h.deps.Chat})
	}
	if h.deps.EdgeReports != nil {
		rs = append(rs, Route{"POST /v1/edge/report", CredEdgeSecret, h.deps.EdgeReports})
	}
	if h.deps.Dashboard != nil {
		rs = append(rs,
			Route{"/dashboard", CredShopToken, h.deps.Dashboard},
			Route{"/dashboard/", CredShopToken, h.deps.Dashboard})
	}
	return rs
}

// Routes lists what the hub serves and the credential each route requires.
func (h *Hub) Routes() []Route { return h.routes() }

// ServeHTTP implements http.Handler.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.deps.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	route := routeOf(r.URL.Path)
	if h.allow(sw, r, route) {
		h.mux.ServeHTTP(sw, r)
	}
	d := h.deps.Now().Sub(start)
	h.metrics.observe(route, sw.code, d)
	h.deps.Logger.Info("request", "method", r.Method, "route", route, "status", sw.code, "ms", float64(d.Microseconds())/1000)
}

// routeOf maps a path to its route pattern, so metrics and logs never
// carry ids.
func routeOf(p string) string {
	switch {
	case strings.HasPrefix(p, "/v1/snapshots/") && strings.HasSuffix(p, "/current"):
		return "/v1/snapshots/{region}/current"
	case strings.HasPrefix(p, "/v1/snapshots/"):
		return "/v1/snapshots/{region}/{version}"
	case strings.HasPrefix(p, "/v1/admin/"):
		return "/v1/admin/..."
	case p == "/v1/health", p == "/metrics", p == "/v1/summarize", p == "/v1/edge/report":
		return p
	case p == "/dashboard", strings.HasPrefix(p, "/dashboard/"):
		return "/dashboard"
	}
	return "other"
}

type regionHealth struct {
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (h *Hub) health(w http.ResponseWriter, r *http.Request) {
	out := map[string]regionHealth{}
	ok := true
	for _, region := range h.deps.Regions {
		v, err := h.deps.Snapshots.Pointer(region)
		if err != nil {
			ok = false
			out[region] = regionHealth{Error: "no snapshot published"}
			continue
		}
		out[region] = regionHealth{Version: v}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": ok, "regions": out})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// metrics counts requests per route and status and their durations.
type metrics struct {
	mu    sync.Mutex
	count map[[2]string]uint64
	sum   map[string]float64
	n     map[string]uint64
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count == nil {
		m.count, m.sum, m.n = map[[2]string]uint64{}, map[string]float64{}, map[string]uint64{}
	}
	m.count[[2]string{route, fmt.Sprint(code)}]++
	m.sum[route] += d.Seconds()
	m.n[route]++
}

func (h *Hub) serveMetrics(w http.ResponseWriter, r *http.Request) {
	m := &h.metrics
	m.mu.Lock()
	keys := make([][2]string, 0, len(m.count))
	for k := range m.count {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	var b strings.Builder
	b.WriteString("# HELP aisle_hub_requests_total Requests served, by route and status.\n# TYPE aisle_hub_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "aisle_hub_requests_total{route=%q,code=%q} %d\n", k[0], k[1], m.count[k])
	}
	routes := make([]string, 0, len(m.n))
	for r := range m.n {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	b.WriteString("# HELP aisle_hub_request_seconds Time spent serving requests, by route.\n# TYPE aisle_hub_request_seconds summary\n")
	for _, r := range routes {
		fmt.Fprintf(&b, "aisle_hub_request_seconds_sum{route=%q} %g\naisle_hub_request_seconds_count{route=%q} %d\n", r, m.sum[r], r, m.n[r])
	}
	m.mu.Unlock()
	b.WriteString("# HELP aisle_hub_snapshot_bytes Size of each region's current snapshot.\n# TYPE aisle_hub_snapshot_bytes gauge\n")
	for _, region := range h.deps.Regions {
		if v, err := h.deps.Snapshots.Pointer(region); err == nil {
			if n, err := h.deps.Snapshots.Size(region, v); err == nil {
				fmt.Fprintf(&b, "aisle_hub_snapshot_bytes{region=%q} %d\n", region, n)
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}
