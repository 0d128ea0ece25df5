package catalog

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func convertFile(t *testing.T, path string) ([]Product, []Review, ToysStats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ConvertAmazonUKToysStats(f)
}

// TestConvertAmazonUKToysRules checks each mapping rule on hand-made rows
// (testdata/amazon_uk_toys_rules.csv, one row per group of rules).
func TestConvertAmazonUKToysRules(t *testing.T) {
	products, reviews, st, err := convertFile(t, "testdata/amazon_uk_toys_rules.csv")
	if err != nil {
		t.Fatal(err)
	}
	wantProducts := []Product{
		{
			ID: "a1", Title: "Wooden Train Set", Brand: "Brio", Description: "A lovely train.",
			Category: []string{"Hobbies", "Model Trains & Railway Sets", "Rail Vehicles", "Trains"},
			Price:    4.99, Currency: "GBP", Stock: map[string]int{"default": 5}, Popularity: 1234,
			Attributes: map[string]string{
				"item_weight": "998 g", "product_dimensions": "29.5 x 21 x 0.5 cm",
				"recommended_age": "3 years and up", "model_number": "36200",
				"batteries_required": "no", "batteries_included": "yes", "asin": "B002N55P6E",
				"shipping_weight": "1.1 Kg", "date_first_available": "2009-08-28", "average_rating": "4.5",
			},
		},
		{
			ID: "b2", Title: "Puzzle", Brand: "Ravensburger", Description: "Six hundred pieces.",
			Category: []string{"Jigsaws & Puzzles", "Jigsaws"},
			Price:    3.99, Currency: "GBP", Stock: map[string]int{"default": StockUnknown}, Popularity: 2,
			Attributes: map[string]string{
				"recommended_age": "18 months - 3 years", "puzzle_pieces": "600",
				"game_players": "2 - 4", "average_rating": "5.0",
			},
		},
		{
			ID: "c3", Title: "Mystery Box", Category: []string{"others"},
			Currency: "GBP", Stock: map[string]int{"default": 0},
		},
		{
			ID: "d4", Title: "Dice", Brand: "Koplow", Description: "Ten dice.",
			Category: []string{"Games", "Dice & Dice Games"},
			Price:    1.5, Currency: "GBP", Stock: map[string]int{"default": 12}, Popularity: 9,
			Attributes: map[string]string{"item_weight": "9 g", "average_rating": "4.0"},
		},
		{
			ID: "e5", Title: "Ride-on Car", Brand: "Peg Perego", Description: "Line one\nLine two\nend",
			Category: []string{"Sports Toys & Outdoor", "Ride-ons"},
			Price:    1299, Currency: "GBP", Stock: map[string]int{"default": 1200},
			Attributes: map[string]string{"recommended_age": "3 - 8 years"},
		},
	}
	if len(products) != len(wantProducts) {
		t.Fatalf("%d products, want %d", len(products), len(wantProducts))
	}
	for i := range wantProducts {
		if !reflect.DeepEqual(products[i], wantProducts[i]) {
			t.Errorf("product %d:\n got %#v\nwant %#v", i, products[i], wantProducts[i])
		}
	}
	wantInStock := []bool{true, true, false, true, true}
	for i, p := range products {
		if p.InStock() != wantInStock[i] {
			t.Errorf("product %s: InStock() = %v, want %v", p.ID, p.InStock(), wantInStock[i])
		}
	}

	wantReviews := []Review{
		{ID: "a1-r1", Item: "a1", Stars: 5, Title: "Five Stars", Date: "2014-12-27", Author: "catherine baines", Text: "just what my husband required"},
		{ID: "a1-r2", Item: "a1", Stars: 4, Title: "Good", Date: "2016-01-05", Author: "R. Nipper", Text: "works // well, really"},
		{ID: "b2-r1", Item: "b2", Stars: 5, Title: "great for imagination", Date: "2010-04-21", Text: "My boy loves it."},
		{ID: "b2-r2", Item: "b2", Stars: 4, Title: "GOOD FUN", Date: "2010-03-04", Author: "A Kid's Review", Text: "Great buy."},
		{ID: "d4-r1", Item: "d4", Stars: 5, Title: "Nice", Date: "2015-09-01", Author: "shel", Text: "ok"},
		{ID: "d4-r2", Item: "d4", Stars: 4, Title: "No text", Date: "2014-08-10", Author: "angie clarke"},
		{ID: "d4-r3", Item: "d4", Stars: 5, Title: "Author cut", Date: "2016-01-09"},
	}
	if !reflect.DeepEqual(reviews, wantReviews) {
		t.Errorf("reviews:\n got %#v\nwant %#v", reviews, wantReviews)
	}
	wantStats := ToysStats{
		Rows: 5, Products: 5, NoPrice: 1, PriceRanges: 1, UnknownStock: 1, OutOfStock: 1,
		ReviewChunks: 12, Reviews: 7, SkippedReviewChunks: 5,
		ReviewsWithoutText: 2, ReviewsWithoutAuthor: 2,
	}
	if st != wantStats {
		t.Errorf("stats:\n got %+v\nwant %+v", st, wantStats)
	}
}

