// Package dashboard serves the hub's dashboard for shop owners: one
// server-rendered HTML page per shop with its catalog, review and event
// counts, the snapshot each region serves, a map of the item embedding
// space drawn as inline SVG in Go, and the visitor segments.
//
// The page loads nothing from elsewhere and runs no script: it is
// html/template output under a Content-Security-Policy that allows only its
// own inline stylesheet (by hash).
//
// # Authentication
//
// Every request needs the shop's admin token, checked in constant time by
// store.CheckToken: 401 without a valid token, 403 with another shop's.
// Scripts send it as a header:
//
//	curl -H 'Authorization: Bearer TOKEN' 'http://HUB/dashboard?shop=toys'
//
// A browser cannot set that header on a link, so the token is also accepted
// as ?token=TOKEN. That puts the token in the browser's history and in the
// access logs of any proxy in front of the hub (the hub's own log records
// the route, never the URL). The response therefore carries
// Referrer-Policy: no-referrer (the token never leaves in a Referer) and
// Cache-Control: no-store (no cache keeps the page or its URL's answer). Use
// the header where that trade-off is not acceptable.
package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// Deps are what the dashboard reads.
type Deps struct {
	Store     *store.Store
	Snapshots *publish.Store
	// Regions lists the regions shown, in order; the map is drawn from the
	// first region that has a snapshot of the shop.
	Regions []string
	// Logger receives errors (never a token); nil discards them.
	Logger *slog.Logger
	// Edges, when set, holds what the edges reported (see hub/fleet): the
	// page shows the traffic of the regions serving the shop's snapshot.
	Edges *fleet.Registry
	// Intents, when set, returns the shop's chat intent counts, shown as
	// the top intents.
	Intents func(shop string) map[string]int
	// Sentiment, when set, returns the shop's review sentiment scorer (nil
	// when it has too few reviews to learn one: star ratings are used).
	Sentiment func(ctx context.Context, shop string) (func(text string) float64, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MaxPoints bounds the points drawn in the embedding map.
const MaxPoints = 3000

// New returns the dashboard handler for GET /dashboard?shop=ID (and the
// same under /dashboard/). It does no I/O.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &handler{deps: d, cache: map[string]*snapView{}}
}

type handler struct {
	deps Deps

	mu    sync.Mutex
	cache map[string]*snapView // by region + "/" + version
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", csp)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	ctx := r.Context()
	token := bearer(r)
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	if token == "" || h.deps.Store == nil {
		hd.Set("WWW-Authenticate", `Bearer realm="aisle dashboard"`)
		plain(w, http.StatusUnauthorized, "missing admin token: send Authorization: Bearer TOKEN (or ?token=TOKEN from a browser)")
		return
	}
	shop := r.URL.Query().Get("shop")
	if shop == "" || !h.deps.Store.CheckToken(ctx, shop, token) {
		owner, valid, err := h.deps.Store.TokenShop(ctx, token)
		switch {
		case err != nil:
			h.deps.Logger.ErrorContext(ctx, "dashboard: token lookup", slog.String("err", err.Error()))
			plain(w, http.StatusInternalServerError, "internal error")
			return
		case !valid:
			hd.Set("WWW-Authenticate", `Bearer realm="aisle dashboard", error="invalid_token"`)
			plain(w, http.StatusUnauthorized, "invalid admin token")
			return
		case shop == "":
			shop = owner // the token says which shop; CheckToken below confirms it
			if !h.deps.Store.CheckToken(ctx, shop, token) {
				plain(w, http.StatusUnauthorized, "invalid admin token")
				return
			}
		default:
			plain(w, http.StatusForbidden, "this token is not the admin token of the shop asked for")
			return
		}
	}
	if r.URL.Path != "/dashboard" && r.URL.Path != "/dashboard/" {
		plain(w, http.StatusNotFound, "not found")
		return
	}
	p, err := h.page(ctx, shop)
	if err != nil {
		h.deps.Logger.ErrorContext(ctx, "dashboard: build page", slog.String("shop", shop), slog.String("err", err.Error()))
		plain(w, http.StatusInternalServerError, "internal error")
		return
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, p); err != nil {
		h.deps.Logger.ErrorContext(ctx, "dashboard: render", slog.String("err", err.Error()))
		plain(w, http.StatusInternalServerError, "internal error")
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// page is what the template renders.
type page struct {
	Shop    string
	Counts  store.Counts
	Regions []regionRow
	// Map and Segments come from MapRegion's snapshot; nil without one.
	MapRegion string
	Map       *svgMap
	Segments  []segmentRow
	// Eval is the latest build-time evaluation; nil before the first
	// build that ran one.
	Eval *evalView
	// Edges is nil without Deps.Edges.
	Edges *edgeView
	// Searches and Intents are the top search queries and chat intents.
	Searches    []countRow
	SearchChart *barChart
	ShowIntents bool
	KeepReports int
	Intents     []countRow
	IntentChart *barChart
	// Sentiment is nil for a shop without reviews.
	Sentiment *sentimentView
}

type regionRow struct {
	Region   string
	Version  string // first 12 hex digits
	Size     int64
	PerItem  int64
	Items    int
	Clusters int
	Segments int
	Built    string
	Problem  string // set instead of the figures when there is no snapshot to show
}

type segmentRow struct {
	Label  string
	Items  int
	Titles []string
}

// snapView is what the page shows of one snapshot, computed once per
// version (snapshots are immutable).
type snapView struct {
	shop     string
	row      regionRow
	svg      *svgMap
	segments []segmentRow
}

func (h *handler) page(ctx context.Context, shop string) (*page, error) {
	c, err := h.deps.Store.Counts(ctx, shop)
	if err != nil {
		return nil, err
	}
	p := &page{Shop: shop, Counts: c, KeepReports: fleet.KeepPerRegion}
	var shown []string // regions serving this shop's snapshot
	if p.Eval, err = h.evaluation(ctx, shop); err != nil {
		return nil, err
	}
	qs, err := h.deps.Store.TopQueries(ctx, shop, MaxTop)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(qs))
	for _, q := range qs {
		counts[q.Query] = q.Count
	}
	p.SearchChart, p.Searches = countChart("the most frequent search queries in the shop's events", counts)
	if p.Sentiment, err = h.sentiment(ctx, shop); err != nil {
		return nil, err
	}
	if h.deps.Intents != nil {
		p.ShowIntents = true
		p.IntentChart, p.Intents = countChart("the most frequent chat intents", h.deps.Intents(shop))
	}
	for _, region := range h.deps.Regions {
		v, err := h.view(region)
		if err != nil {
			p.Regions = append(p.Regions, regionRow{Region: region, Problem: err.Error()})
			continue
		}
		if v.shop != "" && v.shop != shop {
			// Never show another shop's items.
			p.Regions = append(p.Regions, regionRow{Region: region, Problem: "the published snapshot is of another shop"})
			continue
		}
		p.Regions = append(p.Regions, v.row)
		shown = append(shown, region)
		if p.Map == nil {
			p.MapRegion, p.Map, p.Segments = region, v.svg, v.segments
		}
	}
	p.Edges = h.edges(shown, h.deps.Now())
	return p, nil
}

var errNoSnapshot = errors.New("no snapshot published")

func (h *handler) view(region string) (*snapView, error) {
	if h.deps.Snapshots == nil {
		return nil, errNoSnapshot
	}
	version, err := h.deps.Snapshots.Pointer(region)
	if err != nil {
		return nil, errNoSnapshot
	}
	key := region + "/" + version
	h.mu.Lock()
	v, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return v, nil
	}
	b, err := h.deps.Snapshots.Get(region, version)
	if err != nil {
		return nil, errors.New("snapshot unreadable")
	}
	s, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		return nil, errors.New("snapshot does not decode")
	}
	v = newSnapView(region, s, int64(len(b)))
	h.mu.Lock()
	for k := range h.cache {
		if strings.HasPrefix(k, region+"/") {
			delete(h.cache, k) // keep only the current version per region
		}
	}
	h.cache[key] = v
	h.mu.Unlock()
	return v, nil
}

// newSnapView computes the view of one decoded snapshot of size bytes.
func newSnapView(region string, s *snapshot.Snapshot, size int64) *snapView {
	n := s.Len()
	row := regionRow{Region: region, Version: s.Version, Size: size, Items: n, Clusters: s.Clusters()}
	if len(row.Version) > 12 {
		row.Version = row.Version[:12]
	}
	if n > 0 {
		row.PerItem = size / int64(n)
	}
	if s.Built > 0 {
		row.Built = time.UnixMilli(s.Built).UTC().Format("2006-01-02 15:04 UTC")
	}
	v := &snapView{shop: s.Shop}
	if sec := s.Section(rank.SegmentsSection); sec != nil {
		if seg, err := rank.UnmarshalSegments(sec, n, s.Dims); err == nil {
			row.Segments = len(seg.Labels)
			for i, l := range seg.Labels {
				sr := segmentRow{Label: l, Items: len(seg.Items[i])}
				for _, it := range seg.Items[i][:min(3, len(seg.Items[i]))] {
					if int(it) < n {
						sr.Titles = append(sr.Titles, s.Items.Titles[it])
					}
				}
				v.segments = append(v.segments, sr)
			}
		}
	}
	v.row = row
	v.svg = drawMap(s)
	return v
}
