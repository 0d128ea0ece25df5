package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Deps are what an Edge talks to. Source and Loader are required.
type Deps struct {
	// Source gives the snapshot pointer and bytes.
	Source Source
	// Loader turns verified snapshot bytes into a Ranker.
	Loader Loader
	// Hub answers chat and summarize; nil makes both answer degraded.
	Hub Hub
	// Clock is read for request times, refresh intervals and index age;
	// nil means time.Now.
	Clock Clock
	// Logger receives refresh and hub events; nil discards them.
	Logger *slog.Logger
	// Reports receives the edge's traffic reports (see Report) every
	// Config.ReportEvery; nil means Hub when it is a Reporter (HTTPHub
	// is), else no reports.
	Reports Reporter
	// Background runs a report's send; nil runs it inside the request that
	// found it due (the handler starts no goroutines). Native edges pass
	// func(f func()) { go f() } so that no visitor waits for it.
	Background func(func())
}

// Edge is the edge HTTP handler (see the package documentation). It is safe
// for concurrent use.
type Edge struct {
	cfg     Config
	src     Source
	loader  Loader
	hub     Hub
	now     Clock
	log     *slog.Logger
	origins map[string]bool

	cur       atomic.Pointer[loaded]
	sem       chan struct{} // the refresh lock: a channel so waits can honour a context
	nextCheck atomic.Int64  // Unix ns of the next due pointer check
	lastCheck atomic.Int64  // Unix ms of the last pointer check, 0 if none
	lastErr   atomic.Pointer[failure]
	refused   *refusal // guarded by sem

	requests, errors, fallbacks, degraded atomic.Int64
	ranked, rankNanos                     atomic.Int64
	refreshErrors, swaps                  atomic.Int64
	rep                                   *reporting // nil: no reports
}

var (
	errNoHub     = errors.New("edge: no hub configured")
	errHubAnswer = errors.New("edge: hub answer is not a JSON object")
)

// New returns an Edge for cfg and deps. It validates both and does no I/O:
// the first index is loaded by the first /v1/recommend request (or Refresh).
func New(cfg Config, deps Deps) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Source == nil {
		return nil, errors.New("edge: deps: a Source is required")
	}
	if deps.Loader == nil {
		return nil, errors.New("edge: deps: a Loader is required")
	}
	e := &Edge{
		cfg:     cfg,
		src:     deps.Source,
		loader:  deps.Loader,
		hub:     deps.Hub,
		now:     deps.Clock,
		log:     deps.Logger,
		origins: make(map[string]bool, len(cfg.AllowedOrigins)),
		sem:     make(chan struct{}, 1),
	}
	e.cfg.AllowedOrigins = append([]string(nil), cfg.AllowedOrigins...)
	for _, o := range cfg.AllowedOrigins {
		e.origins[o] = true
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.nextCheck.Store(math.MinInt64)
	reports := deps.Reports
	if r, ok := deps.Hub.(Reporter); ok && reports == nil {
		reports = r
	}
	if reports != nil && cfg.ReportEvery > 0 {
		e.rep = newReporting(reports, deps.Background)
	}
	return e, nil
}

// route is one path of the API.
type route struct {
	allow   string // the Allow header: the methods served, OPTIONS included
	methods [2]string
	serve   func(e *Edge, w http.ResponseWriter, r *http.Request)
}

var routes = map[string]route{
	"/v1/recommend": {"POST, OPTIONS", [2]string{http.MethodPost}, (*Edge).recommend},
	"/v1/health":    {"GET, HEAD, OPTIONS", [2]string{http.MethodGet, http.MethodHead}, (*Edge).health},
	"/v1/chat": {"POST, OPTIONS", [2]string{http.MethodPost},
		func(e *Edge, w http.ResponseWriter, r *http.Request) { e.escalate(w, r, true) }},
	"/v1/summarize": {"POST, OPTIONS", [2]string{http.MethodPost},
		func(e *Edge, w http.ResponseWriter, r *http.Request) { e.escalate(w, r, false) }},
	"/aisle.js": {"GET, HEAD, OPTIONS", [2]string{http.MethodGet, http.MethodHead}, (*Edge).script},
}

// ServeHTTP routes a request, applying CORS first.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	allowed := e.cors(w, r)
	rt, ok := routes[r.URL.Path]
	if !ok {
		e.fail(w, http.StatusNotFound, "no route "+strconv.Quote(truncate(r.URL.Path, 64))+
			"; try POST /v1/recommend, GET /v1/health, POST /v1/chat or POST /v1/summarize", "")
		return
	}
	if r.Method == http.MethodOptions {
		e.options(w, r, rt, allowed)
		return
	}
	if r.Method == "" || (r.Method != rt.methods[0] && r.Method != rt.methods[1]) {
		w.Header().Set("Allow", rt.allow)
		e.fail(w, http.StatusMethodNotAllowed, "method "+strconv.Quote(truncate(r.Method, 16))+" not allowed; use "+rt.allow, "")
		return
	}
	rt.serve(e, w, r)
	e.maybeReport(e.now())
}

