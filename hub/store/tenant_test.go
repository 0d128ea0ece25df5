package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/shared/wire"
)

// TestTenantProperty writes random, overlapping data for several shops —
// the same ids, sessions and FAQ names in each — and checks that every read
// of every shop returns exactly what was written for that shop, never a row
// of another (each record carries its shop's name in a text field).
func TestTenantProperty(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	shops := []string{"alpha", "beta", "gamma"}
	r := rand.New(rand.NewPCG(42, 7))
	for round := range 5 {
		for _, shop := range shops {
			if round == 0 {
				if err := st.CreateShop(ctx, shop, ""); err != nil {
					t.Fatal(err)
				}
			}
			var ps []catalog.Product
			var rs []catalog.Review
			var fs []FAQ
			var es []Event
			for range r.IntN(20) {
				id := fmt.Sprintf("p%d", r.IntN(30)) // shared id space across shops
				ps = append(ps, catalog.Product{ID: id, Title: shop + " " + id, Price: 1, Currency: "GBP"})
			}
			for range r.IntN(20) {
				id := fmt.Sprintf("r%d", r.IntN(30))
				rs = append(rs, catalog.Review{ID: id, Item: fmt.Sprintf("p%d", r.IntN(30)), Stars: 4, Text: shop + " says", Date: "2024-01-02"})
			}
			for range r.IntN(4) {
				id := fmt.Sprintf("faq%d", r.IntN(5))
				fs = append(fs, FAQ{ID: id, Title: shop + " " + id, Body: "# " + shop})
			}
			for range r.IntN(30) {
				es = append(es, Event{Session: fmt.Sprintf("s%d", r.IntN(10)), Seq: int64(1 + r.IntN(20)), Type: wire.View, Item: shop + "-item"})
			}
			ps, rs, fs, es = dedupe(ps, func(p catalog.Product) string { return p.ID }), dedupe(rs, func(x catalog.Review) string { return x.ID }),
				dedupe(fs, func(x FAQ) string { return x.ID }), dedupe(es, func(e Event) string { return fmt.Sprint(e.Session, e.Seq) })
			if _, err := st.UpsertProducts(ctx, shop, ps); err != nil {
				t.Fatal(err)
			}
			if _, err := st.UpsertReviews(ctx, shop, rs); err != nil {
				t.Fatal(err)
			}
			if _, err := st.UpsertFAQ(ctx, shop, fs); err != nil {
				t.Fatal(err)
			}
			if _, err := st.AppendEvents(ctx, shop, es); err != nil {
				t.Fatal(err)
			}
		}
	}
	probes := 0
	for _, shop := range shops {
		ps, err := st.Products(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			probes++
			if !strings.HasPrefix(p.Title, shop+" ") {
				t.Errorf("shop %s reads product %s of another shop: %q", shop, p.ID, p.Title)
			}
		}
		rs, err := st.Reviews(ctx, shop, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rs {
			probes++
			if x.Text != shop+" says" {
				t.Errorf("shop %s reads review %s of another shop", shop, x.ID)
			}
		}
		fs, err := st.FAQ(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			probes++
			if !strings.HasPrefix(f.Title, shop+" ") {
				t.Errorf("shop %s reads FAQ %s of another shop", shop, f.ID)
			}
		}
		err = st.Sessions(ctx, shop, func(_ string, es []Event) error {
			for _, e := range es {
				probes++
				if e.Item != shop+"-item" {
					t.Errorf("shop %s reads an event of another shop: %+v", shop, e)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := st.Counts(ctx, shop)
		if c.Products != len(ps) || c.Reviews != len(rs) || c.FAQ != len(fs) {
			t.Errorf("shop %s counts %+v disagree with its reads", shop, c)
		}
	}
	if probes < 100 {
		t.Fatalf("only %d records probed", probes)
	}
	t.Logf("tenant probes: %d records read across %d shops, leaks 0", probes, len(shops))
}

func dedupe[T any](xs []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}
