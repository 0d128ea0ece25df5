package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// xss is put into item titles and chat answers: if any of it were parsed as
// HTML, an element would appear or window.__xss would be set.
const xss = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`

// exchange is one POST the edge answered.
type exchange struct {
	Path   string
	Body   []byte
	Status int
	Resp   []byte
}

// recorder wraps the edge, keeping every POST it answers; with fail set it
// answers /v1/recommend with 500.
type recorder struct {
	mu   sync.Mutex
	ex   []exchange
	fail atomic.Bool
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tw := &tee{ResponseWriter: w, status: http.StatusOK}
		if rec.fail.Load() && r.URL.Path == "/v1/recommend" {
			tw.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			http.Error(tw, `{"error":"injected failure"}`, http.StatusInternalServerError)
		} else {
			h.ServeHTTP(tw, r)
		}
		rec.mu.Lock()
		rec.ex = append(rec.ex, exchange{r.URL.Path, body, tw.status, tw.buf.Bytes()})
		rec.mu.Unlock()
	})
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	rec.ex = nil
	rec.mu.Unlock()
}

func (rec *recorder) all(path string) []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []exchange
	for _, x := range rec.ex {
		if x.Path == path {
			out = append(out, x)
		}
	}
	return out
}

// recommend is one recommend exchange, decoded.
type recommend struct {
	Req    wire.RecommendRequest
	Raw    map[string]json.RawMessage
	Status int
	Resp   wire.RecommendResponse
}

func (rec *recorder) recommends(t *testing.T) []recommend {
	t.Helper()
	var out []recommend
	for _, x := range rec.all("/v1/recommend") {
		var r recommend
		r.Status = x.Status
		if err := json.Unmarshal(x.Body, &r.Req); err != nil {
			t.Fatalf("recommend body %s: %v", x.Body, err)
		}
		_ = json.Unmarshal(x.Body, &r.Raw)
		if x.Status == http.StatusOK {
			if err := json.Unmarshal(x.Resp, &r.Resp); err != nil {
				t.Fatalf("recommend answer %s: %v", x.Resp, err)
			}
		}
		out = append(out, r)
	}
	return out
}

type tee struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *tee) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *tee) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

// source serves one snapshot from memory.
type source struct {
	version string
	b       []byte
}

func (s source) Pointer(context.Context) (string, error) { return s.version, nil }
func (s source) Fetch(_ context.Context, v string) ([]byte, error) {
	if v != s.version {
		return nil, errors.New("no such snapshot")
	}
	return s.b, nil
}

// hub is a fake assistant: it records what the edge forwards and answers
// with text that must stay text, item cards and sources. A message
// containing "fail" makes it fail, so the edge answers degraded.
type hub struct {
	mu        sync.Mutex
	bodies    [][]byte
	summaries [][]byte
	answer    []byte
}

func (h *hub) Chat(_ context.Context, body []byte) ([]byte, error) {
	h.mu.Lock()
	h.bodies = append(h.bodies, bytes.Clone(body))
	h.mu.Unlock()
	if bytes.Contains(body, []byte("fail")) {
		return nil, errors.New("hub down")
	}
	if bytes.Contains(body, []byte("long")) {
		return json.Marshal(map[string]string{"answer": strings.Repeat("é", 1990)})
	}
	return h.answer, nil
}

func (h *hub) Summarize(_ context.Context, body []byte) ([]byte, error) {
	h.mu.Lock()
	h.summaries = append(h.summaries, bytes.Clone(body))
	h.mu.Unlock()
	return json.Marshal(map[string]any{
		"item": "x", "reviews": 3, "stars": 4.3, "verdict": "Most customers are happy " + xss,
		"pros": []map[string]any{{"text": "Flies well " + xss, "reviews": []string{"r1", "r2"}}},
		"cons": []map[string]any{{"text": "The string is short", "reviews": []string{"r3"}}},
	})
}

func (h *hub) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies)
}

// env is a real edge (native ranker, synthetic snapshot) behind a
// recorder, a fake hub, and a test shop on another origin.
type env struct {
	snap     *snapshot.Snapshot
	rec      *recorder
	hub      *hub
	edge     *httptest.Server
	shop     *httptest.Server
	products []product // the items at the top of the product page
	below    product   // an item far below the fold
	titles   map[string]string
	answer   chatAnswer
}

type product struct{ ID, Title string }

type chatAnswer struct {
	Answer  string `json:"answer"`
	Items   []any  `json:"items"`
	Sources []any  `json:"sources"`
	Intent  string `json:"intent"`
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := snapshot.Synthetic(300, 16, 8, 6, 7)
	s.Region = "eu"
	for i := range s.Items.Titles {
		if i%2 == 0 {
			s.Items.Titles[i] = xss + " " + s.Items.Titles[i]
		}
	}
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{snap: s, rec: new(recorder), hub: new(hub), titles: map[string]string{}}
	for i, id := range s.Items.IDs {
		e.titles[id] = s.Items.Titles[i]
	}
	for _, i := range []int{10, 41, 120} { // 10 has the injected markup in its title
		e.products = append(e.products, product{s.Items.IDs[i], s.Items.Titles[i]})
	}
	e.below = product{s.Items.IDs[200], s.Items.Titles[200]}
	e.answer = chatAnswer{
		Answer:  "Yes, it suits a three-year-old. " + xss,
		Items:   []any{map[string]any{"id": s.Items.IDs[50], "title": xss + " Train", "price": 12.5}, s.Items.IDs[51]},
		Sources: []any{map[string]any{"type": "review", "id": "r-" + xss}, "faq:returns"},
		Intent:  "product_question",
	}
	e.hub.answer, _ = json.Marshal(e.answer)

	var edgeURL string
	e.shop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/product" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := shopPage.Execute(w, map[string]any{
			"Edge":     edgeURL,
			"Consent":  r.URL.Query().Get("consent") == "1",
			"Only":     r.URL.Query().Get("only") == "fy",
			"Products": e.products,
			"Below":    e.below,
		})
		if err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(e.shop.Close)

	cfg := edge.DefaultConfig()
	cfg.Region = "eu"
	cfg.AllowedOrigins = []string{e.shop.URL}
	h, err := edge.New(cfg, edge.Deps{Source: source{s.Version, b}, Loader: edge.NativeLoader{}, Hub: e.hub})
	if err != nil {
		t.Fatal(err)
	}
	e.edge = httptest.NewServer(e.rec.wrap(h))
	t.Cleanup(e.edge.Close)
	edgeURL = e.edge.URL
	return e
}

// shopPage is the test shop's product page. The inline script records
// warnings and uncaught errors for the tests to read.
var shopPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script>
window.__warns = []; window.__errors = [];
const warn = console.warn.bind(console);
console.warn = (...a) => { window.__warns.push(a.join(" ")); warn(...a); };
addEventListener("error", (e) => window.__errors.push(String(e.message || e.type)));
addEventListener("unhandledrejection", (e) => window.__errors.push("unhandled: " + e.reason));
</script>
<script src="{{.Edge}}/aisle.js" data-edge="{{.Edge}}" data-region="eu"{{if .Consent}} data-consent="required"{{end}} async></script>
<style>article { display: inline-block; width: 30%; } .spacer { height: 2400px; }</style>
</head><body>
<h1>Test shop</h1>
<section id="products">
{{range .Products}}<article data-aisle-item="{{.ID}}" data-aisle-title="{{.Title}}"><h2>{{.Title}}</h2>
<button data-aisle-click>Details</button> <button data-aisle-add-to-cart="{{.ID}}">Add to cart</button></article>
{{end}}</section>
<div data-aisle="for_you" id="fy1" data-k="6" data-title="Picked for you"></div>
{{if not .Only}}<div data-aisle="similar" id="sim" data-item="{{(index .Products 0).ID}}" data-k="4" data-title="Similar items" data-href-template="#p/{id}"></div>
<form data-aisle-search id="search" onsubmit="event.preventDefault()"><input type="search" name="q" aria-label="Search"><button>Search</button></form>
<div data-aisle="search" id="results" data-k="3" data-title="Results"></div>
<div data-aisle-chat id="chat" data-item="{{(index .Products 0).ID}}"></div>
<div data-aisle-summary id="says" data-item="{{(index .Products 0).ID}}"></div>
<div class="spacer"></div>
{{with .Below}}<article id="below" data-aisle-item="{{.ID}}" data-aisle-title="{{.Title}}"><h2>{{.Title}}</h2></article>{{end}}
<div data-aisle="for_you" id="fy2" data-k="4" data-title="More for you"></div>{{end}}
</body></html>
`))

