package chat

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/build"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/ingest"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/web"
)

// demo is the bundled toys shop in a real store, built and published as
// the demo does it, with its assistant warmed.
type demo struct {
	st       *store.Store
	a        *Assistant
	products map[string]catalog.Product
	byTitle  map[string]string
}

var (
	demoOnce sync.Once
	demoShop *demo
	demoErr  error
)

func loadDemo(t testing.TB) *demo {
	t.Helper()
	demoOnce.Do(func() { demoShop, demoErr = buildDemo() })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoShop
}

func buildDemo() (*demo, error) {
	ctx := context.Background()
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		return nil, err
	}
	if err := st.CreateShop(ctx, "toys", ""); err != nil {
		return nil, err
	}
	read := func(r io.Reader) []byte { b, _ := io.ReadAll(r); return b }
	var faq []ingest.Source
	names, _ := fs.Glob(web.DemoFAQ(), "*.md")
	for _, n := range names {
		b, _ := fs.ReadFile(web.DemoFAQ(), n)
		s := ingest.BytesSource(n, b)
		s.DocID = strings.TrimSuffix(n, ".md")
		faq = append(faq, s)
	}
	for _, in := range []struct {
		kind ingest.Kind
		src  []ingest.Source
		f    ingest.Format
	}{
		{ingest.Catalog, []ingest.Source{ingest.BytesSource("catalog.jsonl", read(web.DemoCatalog()))}, ingest.JSONL},
		{ingest.Reviews, []ingest.Source{ingest.BytesSource("reviews.jsonl", read(web.DemoReviews()))}, ingest.JSONL},
		{ingest.FAQ, faq, ingest.Markdown},
	} {
		b, err := ingest.Parse(in.kind, in.src, ingest.Options{Format: in.f})
		if err != nil {
			return nil, err
		}
		if _, err := ingest.Write(ctx, st, "toys", b, io.Discard); err != nil {
			return nil, err
		}
	}
	pub, err := publish.Open(filepath.Join(dir, "snapshots"))
	if err != nil {
		return nil, err
	}
	d, err := build.Load(ctx, st, "toys")
	if err != nil {
		return nil, err
	}
	cfg := build.DefaultConfig()
	cfg.Regions, cfg.Evaluate, cfg.ModelRoot = []string{"eu"}, false, filepath.Join(dir, "models")
	if _, err := build.Run(ctx, d, "toys", cfg, pub, io.Discard); err != nil {
		return nil, err
	}
	a, err := New(Config{Store: st, Snapshots: pub, Regions: []string{"eu"}})
	if err != nil {
		return nil, err
	}
	if err := a.Warm(ctx, "toys"); err != nil {
		return nil, err
	}
	out := &demo{st: st, a: a, products: map[string]catalog.Product{}, byTitle: map[string]string{}}
	for _, p := range d.Products {
		out.products[p.ID] = p
		out.byTitle[p.Title] = p.ID
	}
	return out, nil
}

// tempDirs hold the package's shared demo shop (t.TempDir would vanish
// with the first test that used it); TestMain removes them.
var tempDirs []string

func tempDir() (string, error) {
	d, err := os.MkdirTemp("", "aisle-chat-demo-")
	if err == nil {
		tempDirs = append(tempDirs, d)
	}
	return d, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoShop != nil {
		demoShop.st.Close()
	}
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func (d *demo) id(t *testing.T, title string) string {
	t.Helper()
	id, ok := d.byTitle[title]
	if !ok {
		t.Fatalf("the demo catalog has no %q", title)
	}
	return id
}

// demoQuestions are what visitors of the toy shop ask, with what a correct
// answer must hold. Expected facts are read from the catalog, not written
// here.
func TestDemoShopAnswers(t *testing.T) {
	d := loadDemo(t)
	santa := d.id(t, "Hornby Santa's Express Train Set")
	moon := d.id(t, "Moon Sand Refill Red")
	play := d.id(t, "Play Sand 1Kg")
	ask := func(msg, item string) Response {
		t.Helper()
		r, err := d.a.Answer(context.Background(), Request{Shop: "toys", Region: "eu", Message: msg, Item: item})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("age of a named product", func(t *testing.T) {
		r := ask("What age is the Hornby Santa's Express Train Set for?", "")
		want := d.products[santa].Attributes["recommended_age"]
		if r.Intent != IntentProductQuestion || !hasSource(r, KindItem, santa) || want == "" || !strings.Contains(r.Answer, want) {
			t.Fatalf("want %q from item %s, got %+v", want, santa, r)
		}
	})
	t.Run("search", func(t *testing.T) {
		r := ask("do you have any kinetic sand?", "")
		if r.Intent != IntentProductSearch || len(r.Items) < 2 {
			t.Fatalf("want kinetic sand cards, got %+v", r)
		}
		for _, c := range r.Items {
			p := d.products[c.ID]
			if text := strings.ToLower(p.Title + " " + p.Description); !strings.Contains(text, "sand") {
				t.Errorf("card %q does not match the search", p.Title)
			}
		}
	})
	t.Run("comparison", func(t *testing.T) {
		r := ask("Moon Sand Refill Red or Play Sand 1Kg, which is better?", "")
		if ids := cardIDs(r); r.Intent != IntentProductComparison || len(ids) != 2 || !slices.Contains(ids, moon) || !slices.Contains(ids, play) {
			t.Fatalf("want both sands compared, got %+v", r)
		}
	})
	for _, c := range []struct{ msg, faq string }{
		{"what is your returns policy?", "returns"},
		{"how much does delivery cost?", "delivery"},
		{"which payment methods do you accept?", "payment"},
		{"I forgot my password", "account"},
		{"can I cancel my order?", "orders"},
		{"are your toys safe for toddlers?", "safety"},
	} {
		t.Run(c.msg, func(t *testing.T) {
			if r := ask(c.msg, ""); !hasSource(r, KindFAQ, c.faq) {
				t.Fatalf("want the %s document, got %s: %q %+v", c.faq, r.Intent, r.Answer, r.Sources)
			}
		})
	}
	t.Run("not sold here", func(t *testing.T) {
		if r := ask("do you sell washing machines?", ""); len(r.Items) != 0 || !r.Handoff {
			t.Fatalf("want no cards and a hand-off, got %+v", r)
		}
	})
	t.Run("question on the product page", func(t *testing.T) {
		r := ask("is it suitable for a 3 year old?", santa)
		if !hasSource(r, KindItem, santa) || !strings.Contains(r.Answer, d.products[santa].Attributes["recommended_age"]) {
			t.Fatalf("got %+v", r)
		}
	})
}

// demoLoad is a mix of the questions visitors ask.
var demoLoad = []Request{
	{Message: "What age is the Hornby Santa's Express Train Set for?"},
	{Message: "do you have any kinetic sand?"},
	{Message: "Moon Sand Refill Red or Play Sand 1Kg, which is better?"},
	{Message: "what is your returns policy?"},
	{Message: "how long does delivery take?"},
	{Message: "where is my order 48213377?"},
	{Message: "gift ideas for a 6 year old who likes dinosaurs"},
	{Message: "what do customers say about the Chinese Checkers?"},
	{Message: "hello"},
	{Message: "I want to talk to a person"},
}

// BenchmarkChatDemo answers the demo load on the warmed demo shop and
// reports the latency percentiles of one answer.
func BenchmarkChatDemo(b *testing.B) {
	d := loadDemo(b)
	ctx := context.Background()
	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := demoLoad[i%len(demoLoad)]
		q.Shop, q.Region = "toys", "eu"
		t0 := time.Now()
		if _, err := d.a.Answer(ctx, q); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
