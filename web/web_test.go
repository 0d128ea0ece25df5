package web_test

import (
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/web"
)

func TestDemoShop(t *testing.T) {
	products := map[string]bool{}
	if err := catalog.ReadProducts(web.DemoCatalog(), "catalog.jsonl", func(p catalog.Product) error {
		products[p.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reviews := 0
	if err := catalog.ReadReviews(web.DemoReviews(), "reviews.jsonl", func(r catalog.Review) error {
		if !products[r.Item] {
			t.Errorf("review %s is for unknown item %q", r.ID, r.Item)
		}
		reviews++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(products) != 863 || reviews != 1411 {
		t.Errorf("%d products and %d reviews, want 863 and 1411", len(products), reviews)
	}
}

func TestDemoShopFS(t *testing.T) {
	fsys := web.DemoShop()
	att, err := fs.ReadFile(fsys, "ATTRIBUTION.md")
	if err != nil || !strings.Contains(string(att), "CC BY-SA 4.0") {
		t.Errorf("ATTRIBUTION.md: %v", err)
	}
	total := 0
	for _, name := range []string{"catalog.jsonl", "reviews.jsonl"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
	}
	if total > 3<<20 {
		t.Errorf("demo shop is %d bytes, over the 3 MiB budget", total)
	}
	// Each call returns a fresh reader from the start.
	a, _ := io.ReadAll(web.DemoCatalog())
	b, _ := io.ReadAll(web.DemoCatalog())
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("DemoCatalog readers differ: %d and %d bytes", len(a), len(b))
	}
}