// TestConvertAmazonUKToysBad checks that every bad row is reported, with
// its line and field, and nothing is returned. Lines 2 and 58 are valid;
// multi-line fields make the line numbers jump.
func TestConvertAmazonUKToysBad(t *testing.T) {
	products, reviews, _, err := convertFile(t, "testdata/amazon_uk_toys_bad.csv")
	var re *RowErrors
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RowErrors", err)
	}
	if products != nil || reviews != nil {
		t.Errorf("got %d products and %d reviews with an error, want none", len(products), len(reviews))
	}
	want := []string{
		`catalog: amazon_uk_toys.csv:21: price: "abc" is not a price such as "£4.99" or "£3.99 - £5.99"`,
		`catalog: amazon_uk_toys.csv:31: number_available_in_stock: "lots" is not a stock count such as "5" or "5 new"`,
		`catalog: amazon_uk_toys.csv:34: number_of_reviews: "many" is not a whole number`,
		`catalog: amazon_uk_toys.csv:36: product_id: is empty`,
		`catalog: amazon_uk_toys.csv:55: product_id: "ok" is already used on line 2`,
		`catalog: amazon_uk_toys.csv:61: price: "£5.99 - £3.99" is not a price such as "£4.99" or "£3.99 - £5.99"`,
		`catalog: amazon_uk_toys.csv:64: has 2 fields, want 15 like the header`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	if re.Total != len(want) {
		t.Errorf("Total = %d, want %d", re.Total, len(want))
	}
}

func TestConvertAmazonUKToysHeader(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"missing", "product_id,product_name\n", "missing column(s) manufacturer, price"},
		{"duplicate", "product_id,product_id\n", `column "product_id" appears twice`},
		{"quote", strings.Join(toysRequired, ",") + "\n\"a\"b,,,,,,,,,,\n", "parse error on line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ConvertAmazonUKToys(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// A byte-order mark before the header and missing subcategory columns
	// are fine.
	in := "\uFEFF" + strings.Join(toysRequired, ",") + "\np,Ball,Acme,2,,,,,,,Sports\n"
	products, _, err := ConvertAmazonUKToys(strings.NewReader(in))
	if err != nil || len(products) != 1 || !reflect.DeepEqual(products[0].Category, []string{"Sports"}) {
		t.Errorf("with BOM: %v, %+v", err, products)
	}
}

// TestConvertAmazonUKToysCutField checks the count of reviews whose text
// ends a customer_reviews field cut at 600 characters.
func TestConvertAmazonUKToysCutField(t *testing.T) {
	first := "A // 5.0 // 1 Jan. 2015 // By x on 1 Jan. 2015 // fine | "
	last := "B // 4.0 // 2 Jan. 2015 // By y on 2 Jan. 2015 // "
	field := first + last + strings.Repeat("z", ToysReviewFieldRunes-len(first)-len(last))
	var st ToysStats
	reviews := appendToysReviews(nil, "p", field, &st)
	if len(reviews) != 2 || st.ReviewsCutText != 1 {
		t.Errorf("%d reviews, ReviewsCutText %d; want 2 and 1", len(reviews), st.ReviewsCutText)
	}
}

