package dashboard

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/build"
	"github.com/aisle-rec/aisle/hub/fleet"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// richFixture is fixture plus what the new sections read: search events,
// a stored evaluation, edge reports for eu (and for us, which serves no
// snapshot of the shop), and chat intents.
func richFixture(t *testing.T) http.Handler {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateShop(ctx, "a", tokenA); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	for i, q := range []string{"Kite", "kite ", "lego", "<img src=x>", "kite", "lego"} {
		evs = append(evs, store.Event{Session: "s", Seq: int64(i + 1), Type: wire.Search, Query: q, Time: int64(i)})
	}
	evs = append(evs, store.Event{Session: "s", Seq: 7, Type: wire.View, Item: "x", Time: 9})
	if _, err := st.AppendEvents(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	if err := build.SaveEvaluation(ctx, st, "a", build.Evaluation{Region: "eu", Built: 1_700_000_000_000, Protocol: "last item held out", Cases: 321, Sessions: 400,
		Systems: []build.SystemScore{{System: "Aisle", Recall10: 0.4, NDCG10: 0.2}, {System: "most popular items", Recall10: 0.05, NDCG10: 0.02}}}); err != nil {
		t.Fatal(err)
	}
	s := snapshot.Synthetic(40, 8, 3, 4, 7)
	s.Shop, s.Region = "a", "eu"
	b, _ := snapshot.Encode(s, snapshot.EncodeOptions{})
	pub, err := publish.Open(filepath.Join(dir, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish("eu", b); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_100_000)
	g := fleet.NewRegistry(func() time.Time { return now.Add(-5 * time.Second) })
	for _, region := range []string{"eu", "us"} {
		if err := g.Add(fleet.Report{Region: region, Instance: "ab", From: 1, To: 60_001, Requests: 110, Recommends: 100, Errors: 2, Fallbacks: 5,
			Timed: true, Latency: []int64{10, 60, 20, 5, 4, 1, 0, 0, 0, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
	}
	intents := func(shop string) map[string]int {
		if shop != "a" {
			t.Errorf("intents asked for shop %q", shop)
		}
		return map[string]int{"product_question": 7, "shipping": 3, "<b>": 1, "none": 0}
	}
	return New(Deps{Store: st, Snapshots: pub, Regions: []string{"eu", "us"}, Edges: g, Intents: intents, Now: func() time.Time { return now }})
}

func TestEvaluationEdgesSearchesIntents(t *testing.T) {
	h := richFixture(t)
	code, _, body := get(t, h, "/dashboard?shop=a", "Bearer "+tokenA)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, want := range []string{
		// The evaluation: table rows and a chart.
		`<tr class="system"><td>Aisle</td><td class="n">0.4000</td><td class="n">0.2000</td>`,
		`<tr class="system"><td>most popular items</td>`, "321 held-out events", `aria-label="recall@10 and NDCG@10`,
		// The edges of eu (which serves the shop's snapshot), not of us.
		`<tr class="edge"><td>eu</td><td class="n">1</td><td class="n">110</td><td class="n">100</td><td class="n">≤ 100 µs</td><td class="n">≤ 1 ms</td><td class="n">5.0 %</td><td class="n">1.8 %</td><td>5s ago</td></tr>`,
		`aria-label="share of recommend answers by time`,
		// Searches, normalised and counted, escaped.
		`>kite</text>`, `>3</text>`, `>lego</text>`, `&lt;img src=x&gt;`,
		// Intents, largest first, zero counts dropped, escaped.
		`>product_question</text>`, `&lt;b&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, `<td>us</td><td class="n">`) {
		t.Error("edges of a region without the shop's snapshot are shown")
	}
	if strings.Contains(body, ">none</text>") || strings.Contains(body, "<img") || !strings.Contains(body, ">&lt;b&gt;<") {
		t.Error("a zero intent or unescaped text on the page")
	}
	if strings.Index(body, ">kite</text>") > strings.Index(body, ">lego</text>") {
		t.Error("searches not ordered by count")
	}
}

func TestNoEvaluationNoReports(t *testing.T) {
	h, _ := fixture(t, 30)
	_, _, body := get(t, h, "/dashboard?shop=a", "Bearer "+tokenA)
	if !strings.Contains(body, `id="no-eval"`) || strings.Contains(body, `id="edges"`) || strings.Contains(body, `id="intents"`) {
		t.Error("a fresh shop should show the evaluation's absence and no edge or intent sections")
	}
}