// recommend serves POST /v1/recommend.
func (e *Edge) recommend(w http.ResponseWriter, r *http.Request) {
	t0 := e.now()
	body, ok := e.readBody(w, r, e.cfg.MaxBodyBytes)
	if !ok {
		return
	}
	req, err := wire.DecodeRecommendRequestJSON(body)
	if err != nil {
		e.badRequest(w, err)
		return
	}
	now := e.now()
	if req.Now == 0 {
		req.Now = now.UnixMilli()
	}
	rk, err := e.ranker(r.Context(), now)
	if err != nil {
		secs := int64(math.Ceil(e.cfg.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
		e.fail(w, http.StatusServiceUnavailable, "no index loaded yet; retry shortly", "")
		return
	}
	resp := &wire.RecommendResponse{Items: make([]wire.Rec, 0, req.Limit())}
	start := e.now()
	err = rk.Rank(r.Context(), req, resp)
	e.rankNanos.Add(int64(e.now().Sub(start)))
	if err != nil {
		if ctxErr := r.Context().Err(); ctxErr != nil { // the caller gave up
			e.fail(w, http.StatusServiceUnavailable, "request cancelled before ranking finished", "")
			return
		}
		e.log.Error("edge: rank failed", "version", short(rk.Version()), "err", err)
		e.fail(w, http.StatusInternalServerError, "ranking failed", "")
		return
	}
	e.ranked.Add(1)
	if resp.Fallback {
		e.fallbacks.Add(1)
	}
	e.writeJSON(w, http.StatusOK, resp)
	e.observe(e.now().Sub(t0))
}

// Health is the body of GET /v1/health.
type Health struct {
	// Region is the region this edge serves.
	Region string `json:"region"`
	// Index is the version being served, "" before the first load.
	Index string `json:"index"`
	// Items is the number of items in the served index.
	Items int `json:"items"`
	// Built is when the served snapshot was built, Unix ms.
	Built int64 `json:"built"`
	// AgeSeconds is how old the served snapshot is, by the edge's clock.
	AgeSeconds int64 `json:"age_seconds"`
	// Loaded is whether an index is being served.
	Loaded bool `json:"loaded"`
	// LastError says why the last refresh failed; null when it succeeded.
	LastError *string `json:"last_error"`
	// LastErrorAt is when it failed, Unix ms (0 when LastError is null).
	LastErrorAt int64 `json:"last_error_at,omitempty"`
	// LastCheck is when the pointer was last checked, Unix ms.
	LastCheck int64 `json:"last_check,omitempty"`
	// Requests counts requests on every route; Errors answers of 4xx and
	// 5xx; Fallbacks recommend answers that fell back to popularity;
	// Degraded chat and summarize answers given without the hub.
	Requests  int64 `json:"requests"`
	Errors    int64 `json:"errors"`
	Fallbacks int64 `json:"fallbacks"`
	Degraded  int64 `json:"degraded"`
	// Ranked counts answered recommend requests and RankMillis the time
	// spent ranking them, by the edge's clock (under Workers the clock does
	// not advance during computation, so it reads 0 there).
	Ranked     int64   `json:"ranked"`
	RankMillis float64 `json:"rank_ms_total"`
	// RefreshErrors counts failed refreshes; Swaps indexes loaded.
	RefreshErrors int64 `json:"refresh_errors"`
	Swaps         int64 `json:"swaps"`
	// Memory is the Go runtime's memory (under Workers, the isolate's
	// Wasm memory).
	Memory Memory `json:"memory"`
}

// Health reports the edge's state and counters. It loads nothing.
func (e *Edge) Health() Health {
	h := Health{
		Region:        e.cfg.Region,
		LastCheck:     e.lastCheck.Load(),
		Requests:      e.requests.Load(),
		Errors:        e.errors.Load(),
		Fallbacks:     e.fallbacks.Load(),
		Degraded:      e.degraded.Load(),
		Ranked:        e.ranked.Load(),
		RankMillis:    float64(e.rankNanos.Load()) / 1e6,
		RefreshErrors: e.refreshErrors.Load(),
		Swaps:         e.swaps.Load(),
		Memory:        readMemory(),
	}
	if cur := e.cur.Load(); cur != nil {
		h.Loaded = true
		h.Index = cur.r.Version()
		h.Items = cur.r.Items()
		h.Built = cur.r.Built()
		h.AgeSeconds = max(0, (e.now().UnixMilli()-h.Built)/1000)
	}
	if f := e.lastErr.Load(); f != nil {
		msg := f.msg
		h.LastError = &msg
		h.LastErrorAt = f.at.UnixMilli()
	}
	return h
}

// health serves GET /v1/health.
func (e *Edge) health(w http.ResponseWriter, r *http.Request) {
	e.writeJSON(w, http.StatusOK, e.Health())
}

// readBody reads at most max bytes of the request body, answering 413 (and
// returning false) for a longer one without reading it whole.
func (e *Edge) readBody(w http.ResponseWriter, r *http.Request, max int) ([]byte, bool) {
	if r.ContentLength > int64(max) {
		e.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, max), "")
		return nil, false
	}
	if r.Body == nil {
		return nil, true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
	if len(b) > max {
		e.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", max), "")
		return nil, false
	}
	if err != nil {
		e.fail(w, http.StatusBadRequest, "could not read the request body", "")
		return nil, false
	}
	return b, true
}

// badRequest answers a decoding error: 413 for wire.ErrTooLarge, else 400
// naming the field when there is one.
func (e *Edge) badRequest(w http.ResponseWriter, err error) {
	var fe *wire.FieldError
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		e.fail(w, http.StatusRequestEntityTooLarge, err.Error(), "")
	case errors.As(err, &fe):
		e.fail(w, http.StatusBadRequest, err.Error(), fe.Field)
	default:
		e.fail(w, http.StatusBadRequest, err.Error(), "")
	}
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fail answers an error as JSON and counts it.
func (e *Edge) fail(w http.ResponseWriter, status int, msg, field string) {
	e.errors.Add(1)
	e.writeJSON(w, status, apiError{Error: msg, Field: field})
}

// writeJSON answers v as JSON.
func (e *Edge) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.log.Error("edge: encode answer", "err", err)
		e.errors.Add(1)
		status, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	e.writeRaw(w, status, b)
}

// writeRaw answers b, which is JSON.
func (e *Edge) writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// truncate cuts untrusted text for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
