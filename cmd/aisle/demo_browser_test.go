package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
	"github.com/aisle-rec/aisle/web"
)

// artifacts returns the directory test screenshots go to: $AISLE_ARTIFACTS,
// or /tmp/aisle-artifacts.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AISLE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "aisle-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromiumPath returns the browser to drive, or skips (fails with
// AISLE_REQUIRE_CHROMIUM=1) when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	require := os.Getenv("AISLE_REQUIRE_CHROMIUM") == "1"
	if testing.Short() && !require {
		t.Skip("starts Chromium; skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if require {
		t.Fatal("Chromium is not installed (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium)")
	return ""
}

// seedSessions returns a priced product of the first category browsed; it
// writes past sessions into the demo's store before the demo
// builds, so that its dashboard has an evaluation and searches to show.
// They are synthetic: visitors browse one category's toys in popularity
// order, some after a search for the category.
func seedSessions(t *testing.T, dir string) (first string) {
	t.Helper()
	ctx := context.Background()
	var products []catalog.Product
	if err := catalog.ReadProducts(web.DemoCatalog(), "catalog.jsonl", func(p catalog.Product) error {
		products = append(products, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byCat := map[string][]string{}
	priced := map[string]bool{}
	for _, p := range products {
		priced[p.ID] = p.Price > 0
		if len(p.Category) > 1 {
			byCat[p.Category[1]] = append(byCat[p.Category[1]], p.ID)
		}
	}
	var cats []string
	for c, ids := range byCat {
		if len(ids) >= 8 {
			cats = append(cats, c)
		}
	}
	slices.Sort(cats)
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateShop(ctx, demoShop, ""); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	t0 := time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	for s := range 900 {
		c := cats[(s*7)%len(cats)]
		ids := byCat[c]
		from := (s / len(cats)) % (len(ids) - 5)
		id := fmt.Sprintf("v%04d", s)
		at := t0 + int64(s)*60_000
		seq := int64(1)
		if s%3 == 0 {
			q := strings.ToLower(strings.Fields(c)[0])
			evs = append(evs, store.Event{Session: id, Seq: seq, Type: wire.Search, Query: q, Time: at})
			seq++
		}
		for i := range 2 + s%4 {
			evs = append(evs, store.Event{Session: id, Seq: seq, Type: wire.View, Item: ids[from+i], Time: at + int64(i+1)*20_000})
			seq++
		}
	}
	if _, err := st.AppendEvents(ctx, demoShop, evs); err != nil {
		t.Fatal(err)
	}
	for _, id := range byCat[cats[0]] {
		if priced[id] {
			return id
		}
	}
	return byCat[cats[0]][0]
}

// TestDemoScreenshots drives the demo store and the hub dashboard in
// headless Chromium and saves a PNG of each page to the artifacts
// directory: home, product, cart (after adding the product) and search,
// then the dashboard once the edges have reported.
func TestDemoScreenshots(t *testing.T) {
	exe := chromiumPath(t)
	dir := t.TempDir()
	item := seedSessions(t, dir)
	storeURL, edgeURL, out, stop := startDemo(t, dir, "native")
	defer stop()
	m := regexp.MustCompile(`dashboard  (http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no dashboard address in:\n%s", out.String())
	}
	dashURL := m[1]
	shots := artifacts(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelT()
	start := time.Now()

	// settled waits until every widget on the page has left "loading".
	const settled = `[...document.querySelectorAll("[data-aisle]")].every((el) => ["ready", "empty", "error"].includes(el.getAttribute("data-aisle-state")) || el.getBoundingClientRect().top > innerHeight)`
	shot := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		actions = append(actions, asVoid(chromedp.Poll[bool](settled, chromedp.WithPollingTimeout(20*time.Second))))
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		path := filepath.Join(shots, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}
	ready := func(sel string) chromedp.Action[chromedp.Void] {
		return asVoid(chromedp.Poll[bool](`document.querySelector(`+fmt.Sprintf("%q", sel)+`).getAttribute("data-aisle-state") === "ready"`, chromedp.WithPollingTimeout(20*time.Second)))
	}

	shot("store-home", chromedp.Navigate(storeURL+"/"), ready(`[data-aisle="trending"]`))
	shot("store-product", chromedp.Navigate(storeURL+"/p/"+item), ready(`[data-aisle="similar"]`))
	// A product question in the page's chat box: answered by the hub's
	// assistant through the edge, with its sources, rendered as text.
	const answered = `[...document.querySelectorAll("[data-aisle-chat] .aisle-assistant")].some((t) => !t.classList.contains("aisle-degraded") && t.querySelector(".aisle-sources"))`
	chatAsked := time.Now()
	shot("store-chat", chromedp.SendKeys(chromedp.CSS(`[data-aisle-chat] input`), "What age is it suitable for?\n"),
		asVoid(chromedp.Poll[bool](answered, chromedp.WithPollingTimeout(60*time.Second))))
	t.Logf("chat answer with sources shown %v after the question (includes the assistant's first-use warm-up)", time.Since(chatAsked).Round(time.Millisecond))
	answer, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-aisle-chat] .aisle-assistant .aisle-text").textContent + " | " + document.querySelector("[data-aisle-chat] .aisle-sources").textContent`))
	if err != nil || !strings.Contains(answer, "years") || !strings.Contains(answer, "item") {
		t.Errorf("chat answer %q (%v): want the product's age from its details, with the item as a source", answer, err)
	}
	shot("store-cart", chromedp.Click(chromedp.CSS(`button[data-aisle-add-to-cart]`)), chromedp.WaitVisible(chromedp.CSS(`table.cart`)), ready(`[data-aisle="cart"]`))
	if lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.cart tr.line").length`)); err != nil || lines != 1 {
		t.Errorf("cart lines %d (%v), want the one product added", lines, err)
	}
	shot("store-search", chromedp.Navigate(storeURL+"/search?q=train"), ready(`[data-aisle="search"]`))

	// The edges report once ReportEvery (10 s in the demo) of traffic has
	// passed: one more request after that sends the report.
	if d := 11*time.Second - time.Since(start); d > 0 {
		time.Sleep(d)
	}
	resp, err := http.Post(edgeURL+"/v1/recommend", "application/json", strings.NewReader(`{"placement":"trending","k":3}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond) // the report is sent beside the request
	shot("dashboard", chromedp.Navigate(dashURL), chromedp.WaitVisible(chromedp.CSS(`#quality`)))
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Recommendation quality on your own sessions", "most popular items", "Edges", "Top searches", "Top chat intents", "product_question"} {
		if !strings.Contains(text, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\beu\s+1\s+\d+`).MatchString(text) {
		t.Errorf("dashboard shows no report from the eu edge:\n%s", text)
	}
}

// asVoid drops an action's result.
func asVoid[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