func TestParseToysPrice(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		isRange bool
		ok      bool
	}{
		{"", 0, false, true},
		{"4.99", 4.99, false, true},
		{"£4.99", 4.99, false, true},
		{" £12 ", 12, false, true},
		{"£1,299.00", 1299, false, true},
		{"£3.99 - £5.99", 3.99, true, true},
		{"3.99 - 3.99", 3.99, true, true},
		{"£5.99 - £3.99", 0, false, false},
		{"£3.99 - ", 0, false, false},
		{"abc", 0, false, false},
		{"-4.99", 0, false, false},
		{"4.9.9", 0, false, false},
		{"NaN", 0, false, false},
		{"Inf", 0, false, false},
		{"1e3", 0, false, false},
		{"£", 0, false, false},
		{"$4.99", 0, false, false},
	}
	for _, tt := range tests {
		got, isRange, err := parseToysPrice(tt.in)
		if (err == nil) != tt.ok || got != tt.want || isRange != tt.isRange {
			t.Errorf("parseToysPrice(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, got, isRange, err, tt.want, tt.isRange, tt.ok)
		}
	}
}

func TestParseToysStock(t *testing.T) {
	tests := []struct {
		in    string
		want  int
		known bool
		ok    bool
	}{
		{"", StockUnknown, false, true},
		{"  ", StockUnknown, false, true},
		{"5", 5, true, true},
		{"5 new", 5, true, true},
		{"1 used", 1, true, true},
		{"1,200 new", 1200, true, true},
		{"0", 0, true, true},
		{"-3", 0, false, false},
		{"lots", 0, false, false},
		{"5 new 2 used", 0, false, false},
		{"5 n3w", 0, false, false},
	}
	for _, tt := range tests {
		got, known, err := parseToysStock(tt.in)
		if (err == nil) != tt.ok || got != tt.want || known != tt.known {
			t.Errorf("parseToysStock(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, got, known, err, tt.want, tt.known, tt.ok)
		}
	}
}

func TestParseToysDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"27 Dec. 2014", "2014-12-27"},
		{"5 Jan. 2016", "2016-01-05"},
		{"29 July 2015", "2015-07-29"},
		{"8 April 2015", "2015-04-08"},
		{"1 Sept. 2015", "2015-09-01"},
		{"18 Jun. 2009", "2009-06-18"},
		{"9 May 2016", "2016-05-09"},
		{" 3  mar.  2012 ", "2012-03-03"},
		{"29 Feb. 2016", "2016-02-29"},
		{"29 Feb. 2015", ""},
		{"31 Feb. 2015", ""},
		{"0 Jan. 2015", ""},
		{"4 Dec. 201", ""},
		{"5 Feb. 2015 /", ""},
		{"5 Foo. 2015", ""},
		{"2015-02-05", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := parseToysDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("parseToysDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseToysAuthor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"By\n    \n    catherine baines\n  \n on 27 Dec. 2014", "catherine baines"},
		{"By\n    \n    Mr. on Line\n  \n on 27 Dec. 2014", "Mr. on Line"},
		{"A Kid's Review\n  \n on 4 Mar. 2010", "A Kid's Review"},
		{"19 of 19 people found the following review helpful", ""},
		{"By\n    \n    shel", ""},
		{"By\n    \n    x\n  \n on 23 ", ""},
		{"By on 3 Jan. 2016", ""},
		{"B", ""},
	}
	for _, tt := range tests {
		if got := parseToysAuthor(tt.in); got != tt.want {
			t.Errorf("parseToysAuthor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb", "a\nb"},
		{"a\rb", "a\nb"},
		{"a\x00b\x1fc\x7fd\te", "abcd\te"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
