package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// toysCSV finds the real Amazon UK toys CSV: under $AISLE_DATA, or the
// shared data folder beside the repository; the test is skipped when it is
// not there.
func toysCSV(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AISLE_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(dir, ToysDataPath)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data %s not present (set AISLE_DATA to the shared data folder to run this test): %v", p, err)
	}
	return p
}

// TestAmazonUKToysReal converts the real file and pins the counts, so a
// change in the rules shows up here.
func TestAmazonUKToysReal(t *testing.T) {
	products, reviews, st, err := convertFile(t, toysCSV(t))
	if err != nil {
		t.Fatal(err)
	}
	want := ToysStats{
		Rows: 863, Products: 863, NoPrice: 145, UnknownStock: 211,
		ReviewChunks: 1470, Reviews: 1411, SkippedReviewChunks: 59,
		ReviewsWithoutText: 56, ReviewsCutText: 303, ReviewsWithoutAuthor: 57,
	}
	if st != want {
		t.Errorf("stats:\n got %+v\nwant %+v", st, want)
	}
	if len(products) != 863 || len(reviews) != 1411 {
		t.Fatalf("%d products and %d reviews, want 863 and 1411", len(products), len(reviews))
	}
	ids := make(map[string]bool, len(products))
	categories := make(map[string]int)
	for _, p := range products {
		ids[p.ID] = true
		categories[p.Category[0]]++
		if len(p.Category) < 1 || p.Currency != "GBP" || p.Stock == nil {
			t.Errorf("product %s: %+v", p.ID, p)
		}
	}
	for _, r := range reviews {
		if !ids[r.Item] {
			t.Errorf("review %s: item %q is not a product", r.ID, r.Item)
		}
	}
	if categories["Characters & Brands"] != 152 || categories["Hobbies"] != 60 {
		t.Errorf("top-level categories %v", categories)
	}
}

// TestDemoShopUpToDate checks that the bundled demo shop in web/demo/shop
// is what the converter makes of the real file now. Regenerate with
// `cd web && go generate`.
func TestDemoShopUpToDate(t *testing.T) {
	products, reviews, err := func() ([]Product, []Review, error) {
		f, err := os.Open(toysCSV(t))
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		return ConvertAmazonUKToys(f)
	}()
	if err != nil {
		t.Fatal(err)
	}
	var wantCatalog, wantReviews bytes.Buffer
	if err := WriteProducts(&wantCatalog, products); err != nil {
		t.Fatal(err)
	}
	if err := WriteReviews(&wantReviews, reviews); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"catalog.jsonl": wantCatalog.Bytes(), "reviews.jsonl": wantReviews.Bytes()} {
		path := filepath.Join("..", "..", "web", "demo", "shop", name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: regenerate it with `cd web && go generate`", path)
		}
	}
	if total := wantCatalog.Len() + wantReviews.Len(); total > 3<<20 {
		t.Errorf("demo shop is %d bytes, over the 3 MiB budget", total)
	}
}
