package chat

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
)

// TestTenantProperty fills three shops with random products, reviews and
// FAQ passages drawn from one shared vocabulary (so every shop's words
// match the others' data), asks each shop random questions, and checks
// that no card, source or quoted passage ever comes from another shop.
func TestTenantProperty(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(42, 7))
	vocab := strings.Fields("kite train puzzle robot doll sand castle dragon pirate knight dice marker crayon paint " +
		"wooden plastic red blue green small large battery magnetic musical glow soft fast return refund delivery " +
		"parcel order payment card gift wrap warranty safety age years")
	words := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	shops := []string{"alpha", "beta", "gamma"}
	owner := map[string]string{} // product, review and FAQ id → shop
	marks := map[string]string{} // a token only that shop's texts contain → shop
	for _, shop := range shops {
		if err := st.CreateShop(ctx, shop, ""); err != nil {
			t.Fatal(err)
		}
		mark := "zq" + shop
		marks[mark] = shop
		var ps []catalog.Product
		var rs []catalog.Review
		var faq []store.FAQ
		for i := range 25 {
			id := fmt.Sprintf("%s-p%d", shop, i)
			owner[id] = shop
			ps = append(ps, catalog.Product{ID: id, Title: words(3), Description: words(12) + " " + mark, Price: float64(1 + rng.IntN(50)), Currency: "GBP"})
			for j := range 2 {
				rid := fmt.Sprintf("%s-r%d-%d", shop, i, j)
				owner[rid] = shop
				rs = append(rs, catalog.Review{ID: rid, Item: id, Stars: float64(1 + rng.IntN(5)), Text: words(8) + " " + mark + ". " + words(6) + "."})
			}
		}
		for i := range 4 {
			fid := fmt.Sprintf("%s-faq%d", shop, i)
			owner[fid] = shop
			faq = append(faq, store.FAQ{ID: fid, Title: words(2), Body: "## " + words(4) + "\n" + words(15) + " " + mark + "\n"})
		}
		if _, err := st.UpsertProducts(ctx, shop, ps); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertReviews(ctx, shop, rs); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertFAQ(ctx, shop, faq); err != nil {
			t.Fatal(err)
		}
	}
	a := newAssistant(t, st, nil)
	templates := []string{"do you have a %s?", "what do customers say about the %s?", "is the %s suitable for %s?",
		"%s or %s, which is better?", "how do I %s my %s?", "%s", "where is my %s %s?"}
	probes, leaks, grounded := 0, 0, 0
	for i := range 150 {
		shop := shops[i%len(shops)]
		tmpl := templates[rng.IntN(len(templates))]
		msg := fmt.Sprintf(tmpl, words(2), words(2))
		if strings.Count(tmpl, "%s") == 1 {
			msg = fmt.Sprintf(tmpl, words(2))
		}
		// The page and session may name another shop's items: they must be
		// ignored, not looked up elsewhere.
		other := shops[(i+1)%len(shops)]
		r, err := a.Answer(ctx, Request{Shop: shop, Message: msg, Item: other + "-p1", Items: []string{other + "-p2", shop + "-p3"}})
		if err != nil {
			t.Fatal(err)
		}
		probes++
		if len(r.Sources) > 0 {
			grounded++
		}
		check := func(what, id string) {
			if o := owner[id]; o != shop {
				leaks++
				t.Errorf("shop %s, %q: %s %q belongs to %q", shop, msg, what, id, o)
			}
		}
		for _, c := range r.Items {
			check("card", c.ID)
		}
		for _, s := range r.Sources {
			check(s.Kind+" source", s.ID)
		}
		for m, o := range marks {
			if o != shop && strings.Contains(r.Answer, m) {
				leaks++
				t.Errorf("shop %s, %q: the answer quotes %s's text: %q", shop, msg, o, r.Answer)
			}
		}
	}
	t.Logf("tenant probes %d (%d answered with sources), leaks %d", probes, grounded, leaks)
	if grounded < probes/2 {
		t.Fatalf("only %d of %d probes retrieved anything: the property was barely exercised", grounded, probes)
	}
}
