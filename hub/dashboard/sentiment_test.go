package dashboard

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
)

func TestReviewSentiment(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateShop(ctx, "a", tokenA); err != nil {
		t.Fatal(err)
	}
	st.UpsertProducts(ctx, "a", []catalog.Product{{ID: "kite", Title: "Red <b>Kite</b>"}, {ID: "ball", Title: "Ball"}})
	st.UpsertReviews(ctx, "a", []catalog.Review{
		{ID: "1", Item: "kite", Stars: 1, Text: "broke at once"}, {ID: "2", Item: "kite", Stars: 2, Text: "string snapped"},
		{ID: "3", Item: "kite", Stars: 5, Text: "lovely"}, {ID: "4", Item: "ball", Stars: 5, Text: "great"}, {ID: "5", Item: "ball", Stars: 3, Text: "ok"},
	})
	pub, err := publish.Open(filepath.Join(dir, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	page := func(d Deps) string {
		d.Store, d.Snapshots = st, pub
		code, _, body := get(t, New(d), "/dashboard?shop=a", "Bearer "+tokenA)
		if code != 200 {
			t.Fatalf("HTTP %d", code)
		}
		return body
	}
	// Without a model: star ratings.
	body := page(Deps{})
	for _, want := range []string{"Review sentiment", "star ratings", "40.0 % positive, 20.0 % neutral, 40.0 % negative", "Red &lt;b&gt;Kite&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>Kite</b>") {
		t.Error("a product title was not escaped")
	}
	// With the shop's model: its scores decide ("lovely" and "ok" both
	// negative here, to prove the model is used).
	calls := 0
	body = page(Deps{Sentiment: func(_ context.Context, shop string) (func(string) float64, error) {
		calls++
		return func(text string) float64 {
			if strings.Contains(text, "great") {
				return 0.9
			}
			return -0.8
		}, nil
	}})
	if calls != 1 || !strings.Contains(body, "the shop&#39;s own sentiment model") || !strings.Contains(body, "20.0 % positive, 0.0 % neutral, 80.0 % negative") {
		t.Errorf("model not used (%d calls): %s", calls, body[strings.Index(body, "Every review"):][:200])
	}
	if i, j := strings.Index(body, "Red &lt;b&gt;Kite"), strings.Index(body, `<tr class="worst"><td>Ball`); i < 0 || j < 0 || i > j {
		t.Error("the item with the most negative reviews is not listed first")
	}
}
