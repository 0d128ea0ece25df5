package catalog

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (run go test -update after checking the change):\n got %s\nwant %s", path, got, want)
	}
}

func readAllProducts(in string) ([]Product, error) {
	var ps []Product
	err := ReadProducts(strings.NewReader(in), "p.jsonl", func(p Product) error {
		ps = append(ps, p)
		return nil
	})
	return ps, err
}

func TestWriteReadProducts(t *testing.T) {
	p2 := Product{ID: "p2", Title: `Quote " & <b>tag</b> – ünïcode`, Stock: map[string]int{"us": 0, "eu": 2, "default": StockUnknown}}
	products := []Product{validProduct(), p2}
	var buf bytes.Buffer
	if err := WriteProducts(&buf, products); err != nil {
		t.Fatal(err)
	}
	golden(t, "products.golden.jsonl", buf.Bytes())
	got, err := readAllProducts(buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, products) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, products)
	}
	// The same products always give the same bytes.
	var again bytes.Buffer
	if err := WriteProducts(&again, got); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("second write differs (%v):\n%s\n%s", err, again.Bytes(), buf.Bytes())
	}
}

func TestWriteReadReviews(t *testing.T) {
	reviews := []Review{validReview(), {ID: "r2", Item: "p2", Stars: 1}}
	var buf bytes.Buffer
	if err := WriteReviews(&buf, reviews); err != nil {
		t.Fatal(err)
	}
	golden(t, "reviews.golden.jsonl", buf.Bytes())
	var got []Review
	err := ReadReviews(&buf, "r.jsonl", func(r Review) error {
		got = append(got, r)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, reviews) {
		t.Errorf("round trip: %v\n got %+v\nwant %+v", err, got, reviews)
	}
}

func TestWriteRefuses(t *testing.T) {
	bad := validProduct()
	bad.Price = -1
	var buf bytes.Buffer
	err := WriteProducts(&buf, []Product{validProduct(), bad})
	if err == nil || !strings.Contains(err.Error(), `write product 1 (id "p1"): catalog: price: -1 is negative`) {
		t.Errorf("invalid product: %v", err)
	}
	err = WriteProducts(&buf, []Product{validProduct(), validProduct()})
	if err == nil || !strings.Contains(err.Error(), `id "p1" is already used by product 0`) {
		t.Errorf("duplicate id: %v", err)
	}
	err = WriteReviews(&buf, []Review{{ID: "r", Item: "p", Stars: 9}})
	if err == nil || !strings.Contains(err.Error(), "stars: 9 is outside 1..5") {
		t.Errorf("invalid review: %v", err)
	}
	boom := errors.New("disk full")
	err = WriteProducts(failWriter{boom}, []Product{validProduct()})
	if !errors.Is(err, boom) {
		t.Errorf("writer error: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWorstCaseLine checks that any valid product fits in one line: every
// field at its limit, with characters JSON must escape.
func TestWorstCaseLine(t *testing.T) {
	fill := func(n int) string { return strings.Repeat(`"`, n) }
	p := Product{
		ID: fill(MaxIDBytes), Title: fill(MaxTitleBytes), Description: strings.Repeat("\t", MaxDescriptionBytes),
		Brand: fill(MaxNameBytes), Price: math.MaxFloat64, Currency: "GBP", ImageURL: "https://a/" + strings.Repeat("b", MaxImageURLBytes-10),
		Stock: map[string]int{}, Attributes: map[string]string{}, Popularity: math.MaxFloat64,
	}
	for i := range MaxCategoryDepth {
		p.Category = append(p.Category, fill(MaxNameBytes-1)+string(rune('a'+i)))
	}
	for range MaxTags {
		p.Tags = append(p.Tags, fill(MaxTagBytes))
	}
	for i := range MaxStockRegions {
		p.Stock[fmt.Sprintf("%s%03d", fill(MaxRegionBytes-3), i)] = 1 << 62
	}
	for i := range MaxAttributes {
		p.Attributes[fmt.Sprintf("%s%03d", fill(MaxAttributeKeyBytes-3), i)] = strings.Repeat("\n", MaxAttributeValueBytes)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteProducts(&buf, []Product{p}); err != nil {
		t.Fatal(err)
	}
	t.Logf("worst-case line: %d bytes of %d", buf.Len()-1, MaxLineBytes)
	got, err := readAllProducts(buf.String())
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], p) {
		t.Errorf("round trip failed: %v", err)
	}
}

func TestReadProductsErrors(t *testing.T) {
	lines := []string{
		`{"id":"a","title":"ok","price":1,"currency":"GBP"}`,
		`{"id":"b","title":"x","price":"1"}`,
		`{"id":"c","titel":"x"}`,
		`[1]`,
		`{"id":"d","title":"x","stock":{"eu":1.5}}`,
		`{"id":"e","title":"t"} {}`,
		`{"id":"f","title":"t"`,
		`{"id":1}`,
		`{"id":"g","title":"x","price":1e400}`,
		`{"id":"h","title":"x","price":-2,"currency":"pounds"}`,
		`{"id":"a","title":"again"}`,
		"{\"id\":\"i\",\"title\":\"\xff\"}",
		`{"id":"j","title":"x",}`,
		`null`,
		`{"id":"k","title":"ok"}`,
	}
	var ids []string
	err := ReadProducts(strings.NewReader(strings.Join(lines, "\n")), "p.jsonl", func(p Product) error {
		ids = append(ids, p.ID)
		return nil
	})
	want := []string{
		`catalog: p.jsonl:2: price: got a JSON string, want a number`,
		`catalog: p.jsonl:3: titel: is not a known field; known fields: id, title, description, brand, category, price, currency, stock, image_url, tags, attributes, popularity`,
		`catalog: p.jsonl:4: line is not a JSON object (it must start with '{')`,
		`catalog: p.jsonl:5: stock: got a JSON number 1.5, want an integer in range`,
		`catalog: p.jsonl:6: unexpected data after the JSON object`,
		`catalog: p.jsonl:7: invalid JSON: the object is not closed`,
		`catalog: p.jsonl:8: id: got a JSON number, want a string`,
		`catalog: p.jsonl:9: price: got a JSON number 1e400, want a number in range`,
		`catalog: p.jsonl:10: price: -2 is negative`,
		`catalog: p.jsonl:10: currency: "pounds" is not a 3-letter upper-case currency code such as "GBP"`,
		`catalog: p.jsonl:11: id: "a" is already used on line 1`,
		`catalog: p.jsonl:12: line is not valid UTF-8`,
		`catalog: p.jsonl:13: invalid JSON at byte 23: invalid character '}' looking for beginning of object key string`,
		`catalog: p.jsonl:14: line is not a JSON object (it must start with '{')`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	// Valid rows still reach fn, so a caller can tell how much was fine.
	if !reflect.DeepEqual(ids, []string{"a", "k"}) {
		t.Errorf("fn saw %q, want a and k", ids)
	}
	var re *RowErrors
	var row *RowError
	if !errors.As(err, &re) || re.Total != len(want) || !errors.As(err, &row) || row.Line != 2 || row.Field != "price" {
		t.Errorf("error structure: %#v", err)
	}
}

func TestReadReviewsErrors(t *testing.T) {
	in := `{"id":"r1","item":"p","stars":5,"date":"2015-01-02"}
{"id":"r2","item":"","stars":0,"date":"2 Jan 2015"}
{"id":"r1","item":"p","stars":3}
`
	n := 0
	err := ReadReviews(strings.NewReader(in), "r.jsonl", func(Review) error { n++; return nil })
	want := `catalog: r.jsonl:2: item: is empty
catalog: r.jsonl:2: stars: 0 is outside 1..5
catalog: r.jsonl:2: date: "2 Jan 2015" is not a date as YYYY-MM-DD
catalog: r.jsonl:3: id: "r1" is already used on line 1`
	if err == nil || err.Error() != want || n != 1 {
		t.Errorf("got %d reviews and\n%v\nwant 1 and\n%s", n, err, want)
	}
}

func TestReadCap(t *testing.T) {
	in := strings.Repeat("x\n", MaxRowErrors+50)
	_, err := readAllProducts(in)
	var re *RowErrors
	if !errors.As(err, &re) || len(re.Rows) != MaxRowErrors || re.Total != MaxRowErrors+50 {
		t.Fatalf("got %v", err)
	}
	if !strings.HasSuffix(err.Error(), "\ncatalog: p.jsonl: 50 more problems not listed") {
		t.Errorf("message ends %q", err.Error()[len(err.Error())-80:])
	}
}

func TestReadLines(t *testing.T) {
	pad := func(n int) string {
		s := `{"id":"p","title":"t"`
		return s + strings.Repeat(" ", n-len(s)-1) + "}"
	}
	tests := []struct {
		name string
		in   string
		ids  string
		err  string
	}{
		{"empty", "", "", ""},
		{"blank lines", "\n\n  \n{\"id\":\"a\",\"title\":\"t\"}\n\n", "a", ""},
		{"no final newline", "{\"id\":\"a\",\"title\":\"t\"}\n{\"id\":\"b\",\"title\":\"t\"}", "a,b", ""},
		{"crlf and bom", "\uFEFF{\"id\":\"a\",\"title\":\"t\"}\r\n{\"id\":\"b\",\"title\":\"t\"}\r\n", "a,b", ""},
		{"bom later is an error", "{\"id\":\"a\",\"title\":\"t\"}\n\uFEFF{\"id\":\"b\",\"title\":\"t\"}\n", "a", "p.jsonl:2: line is not a JSON object"},
		{"longest line", pad(MaxLineBytes) + "\n", "p", ""},
		{"longest line crlf", pad(MaxLineBytes) + "\r\n", "p", ""},
		{"too long", pad(MaxLineBytes+1) + "\n{\"id\":\"b\",\"title\":\"t\"}\n", "b", "p.jsonl:1: line is longer than 1048576 bytes"},
		{"too long at end", "{\"id\":\"b\",\"title\":\"t\"}\n" + strings.Repeat("x", 3*MaxLineBytes), "b", "p.jsonl:2: line is longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time for the short inputs, to exercise the
			// line reader's buffering.
			var r = strings.NewReader(tt.in)
			var ps []Product
			var err error
			if len(tt.in) < 1000 {
				err = ReadProducts(iotest.OneByteReader(r), "p.jsonl", func(p Product) error { ps = append(ps, p); return nil })
			} else {
				err = ReadProducts(r, "p.jsonl", func(p Product) error { ps = append(ps, p); return nil })
			}
			var ids []string
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
			if strings.Join(ids, ",") != tt.ids {
				t.Errorf("ids %q, want %q", ids, tt.ids)
			}
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestReadStops(t *testing.T) {
	stop := errors.New("stop")
	in := "{\"id\":\"a\",\"title\":\"t\"}\n{\"id\":\"b\",\"title\":\"t\"}\n"
	n := 0
	err := ReadProducts(strings.NewReader(in), "p.jsonl", func(Product) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "p.jsonl:1: stop") {
		t.Errorf("fn error: %v after %d calls", err, n)
	}
	boom := errors.New("boom")
	err = ReadProducts(iotest.ErrReader(boom), "p.jsonl", func(Product) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("reader error: %v", err)
	}
}

func TestReadQA(t *testing.T) {
	in := `{"id":"q1","item":"kite","question":"Does it fly?","answer":"Yes.","date":"2015-01-02"}
{"id":"q2","item":"kite","question":"  ","answer":"x"}
{"id":"q3","item":"kite","question":"Line?","answer":"30 m","author":"x"}
{"id":"q1","item":"p","question":"a","answer":"b"}
`
	var got []QA
	err := ReadQA(strings.NewReader(in), "qa.jsonl", func(q QA) error { got = append(got, q); return nil })
	want := `catalog: qa.jsonl:2: question: is empty
catalog: qa.jsonl:3: author: is not a known field; known fields: id, item, question, answer, date
catalog: qa.jsonl:4: id: "q1" is already used on line 1`
	if err == nil || err.Error() != want || len(got) != 1 || got[0].Answer != "Yes." {
		t.Errorf("got %+v and\n%v\nwant 1 pair and\n%s", got, err, want)
	}
}