// chromium returns the browser to drive, or skips (fails with
// AISLE_REQUIRE_CHROMIUM=1) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	require := os.Getenv("AISLE_REQUIRE_CHROMIUM") == "1"
	if testing.Short() && !require {
		t.Skip("starts Chromium; skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium is not installed (apt-get install chromium); the storefront script's browser tests need it"
	if require {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestBrowser runs aisle.js in real headless Chromium against a real edge.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	env := newEnv(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)...)
	defer cancelAlloc() // stops Chromium and waits for it
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium: %v", err)
	}

	// tab opens a fresh tab (its own sessionStorage) bounded to 30 s,
	// running init before any page script.
	tab := func(t *testing.T, init string) context.Context {
		t.Helper()
		ctx, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
		t.Cleanup(cancelT)
		if init != "" {
			if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: init}); err != nil {
				t.Fatal(err)
			}
		}
		env.rec.reset()
		env.rec.fail.Store(false)
		return ctx
	}
	do := func(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T, ctx context.Context, query string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(env.shop.URL+"/product"+query),
			void(chromedp.Poll[bool](`window.aisle !== undefined`, chromedp.WithPollingTimeout(10*time.Second))))
	}
	wait := func(t *testing.T, ctx context.Context, what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s (%s): %v", what, expr, err)
		}
	}
	noErrors := func(t *testing.T, ctx context.Context) {
		t.Helper()
		errs := eval[[]string](t, ctx, `window.__errors`)
		if len(errs) > 0 {
			t.Errorf("errors thrown into the page: %q", errs)
		}
		if x := eval[bool](t, ctx, `window.__xss !== undefined`); x {
			t.Error("injected markup ran as script")
		}
		for _, r := range env.rec.recommends(t) {
			if r.Status != http.StatusOK {
				t.Errorf("a recommend request got %d: %s", r.Status, r.Raw)
			}
		}
	}
	ids := make([]string, len(env.products))
	for i, p := range env.products {
		ids[i] = p.ID
	}
	// settled: no widget is waiting for the edge, so every request made so
	// far has been recorded.
	settled := `!document.querySelector("[aria-busy]")`
	storedViews := `(JSON.parse(sessionStorage.getItem("aisle") || '{"e":[]}').e.filter((e) => e.type === "view").length >= 3)`

	t.Run("views are stored and sent", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "three views in sessionStorage", storedViews)
		wait(t, ctx, "the for_you widget", `document.getElementById("fy1").getAttribute("data-aisle-state") === "ready"`)
		viewed := func() []string {
			var v []string
			for _, e := range session(t, ctx).E {
				if e.Type == wire.View {
					v = append(v, e.Item)
					if e.Time <= 0 {
						t.Errorf("view of %s has time %d", e.Item, e.Time)
					}
				}
			}
			slices.Sort(v)
			return v
		}
		if got, want := viewed(), slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
			t.Errorf("views %v, want each product on screen once: %v", got, want)
		}
		if eval[string](t, ctx, `document.cookie`) != "" || eval[int](t, ctx, `localStorage.length`) != 0 {
			t.Error("the script wrote a cookie or localStorage")
		}
		// The widget far below the fold is lazy: no request for it yet.
		for _, r := range env.rec.recommends(t) {
			if r.Req.Placement == wire.ForYou && r.Req.K == 4 {
				t.Fatal("the off-screen for_you widget was requested before it was scrolled into view")
			}
		}
		do(t, ctx, void(chromedp.Evaluate[any](`document.getElementById("fy2").scrollIntoView()`)))
		wait(t, ctx, "the second for_you widget", `document.getElementById("fy2").getAttribute("data-aisle-state") === "ready"`)
		wait(t, ctx, "the view of the item below the fold", `JSON.parse(sessionStorage.getItem("aisle")).e.length === 4`)
		if got, want := viewed(), slices.Sorted(slices.Values(append([]string{env.below.ID}, ids...))); !slices.Equal(got, want) {
			t.Errorf("views after scrolling %v, want %v", got, want)
		}
		var got *recommend
		for _, r := range env.rec.recommends(t) {
			if r.Req.Placement == wire.ForYou && r.Req.K == 4 {
				got = &r
			}
		}
		if got == nil {
			t.Fatal("no request for the second for_you widget")
		}
		sent := map[string]bool{}
		for _, e := range got.Req.Events {
			if e.Type == wire.View {
				sent[e.Item] = true
			}
		}
		for _, id := range ids {
			if !sent[id] {
				t.Errorf("the request carried views of %v, want %v among them", sent, ids)
			}
		}
		if got.Req.Region != "eu" {
			t.Errorf("region %q, want eu", got.Req.Region)
		}
		noErrors(t, ctx)
	})

	t.Run("widgets render items and reasons as text", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "three views", storedViews)
		wait(t, ctx, "widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "ready")`)
		env.rec.reset()
		open(t, ctx, "?only=fy") // a second page: the session carries the views
		wait(t, ctx, "the for_you widget", `document.getElementById("fy1").getAttribute("data-aisle-state") === "ready"`)
		recs := env.rec.recommends(t)
		if len(recs) != 1 || len(recs[0].Req.Events) < 3 {
			t.Fatalf("%d requests, want one for_you carrying the views: %+v", len(recs), recs)
		}
		resp := recs[0].Resp
		known := map[string]string{} // what the script can know: page titles and this answer
		for _, p := range env.products {
			known[p.ID] = p.Title
		}
		for _, x := range resp.Items {
			known[x.ID] = x.Title
		}
		w := eval[widget](t, ctx, widgetJS("fy1"))
		if w.Heading != "Picked for you" || w.ListRole != "list" || w.LabelledBy == "" || w.LabelledBy != w.HeadingID {
			t.Errorf("widget structure: %+v", w)
		}
		if len(w.Items) != len(resp.Items) {
			t.Fatalf("rendered %d items, the edge answered %d", len(w.Items), len(resp.Items))
		}
		viewedReasons := 0
		for i, x := range resp.Items {
			g := w.Items[i]
			want := reasonText(x, known)
			if x.Reason == wire.ReasonViewed && known[x.Source] != "" {
				viewedReasons++
			}
			price := ""
			if x.Price > 0 {
				price = fmt.Sprintf("%.2f", x.Price)
			}
			if g.ID != x.ID || g.Name != x.Title || g.Role != "listitem" || g.Tag != "BUTTON" || g.Reason != want || g.Price != price {
				t.Errorf("item %d: rendered %+v, want id %s, name %q, reason %q, price %q", i, g, x.ID, x.Title, want, price)
			}
		}
		if viewedReasons == 0 {
			t.Errorf("no item says \"Because you viewed …\": %+v", resp.Items)
		}
		noErrors(t, ctx)
	})

	t.Run("server markup renders as text", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "three views", storedViews)
		open(t, ctx, "")
		wait(t, ctx, "widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "ready")`)
		n := eval[int](t, ctx, `document.querySelectorAll("#fy1 img, #fy1 script, #sim img, #sim script").length`)
		literal := eval[int](t, ctx, `[...document.querySelectorAll("#fy1 .aisle-link, #sim .aisle-link, #fy1 .aisle-reason")].filter((e) => e.textContent.includes('<img src=x onerror="window.__xss=1">')).length`)
		if n != 0 {
			t.Errorf("%d img or script elements inside the widgets", n)
		}
		if literal == 0 {
			t.Error("no rendered title shows the injected markup as literal text")
		}
		noErrors(t, ctx)
	})

	t.Run("customers say renders as text", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "summary", `document.getElementById("says").getAttribute("data-aisle-state") === "ready"`)
		got := eval[string](t, ctx, `[...document.querySelectorAll("#says .aisle-verdict, #says .aisle-point")].map((e) => e.textContent).join(" | ")`)
		want := "Most customers are happy " + xss + " | Flies well " + xss + " (2 reviews) | The string is short (1 review)"
		if got != want {
			t.Errorf("summary text\n got %q\nwant %q", got, want)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#says img, #says script").length`); n != 0 {
			t.Errorf("%d elements made from server text", n)
		}
		var asked bool
		env.hub.mu.Lock()
		summaries := slices.Clone(env.hub.summaries)
		env.hub.mu.Unlock()
		for _, b := range summaries {
			if bytes.Contains(b, []byte(`"item":"`+env.products[0].ID+`"`)) {
				asked = true
			}
		}
		if !asked {
			t.Error("the edge did not forward the summary request with the item")
		}
		noErrors(t, ctx)
	})

	t.Run("a click reaches the next for_you request", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "ready")`)
		wait(t, ctx, "settled widgets", settled)
		before := len(env.rec.recommends(t))
		do(t, ctx, void(chromedp.Evaluate[any](`
			window.__renders = 0;
			document.getElementById("fy1").addEventListener("aisle:render", () => { window.__renders++; window.__t1 = performance.now(); });
			document.addEventListener("click", () => { window.__t0 = performance.now(); }, true);`)))
		clicked := eval[string](t, ctx, `document.querySelector("#sim [data-aisle-rec]").getAttribute("data-aisle-rec")`)
		do(t, ctx, chromedp.Click(chromedp.CSS("#sim [data-aisle-rec]")))
		wait(t, ctx, "the re-rendered for_you widget", `window.__renders > 0`)
		ms := eval[float64](t, ctx, `window.__t1 - window.__t0`)
		t.Logf("click on a recommendation → for_you widget re-rendered: %.1f ms", ms)

		recs := env.rec.recommends(t)
		var after []recommend
		for _, r := range recs[before:] {
			if r.Req.Placement != wire.ForYou {
				t.Errorf("the click re-rendered a %s widget; only for_you widgets follow a click", r.Req.Placement)
				continue
			}
			after = append(after, r)
		}
		if len(after) != 1 {
			t.Fatalf("%d for_you requests after the click, want 1 (the visible widget)", len(after))
		}
		ev := after[0].Req.Events
		if len(ev) == 0 || ev[len(ev)-1].Type != wire.Click || ev[len(ev)-1].Item != clicked {
			t.Errorf("the for_you request after the click ends with %+v, want a click on %s", ev, clicked)
		}
		for _, r := range recs[:before] {
			for _, e := range r.Req.Events {
				if e.Type == wire.Click {
					t.Errorf("a request before the click carried a click: %+v", e)
				}
			}
		}
		if s := session(t, ctx); len(s.E) == 0 || s.E[len(s.E)-1].Type != wire.Click {
			t.Errorf("sessionStorage does not end with the click: %+v", s.E)
		}
		if got := eval[string](t, ctx, `location.hash`); got != "#p/"+clicked {
			t.Errorf("the link went to %q, want #p/%s (data-href-template)", got, clicked)
		}
		noErrors(t, ctx)
	})

	t.Run("page events", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "three views", storedViews)
		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-aisle-add-to-cart]`)),
			chromedp.Click(chromedp.CSS(`#products article:nth-child(2) [data-aisle-click]`)),
			chromedp.SendKeys(chromedp.CSS(`#search input`), "wooden train\n"),
		)
		wait(t, ctx, "search results", `document.getElementById("results").getAttribute("data-aisle-state") === "ready"`)
		s := session(t, ctx)
		var got []string
		for _, e := range s.E {
			if e.Type != wire.View {
				got = append(got, string(e.Type)+":"+e.Item+e.Query)
			}
		}
		want := []string{"add_to_cart:" + ids[0], "click:" + ids[1], "search:wooden train"}
		if !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		var search *recommend
		for _, r := range env.rec.recommends(t) {
			if r.Req.Placement == wire.SearchResults {
				search = &r
			}
		}
		if search == nil || search.Req.Query != "wooden train" {
			t.Errorf("search widget request: %+v", search)
		}
		noErrors(t, ctx)
	})

	t.Run("consent required", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "?consent=1")
		wait(t, ctx, "widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "ready")`)
		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-aisle-add-to-cart]`)),
			chromedp.Click(chromedp.CSS(`#sim [data-aisle-rec]`)),
			chromedp.SendKeys(chromedp.CSS(`#search input`), "puzzle\n"),
		)
		if kept := eval[bool](t, ctx, `aisle.track("view", {item: "x"})`); kept {
			t.Error("track kept an event before consent")
		}
		wait(t, ctx, "search results", `document.getElementById("results").getAttribute("data-aisle-state") !== null`)
		if n := eval[int](t, ctx, `sessionStorage.length + localStorage.length`); n != 0 || eval[string](t, ctx, `document.cookie`) != "" {
			t.Errorf("something was stored before consent: %d storage keys, cookie %q", n, eval[string](t, ctx, `document.cookie`))
		}
		recs := env.rec.recommends(t)
		if len(recs) == 0 {
			t.Fatal("no recommendations were requested")
		}
		for _, r := range recs {
			if _, ok := r.Raw["events"]; ok {
				t.Errorf("events sent before consent: %s", r.Raw["events"])
			}
		}

		wait(t, ctx, "settled widgets", settled)
		env.rec.reset()
		do(t, ctx, void(chromedp.Evaluate[any](`aisle.consent(true)`)))
		wait(t, ctx, "views stored after consent", storedViews)
		wait(t, ctx, "refreshed widgets", settled)
		recs = env.rec.recommends(t)
		withViews := 0
		for _, r := range recs {
			if len(r.Req.Events) >= 3 {
				withViews++
			}
		}
		if withViews == 0 {
			t.Errorf("after consent the refreshed widgets sent no views: %d requests", len(recs))
		}

		env.rec.reset()
		do(t, ctx, void(chromedp.Evaluate[any](`aisle.consent(false)`)))
		if v := eval[*string](t, ctx, `sessionStorage.getItem("aisle")`); v != nil {
			t.Errorf("consent(false) left the session: %s", *v)
		}
		wait(t, ctx, "widgets refreshed", settled)
		for _, r := range env.rec.recommends(t) {
			if _, ok := r.Raw["events"]; ok {
				t.Errorf("events sent after consent(false): %s", r.Raw["events"])
			}
		}
		noErrors(t, ctx)
	})

	for _, pref := range []struct{ name, init string }{
		{"global privacy control", `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true, configurable: true});`},
		{"do not track", `Object.defineProperty(Navigator.prototype, "doNotTrack", {get: () => "1", configurable: true});`},
	} {
		t.Run(pref.name, func(t *testing.T) {
			ctx := tab(t, pref.init)
			open(t, ctx, "")
			wait(t, ctx, "widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "ready")`)
			do(t, ctx,
				chromedp.Click(chromedp.CSS(`[data-aisle-add-to-cart]`)),
				chromedp.Click(chromedp.CSS(`#sim [data-aisle-rec]`)),
				void(chromedp.Evaluate[any](`aisle.consent(true); aisle.track("purchase", {item: "x"})`)),
			)
			wait(t, ctx, "refreshed widgets", settled)
			if n := eval[int](t, ctx, `sessionStorage.length + localStorage.length`); n != 0 {
				t.Errorf("%d storage keys written", n)
			}
			recs := env.rec.recommends(t)
			if len(recs) < 2 {
				t.Errorf("%d recommend requests; widgets should still be served", len(recs))
			}
			for _, r := range recs {
				if _, ok := r.Raw["events"]; ok {
					t.Errorf("events sent: %s", r.Raw["events"])
				}
			}
			noErrors(t, ctx)
		})
	}

	t.Run("chat", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "")
		wait(t, ctx, "three views", storedViews)
		ask := func(msg string, turns int) {
			t.Helper()
			do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#chat input`), msg+"\n"))
			wait(t, ctx, "the answer", fmt.Sprintf(`document.querySelectorAll("#chat .aisle-assistant").length === %d`, turns))
		}
		ask("Is it good for a three-year-old?", 1)
		ask("And for a five-year-old?", 2)
		ask("please fail", 3)

		sent := env.rec.all("/v1/chat")
		if len(sent) != 3 {
			t.Fatalf("%d chat requests, want 3", len(sent))
		}
		allowed := map[string]bool{"message": true, "history": true, "items": true, "item": true, "shop": true}
		type turn struct{ Role, Text string }
		var bodies []struct {
			Message string
			History []turn
			Items   []string
			Item    string
		}
		for _, x := range sent {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(x.Body, &m); err != nil {
				t.Fatal(err)
			}
			for k := range m {
				if !allowed[k] {
					t.Errorf("chat request has field %q", k)
				}
			}
			var b struct {
				Message string
				History []turn
				Items   []string
				Item    string
			}
			_ = json.Unmarshal(x.Body, &b)
			bodies = append(bodies, b)
		}
		if b := bodies[0]; b.Message != "Is it good for a three-year-old?" || b.Item != ids[0] || len(b.History) != 0 ||
			!slices.Equal(slices.Sorted(slices.Values(b.Items)), slices.Sorted(slices.Values(ids))) {
			t.Errorf("first chat request: %+v", b)
		}
		if h := bodies[1].History; len(h) != 2 || h[0] != (turn{"user", "Is it good for a three-year-old?"}) || h[1] != (turn{"assistant", env.answer.Answer}) {
			t.Errorf("second chat request history: %+v", h)
		}
		if got := env.hub.received(); len(got) != 3 || !bytes.Contains(got[0], []byte(`"region":"eu"`)) {
			t.Errorf("the hub received %d requests: %s", len(got), got)
		}

		c := eval[chatView](t, ctx, `(() => {
			const box = document.getElementById("chat");
			const turns = [...box.querySelectorAll(".aisle-assistant")];
			return {
				answers: turns.map((t) => t.querySelector(".aisle-text").textContent),
				degraded: turns.map((t) => t.classList.contains("aisle-degraded")),
				cards: [...turns[0].querySelectorAll("[data-aisle-rec]")].map((a) => a.getAttribute("data-aisle-rec") + "|" + a.textContent),
				sources: [...turns[0].querySelectorAll(".aisle-source")].map((s) => s.textContent),
				elements: box.querySelectorAll("img, script").length,
				label: box.querySelector("label").textContent,
				labelFor: box.querySelector("label").htmlFor === box.querySelector("input").id,
				log: box.querySelector("[role=log]") !== null,
			};
		})()`)
		degradedText := "The assistant is unavailable right now; please try again in a moment. Recommendations on this page still work."
		if !slices.Equal(c.Answers, []string{env.answer.Answer, env.answer.Answer, degradedText}) || !slices.Equal(c.Degraded, []bool{false, false, true}) {
			t.Errorf("answers %q (degraded %v)", c.Answers, c.Degraded)
		}
		a := env.snap.Items.IDs[50]
		b := env.snap.Items.IDs[51]
		if want := []string{a + "|" + xss + " Train", b + "|" + env.titles[b]}; !slices.Equal(c.Cards, want) {
			// The second card has only an id: its title shows if an earlier answer named it.
			if len(c.Cards) != 2 || c.Cards[0] != want[0] || (c.Cards[1] != b+"|"+b && c.Cards[1] != want[1]) {
				t.Errorf("cards %q, want %q", c.Cards, want)
			}
		}
		if want := []string{"review r-" + xss, "faq:returns"}; !slices.Equal(c.Sources, want) {
			t.Errorf("sources %q, want %q", c.Sources, want)
		}
		if c.Elements != 0 || !c.LabelFor || !c.Log || c.Label == "" {
			t.Errorf("chat box: %+v", c)
		}
		noErrors(t, ctx)
	})

	t.Run("long chats stay under the edge's body limit", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "?only=fy")
		do(t, ctx, void(chromedp.Evaluate[any](`(() => {
			const d = document.createElement("div");
			d.id = "chat"; d.setAttribute("data-aisle-chat", "");
			document.body.append(d); // added after load: the script picks it up
		})()`)))
		wait(t, ctx, "the chat box", `document.querySelector("#chat input") !== null`)
		for i := 1; i <= 6; i++ {
			msg := fmt.Sprintf("long question %d %s", i, strings.Repeat("ü", 900))
			do(t, ctx, chromedp.SetValue(chromedp.CSS(`#chat input`), msg), chromedp.Click(chromedp.CSS(`#chat button[type=submit]`)))
			wait(t, ctx, "the answer", fmt.Sprintf(`document.querySelectorAll("#chat .aisle-assistant").length === %d`, i))
		}
		for i, x := range env.rec.all("/v1/chat") {
			if x.Status != http.StatusOK || len(x.Body) > edge.MaxEscalationBytes || bytes.Contains(x.Resp, []byte(`"degraded"`)) {
				t.Errorf("chat request %d: %d bytes, answered %d %.60s", i, len(x.Body), x.Status, x.Resp)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#chat .aisle-degraded").length`); n != 0 {
			t.Errorf("%d degraded answers", n)
		}
		noErrors(t, ctx)
	})

	t.Run("failures render nothing and warn once", func(t *testing.T) {
		ctx := tab(t, "")
		env.rec.fail.Store(true)
		open(t, ctx, "")
		wait(t, ctx, "failed widgets", `["fy1", "sim"].every((id) => document.getElementById(id).getAttribute("data-aisle-state") === "error")`)
		do(t, ctx, void(chromedp.Evaluate[any](`aisle.refresh()`)))
		wait(t, ctx, "failed again", `!document.querySelector("[aria-busy]")`)
		if n := eval[int](t, ctx, `document.querySelectorAll("#fy1 *, #sim *").length`); n != 0 {
			t.Errorf("failed widgets rendered %d elements", n)
		}
		warns := eval[[]string](t, ctx, `window.__warns`)
		if len(warns) != 1 || !strings.HasPrefix(warns[0], "aisle: recommendations failed") {
			t.Errorf("console.warn calls: %q, want one", warns)
		}
		rejected := eval[bool](t, ctx, `aisle.recommend("for_you").then(() => false, () => true)`, chromedp.EvalAwaitPromise)
		if !rejected {
			t.Error("aisle.recommend resolved on a failing edge")
		}
		env.rec.fail.Store(false)
		errs := eval[[]string](t, ctx, `window.__errors`)
		if len(errs) > 0 {
			t.Errorf("errors thrown into the page: %q", errs)
		}
	})

	t.Run("the session is bounded", func(t *testing.T) {
		ctx := tab(t, "")
		open(t, ctx, "?only=fy")
		wait(t, ctx, "three views", storedViews) // first, so the events below are the newest
		do(t, ctx, void(chromedp.Evaluate[any](`
			for (let i = 0; i < 60; i++) aisle.track("search", {query: i + " " + "é".repeat(400)});
			aisle.track("view", {item: "a\ud800b"});`)))
		s := session(t, ctx)
		if len(s.E) != 50 {
			t.Errorf("%d events kept, want the last 50", len(s.E))
		}
		for _, e := range s.E[:len(s.E)-1] {
			if len(e.Query) > wire.MaxString || len(e.Query) < wire.MaxString-1 {
				t.Errorf("query of %d bytes, want it cut to %d", len(e.Query), wire.MaxString)
			}
		}
		if last := s.E[len(s.E)-1]; last.Item != "ab" {
			t.Errorf("a lone surrogate was kept: %q", last.Item)
		}
		if first := s.E[0].Query; !strings.HasPrefix(first, "11 ") {
			t.Errorf("oldest kept event %.10q, want event 11", first)
		}
		env.rec.reset()
		do(t, ctx, void(chromedp.Evaluate[any](`aisle.refresh()`)))
		wait(t, ctx, "refresh", `document.getElementById("fy1").getAttribute("data-aisle-state") === "ready" && !document.querySelector("[aria-busy]")`)
		recs := env.rec.recommends(t)
		if len(recs) == 0 || len(recs[len(recs)-1].Req.Events) != 50 {
			t.Errorf("the edge did not accept the bounded session: %d requests", len(recs))
		}
		noErrors(t, ctx)
	})
}

// widget is what widgetJS reads from a rendered widget.
type widget struct {
	Heading    string
	HeadingID  string
	ListRole   string
	LabelledBy string
	Items      []struct {
		ID, Name, Tag, Role, Price, Reason string
	}
}

func widgetJS(id string) string {
	return `(() => {
		const w = document.getElementById(` + jsString(id) + `);
		const h = w.querySelector("h2"), ul = w.querySelector("ul");
		return {
			heading: h ? h.textContent : "", headingID: h ? h.id : "",
			listRole: ul ? ul.getAttribute("role") : "", labelledBy: ul ? ul.getAttribute("aria-labelledby") : "",
			items: [...w.querySelectorAll("li")].map((li) => {
				const a = li.querySelector("[data-aisle-rec]"), p = li.querySelector(".aisle-price"), r = li.querySelector(".aisle-reason");
				return {id: a.getAttribute("data-aisle-rec"), name: a.textContent, tag: a.tagName, role: li.getAttribute("role"),
					price: p ? p.textContent : "", reason: r ? r.textContent : ""};
			}),
		};
	})()`
}

type chatView struct {
	Answers  []string
	Degraded []bool
	Cards    []string
	Sources  []string
	Elements int
	Label    string
	LabelFor bool
	Log      bool
}

// reasonText is the text aisle.js shows for an item's reason.
func reasonText(x wire.Rec, titles map[string]string) string {
	src := titles[x.Source]
	pick := func(with, without string) string {
		if src != "" {
			return with + src
		}
		return without
	}
	if x.Reason == wire.ReasonViewed && x.Source == x.ID {
		return "You looked at this recently"
	}
	switch x.Reason {
	case wire.ReasonViewed:
		return pick("Because you viewed ", "Because of what you viewed")
	case wire.ReasonBoughtWith:
		return pick("Often bought with ", "Often bought together")
	case wire.ReasonSimilarTo:
		return pick("Similar to ", "Similar to what you viewed")
	case wire.ReasonTrending:
		return "Trending now"
	case wire.ReasonMatchesQuery:
		return "Matches your search"
	case wire.ReasonPopularInSegment:
		return "Popular with shoppers like you"
	}
	return ""
}

// storedSession is the sessionStorage value aisle.js keeps.
type storedSession struct {
	E []wire.Event      `json:"e"`
	T map[string]string `json:"t"`
}

func session(t *testing.T, ctx context.Context) storedSession {
	t.Helper()
	raw := eval[*string](t, ctx, `sessionStorage.getItem("aisle")`)
	var s storedSession
	if raw == nil {
		return s
	}
	if err := json.Unmarshal([]byte(*raw), &s); err != nil {
		t.Fatalf("sessionStorage: %v: %s", err, *raw)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// void drops an action's value.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
