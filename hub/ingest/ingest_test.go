package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
	"github.com/aisle-rec/aisle/web"
)

const (
	tokenA = "admin-token-of-shop-a-0123456789"
	tokenB = "admin-token-of-shop-b-0123456789"
)

// testStore opens a store in a temp dir with shops "a" and "b".
func testStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateShop(ctx, "a", tokenA); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateShop(ctx, "b", tokenB); err != nil {
		t.Fatal(err)
	}
	return st
}

// writeFile writes content to name in dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot is a shop's counts and a checksum of all its rows.
type snapshot struct {
	counts store.Counts
	sum    string
}

func snap(t *testing.T, st *store.Store, shop string) snapshot {
	t.Helper()
	ctx := context.Background()
	c, err := st.Counts(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	ps, _ := st.Products(ctx, shop)
	rs, _ := st.Reviews(ctx, shop, "")
	docs, _ := st.FAQ(ctx, shop)
	enc.Encode(ps)
	enc.Encode(rs)
	enc.Encode(docs)
	if err := st.Sessions(ctx, shop, func(s string, es []store.Event) error { return enc.Encode(es) }); err != nil {
		t.Fatal(err)
	}
	return snapshot{c, hex.EncodeToString(h.Sum(nil))}
}

// rowList renders row errors as "name:line: field" lines for comparison.
func rowList(err error) []string {
	var re *catalog.RowErrors
	if !errors.As(err, &re) {
		return nil
	}
	var out []string
	for _, r := range re.Rows {
		out = append(out, fmt.Sprintf("%s:%d: %s", filepath.Base(r.Name), r.Line, r.Field))
	}
	return out
}

func TestDemoShop(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	for round, want := range []int{863, 0} {
		b, err := Parse(Catalog, []Source{ReaderSource("catalog.jsonl", web.DemoCatalog())}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := Write(ctx, st, "a", b, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("demo catalog round %d: %+v in %s", round, res, time.Since(start))
		if res.Read != 863 || res.Changed != want || res.Unchanged != 863-want {
			t.Errorf("catalog round %d: %+v", round, res)
		}
		b, err = Parse(Reviews, []Source{ReaderSource("reviews.jsonl", web.DemoReviews())}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err = Write(ctx, st, "a", b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int{0: 1411, 1: 0}[round]; res.Read != 1411 || res.Changed != want {
			t.Errorf("reviews round %d: %+v", round, res)
		}
	}
	c, _ := st.Counts(ctx, "a")
	if c.Products != 863 || c.Reviews != 1411 {
		t.Errorf("counts %+v, want 863 products and 1411 reviews", c)
	}
	if c, _ := st.Counts(ctx, "b"); c != (store.Counts{}) {
		t.Errorf("shop b got rows: %+v", c)
	}
}

func TestReingestChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := writeFile(t, dir, "catalog.jsonl", `{"id":"p1","title":"Train","price":9.5,"currency":"GBP","stock":{"eu":2}}
{"id":"p2","title":"Track","category":["Hobbies","Rail"]}
`)
	csvFile := writeFile(t, dir, "more.csv", "id,title,price\nc1,Crane,£4.00\nc2,Truck,\n")
	rev := writeFile(t, dir, "reviews.jsonl", `{"id":"r1","item":"p1","stars":5,"text":"lovely"}`+"\n")
	faqDir := filepath.Join(dir, "faq")
	writeFile(t, faqDir, "returns.md", "# Returns\n\n30 days.\n")
	writeFile(t, faqDir, "policies/privacy.md", "Privacy\n=======\n\nWe keep little.\n")
	ev := writeFile(t, dir, "events.jsonl", `{"session":"s1","type":"view","item":"p1","time":1000}
{"session":"s1","type":"search","query":"train","time":500}
{"session":"s2","type":"purchase","item":"p2","time":"2024-05-01T10:00:00Z"}
`)
	tsv := writeFile(t, dir, "sessions.tsv", "SessionId\tItemId\tTime\n1\tp1\t10.5\n1\tp2\t11\n")
	cases := []struct {
		kind  Kind
		paths []string
		want  int
	}{
		{Catalog, []string{cat, csvFile}, 4},
		{Reviews, []string{rev}, 1},
		{FAQ, []string{faqDir}, 2},
		{Events, []string{ev, tsv}, 5},
	}
	st := testStore(t)
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			first, err := Files(ctx, st, "a", tc.kind, tc.paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if first != (Result{Read: tc.want, Changed: tc.want}) {
				t.Errorf("first: %+v", first)
			}
			before := snap(t, st, "a")
			second, err := Files(ctx, st, "a", tc.kind, tc.paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if second != (Result{Read: tc.want, Unchanged: tc.want}) {
				t.Errorf("second: %+v, want 0 changed", second)
			}
			if after := snap(t, st, "a"); after != before {
				t.Errorf("re-ingest changed the store: %+v → %+v", before.counts, after.counts)
			}
		})
	}
	docs, _ := st.FAQ(ctx, "a")
	if len(docs) != 2 || docs[0].ID != "policies/privacy" || docs[0].Title != "Privacy" || docs[1].ID != "returns" || docs[1].Title != "Returns" {
		t.Errorf("faq %+v", docs)
	}
}

func TestBadRowsWriteNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := testStore(t)
	// Something in every table first, so "unchanged" means something.
	seed := writeFile(t, dir, "seed.jsonl", `{"id":"p1","title":"Train"}`+"\n")
	if _, err := Files(ctx, st, "a", Catalog, []string{seed}, Options{}); err != nil {
		t.Fatal(err)
	}
	seedEv := writeFile(t, dir, "seed-events.jsonl", `{"session":"s","type":"view","item":"p1"}`+"\n")
	if _, err := Files(ctx, st, "a", Events, []string{seedEv}, Options{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		kind   Kind
		files  map[string]string
		opts   Options
		wantAt []string
	}{
		{"catalog jsonl", Catalog, map[string]string{"c.jsonl": `{"id":"p1","title":"Changed"}
{"id":"p2","title":"","price":-1}
not json
{"id":"p3","title":"ok","colour":"red"}

{"id":"p1","title":"again"}
{"id":"p4","title":"ok","price":"cheap"}
`}, Options{}, []string{"c.jsonl:2: title", "c.jsonl:2: price", "c.jsonl:3: ", "c.jsonl:4: colour", "c.jsonl:6: id", "c.jsonl:7: price"}},
		{"catalog csv", Catalog, map[string]string{"c.csv": "sku,name,cost,stock_eu\nx1,Good,1.00,3\nx2,,abc,-5\nx3,Fine,\"1,5\",x\nx1,Dup,2,1\nshort,row\n"},
			Options{CSV: CSVOptions{Map: map[string][]string{"id": {"sku"}, "title": {"name"}, "price": {"cost"}}, Currency: "GBP"}},
			[]string{`c.csv:3: price (column "cost")`, `c.csv:3: title (column "name")`, `c.csv:3: stock["eu"] (column "stock_eu")`, `c.csv:4: price (column "cost")`, `c.csv:4: stock["eu"] (column "stock_eu")`, "c.csv:5: id", "c.csv:6: "}},
		{"catalog csv header", Catalog, map[string]string{"c.csv": "sku,name\nx,y\n"},
			Options{CSV: CSVOptions{Map: map[string][]string{"id": {"sku"}, "title": {"product_name"}}}},
			[]string{"c.csv:1: "}},
		{"reviews", Reviews, map[string]string{"r.jsonl": `{"id":"r1","item":"p1","stars":6}
{"id":"r2","item":"","stars":3,"date":"yesterday"}
`}, Options{}, []string{"r.jsonl:1: stars", "r.jsonl:2: item", "r.jsonl:2: date"}},
		{"events jsonl", Events, map[string]string{"e.jsonl": `{"session":"s9","type":"view","item":"p1","time":1}
{"session":"s9","type":"look","item":"p1"}
{"session":"","type":"search"}
{"session":"s8","type":"view","item":"p1","time":-5}
{"session":"s8","type":"view","item":"p1","time":"tuesday"}
{"session":"s7","type":"view","item":"p1","seq":1}
{"session":"s7","type":"view","item":"p2"}
{"session":"s6","type":"view","item":"p1","seq":2}
{"session":"s6","type":"view","item":"p2","seq":2}
{"session":"s5","type":"view","item":"p1","user":"u"}
`}, Options{}, []string{"e.jsonl:2: type", "e.jsonl:3: session", "e.jsonl:3: query", "e.jsonl:4: time", "e.jsonl:5: time", "e.jsonl:7: seq", "e.jsonl:9: seq", "e.jsonl:10: user"}},
		{"events tsv", Events, map[string]string{"e.tsv": "SessionId\tItemId\tTime\n1\t\t3\n2\tp\tnoon\n3\n"},
			Options{}, []string{"e.tsv:2: item", "e.tsv:3: Time", "e.tsv:4: "}},
		{"events diginetica", Events, map[string]string{"e.csv": "session_id;user_id;item_id;timeframe;eventdate\n1;;5;100;2016-05-09\n1;;6;x;2016-05-09\n2;;7;5;09/05/2016\n3;;8\n"},
			Options{}, []string{"e.csv:3: timeframe", "e.csv:4: eventdate", "e.csv:5: "}},
		{"events sequences", Events, map[string]string{"e.txt": "u1 a b c\nu2\nu1 d\n"},
			Options{}, []string{"e.txt:2: ", "e.txt:3: user"}},
		{"faq markdown", FAQ, map[string]string{"ok.md": "# OK\nfine", "empty.md": "   \n", "bad.md": "# Bad\x01\n"},
			Options{}, []string{"bad.md:1: title", "bad.md:1: body", "empty.md:1: body"}},
		{"faq json", FAQ, map[string]string{"f.jsonl": `{"id":"a","title":"A","body":"x"}
{"id":"b","title":"","body":"y"}
{"id":"a","title":"A2","body":"z"}
{"id":"c","body":"w","extra":1}
`}, Options{}, []string{"f.jsonl:2: title", "f.jsonl:3: id", "f.jsonl:4: extra"}},
		{"two files", Catalog, map[string]string{"1.jsonl": `{"id":"x","title":"X"}` + "\n\n" + `{"id":"y","title":"Y"}`, "2.jsonl": `{"id":"z","title":"Z"}` + "\n" + `{"id":"y","title":"Y2"}`},
			Options{}, []string{"2.jsonl:2: id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snap(t, st, "a")
			sub := t.TempDir()
			var paths []string
			for _, name := range sortedKeys(tc.files) {
				paths = append(paths, writeFile(t, sub, name, tc.files[name]))
			}
			res, err := Files(ctx, st, "a", tc.kind, paths, tc.opts)
			var re *catalog.RowErrors
			if !errors.As(err, &re) {
				t.Fatalf("result %+v, error %v; want row errors", res, err)
			}
			if tc.name == "two files" && !strings.Contains(err.Error(), `"y" is already used at `+paths[0]+":3") {
				t.Errorf("the repeat does not name the first use: %v", err)
			}
			got := rowList(err)
			if !reflect.DeepEqual(got, tc.wantAt) {
				t.Errorf("row errors at\n  %s\nwant\n  %s\nfull:\n%v", strings.Join(got, "\n  "), strings.Join(tc.wantAt, "\n  "), err)
			}
			if re.Total != len(re.Rows) {
				t.Errorf("total %d, listed %d", re.Total, len(re.Rows))
			}
			if after := snap(t, st, "a"); after != before {
				t.Errorf("store changed: %+v → %+v", before.counts, after.counts)
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func TestRowErrorsCapped(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&b, `{"session":"s%d","type":"nope","item":"p"}`+"\n", i)
	}
	_, err := Parse(Events, []Source{BytesSource("big.jsonl", []byte(b.String()))}, Options{})
	var re *catalog.RowErrors
	if !errors.As(err, &re) || re.Total != 250 || len(re.Rows) != catalog.MaxRowErrors {
		t.Fatalf("error %v", err)
	}
	if re.Rows[99].Line != 100 {
		t.Errorf("last listed row is line %d", re.Rows[99].Line)
	}
}

func TestCSVMapping(t *testing.T) {
	cases := []struct {
		name string
		csv  string
		opts CSVOptions
		want []catalog.Product
	}{
		{
			name: "auto columns",
			csv:  "id,title,price,currency,brand,stock_eu,stock_us,image_url\np1,Train,12.5,EUR,Hornby,3,0,/img/p1.jpg\n",
			want: []catalog.Product{{ID: "p1", Title: "Train", Price: 12.5, Currency: "EUR", Brand: "Hornby", Stock: map[string]int{"eu": 3, "us": 0}, ImageURL: "/img/p1.jpg"}},
		},
		{
			name: "mapped, one category column, tags, attributes",
			csv:  "product_id,product_name,cost,path,labels,age,qty\nA-1,Doll,£1,299.50,Toys > Dolls >  Fashion ,red|gift| ,3+,7\n",
			opts: CSVOptions{Map: map[string][]string{"id": {"product_id"}, "title": {"product_name"}, "price": {"cost"}, "category": {"path"}, "tags": {"labels"}, "attributes.age": {"age"}, "stock": {"qty"}}},
			want: nil, // the unquoted "1,299.50" splits the row: checked below
		},
		{
			name: "mapped, quoted price, several category columns, semicolons",
			csv:  "sku;name;price;main;sub;pop\nA-1;Doll;\"£1,299.50\";Toys;Dolls;12\nA-2;Car;$3;Toys;;\n",
			opts: CSVOptions{Comma: ';', Currency: "USD", Map: map[string][]string{"id": {"sku"}, "title": {"name"}, "category": {"main", "sub"}, "popularity": {"pop"}}},
			want: []catalog.Product{
				{ID: "A-1", Title: "Doll", Price: 1299.5, Currency: "GBP", Category: []string{"Toys", "Dolls"}, Popularity: 12},
				{ID: "A-2", Title: "Car", Price: 3, Currency: "USD", Category: []string{"Toys"}},
			},
		},
		{
			name: "header case, BOM, CRLF, quoted newline",
			csv:  "\uFEFFID,Title,Description,Tags\r\nx,\"Kite\",\"Flies\nhigh\",a|b\r\n",
			want: []catalog.Product{{ID: "x", Title: "Kite", Description: "Flies\nhigh", Tags: []string{"a", "b"}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(Catalog, []Source{BytesSource("c.csv", []byte(tc.csv))}, Options{CSV: tc.opts})
			if tc.want == nil {
				var re *catalog.RowErrors
				if !errors.As(err, &re) || !strings.Contains(re.Rows[0].Problem, "fields, but the header has") {
					t.Fatalf("want a field-count row error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b.Products, tc.want) {
				t.Errorf("got  %+v\nwant %+v", b.Products, tc.want)
			}
		})
	}
	// A one-column category path with a custom separator.
	b, err := Parse(Catalog, []Source{BytesSource("c.csv", []byte("id,title,category\n1,One,Toys/Dolls/Fashion\n"))}, Options{CSV: CSVOptions{CategorySep: "/"}})
	if err != nil || !reflect.DeepEqual(b.Products[0].Category, []string{"Toys", "Dolls", "Fashion"}) {
		t.Errorf("category split: %+v, %v", b, err)
	}
}

func TestParseCSVMap(t *testing.T) {
	m, err := ParseCSVMap("id=product_id, title=name,category=a+b+c,stock_eu=EU stock,attributes.age=age")
	want := map[string][]string{"id": {"product_id"}, "title": {"name"}, "category": {"a", "b", "c"}, "stock_eu": {"EU stock"}, "attributes.age": {"age"}}
	if err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, %v", m, err)
	}
	for _, bad := range []string{"id", "colour=c", "id=a,id=b", "price=", "category=a+"} {
		if _, err := ParseCSVMap(bad); err == nil {
			t.Errorf("ParseCSVMap(%q) accepted", bad)
		}
	}
}

func TestEventFormats(t *testing.T) {
	view, buy, search := wire.View, wire.Purchase, wire.Search
	may1 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	day := time.Date(2016, 5, 9, 0, 0, 0, 0, time.UTC).UnixMilli()
	cases := []struct {
		name, file, content string
		opts                Options
		want                []store.Event
	}{
		{"jsonl sorted by time per session", "e.jsonl", `{"session":"s1","type":"view","item":"b","time":2000}
{"session":"s2","type":"purchase","item":"c","time":"2024-05-01T10:00:00Z"}
{"session":"s1","type":"search","query":"red train","time":1000}
{"session":"s1","type":"view","item":"a","time":2000}
`, Options{}, []store.Event{
			{Session: "s1", Seq: 1, Type: search, Query: "red train", Time: 1000},
			{Session: "s1", Seq: 2, Type: view, Item: "b", Time: 2000},
			{Session: "s1", Seq: 3, Type: view, Item: "a", Time: 2000},
			{Session: "s2", Seq: 1, Type: buy, Item: "c", Time: may1},
		}},
		{"jsonl explicit seq", "e.jsonl", `{"session":"s","seq":7,"type":"view","item":"b","time":1}
{"session":"s","seq":3,"type":"view","item":"a","time":2}
`, Options{}, []store.Event{
			{Session: "s", Seq: 7, Type: view, Item: "b", Time: 1},
			{Session: "s", Seq: 3, Type: view, Item: "a", Time: 2},
		}},
		{"session tsv", "e.tsv", "Extra\tSessionId\tTime\tItemId\nx\t1\t1.5\tp2\nx\t1\t1.25\tp1\nx\t2\t100\tp3\n", Options{}, []store.Event{
			{Session: "1", Seq: 1, Type: view, Item: "p1", Time: 1250},
			{Session: "1", Seq: 2, Type: view, Item: "p2", Time: 1500},
			{Session: "2", Seq: 1, Type: view, Item: "p3", Time: 100000},
		}},
		{"diginetica as clicks", "train-item-views.csv", "session_id;user_id;item_id;timeframe;eventdate\n1;;81766;526309;2016-05-09\n1;;31331;1031018;2016-05-09\n2;NA;32118;5;2016-05-09\n", Options{EventType: wire.Click}, []store.Event{
			{Session: "1", Seq: 1, Type: wire.Click, Item: "81766", Time: day + 526309},
			{Session: "1", Seq: 2, Type: wire.Click, Item: "31331", Time: day + 1031018},
			{Session: "2", Seq: 1, Type: wire.Click, Item: "32118", Time: day + 5},
		}},
		{"sequences", "user_sequence.txt", "u1 i1 i2 i1\nu2 i3\n", Options{}, []store.Event{
			{Session: "u1", Seq: 1, Type: buy, Item: "i1"},
			{Session: "u1", Seq: 2, Type: buy, Item: "i2"},
			{Session: "u1", Seq: 3, Type: buy, Item: "i1"},
			{Session: "u2", Seq: 1, Type: buy, Item: "i3"},
		}},
		{"format flag over extension", "events.log", "u1 i1\n", Options{Format: Sequences, EventType: wire.View}, []store.Event{
			{Session: "u1", Seq: 1, Type: view, Item: "i1"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(Events, []Source{BytesSource(tc.file, []byte(tc.content))}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b.Events, tc.want) {
				t.Errorf("got  %+v\nwant %+v", b.Events, tc.want)
			}
		})
	}
	if _, err := Parse(Events, []Source{BytesSource("events.log", nil)}, Options{}); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("unknown extension: %v", err)
	}
	if _, err := Parse(Reviews, nil, Options{Format: CSV}); err == nil {
		t.Error("reviews as CSV accepted")
	}
}

func TestFAQ(t *testing.T) {
	headings := []struct{ md, want string }{
		{"# Returns\ntext", "Returns"},
		{"intro\n\n## Shipping & delivery ##\n", "Shipping & delivery"},
		{"```\n# not a heading\n```\n# Real", "Real"},
		{"Privacy\n---\n", "Privacy"},
		{"#hashtag\nno heading here", ""},
		{"    # indented code\n", ""},
	}
	for _, h := range headings {
		if got, _ := firstHeading(h.md); got != h.want {
			t.Errorf("firstHeading(%q) = %q, want %q", h.md, got, h.want)
		}
	}
	jsonForms := []struct{ name, body string }{
		{"object", "{\n  \"id\": \"returns\",\n  \"title\": \"Returns\",\n  \"body\": \"30 days\"\n}\n"},
		{"lines", `{"id":"returns","title":"Returns","body":"30 days"}` + "\n" + `{"id":"shipping","title":"Shipping","body":"free"}`},
		{"array", `[{"id":"returns","title":"Returns","body":"30 days"}, {"id":"shipping","title":"Shipping","body":"free"}]`},
	}
	for _, f := range jsonForms {
		b, err := Parse(FAQ, []Source{BytesSource("body", []byte(f.body))}, Options{Format: JSONL})
		if err != nil || len(b.FAQ) == 0 || b.FAQ[0] != (store.FAQ{ID: "returns", Title: "Returns", Body: "30 days"}) {
			t.Errorf("%s: %+v, %v", f.name, b, err)
		}
	}
	// A document without a heading takes its id as the title.
	dir := t.TempDir()
	p := writeFile(t, dir, "Gift wrap.md", "We wrap gifts.")
	b, err := Parse(FAQ, mustSources(t, FAQ, p), Options{})
	if err != nil || b.FAQ[0] != (store.FAQ{ID: "Gift wrap", Title: "Gift wrap", Body: "We wrap gifts."}) {
		t.Errorf("%+v, %v", b, err)
	}
	if _, err := FileSources(FAQ, []string{t.TempDir()}); err == nil {
		t.Error("an empty FAQ directory was accepted")
	}
	if _, err := FileSources(Catalog, []string{dir}); err == nil {
		t.Error("a catalog directory was accepted")
	}
}

func mustSources(t *testing.T, kind Kind, paths ...string) []Source {
	t.Helper()
	srcs, err := FileSources(kind, paths)
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.jsonl", `{"id":"p1","title":"A's train"}`+"\n")
	b := writeFile(t, dir, "b.jsonl", `{"id":"p1","title":"B's train"}`+"\n")
	if _, err := Files(ctx, st, "a", Catalog, []string{a}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := snap(t, st, "a")
	res, err := Files(ctx, st, "b", Catalog, []string{b}, Options{})
	if err != nil || res.Changed != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	if snap(t, st, "a") != before {
		t.Error("ingest into b changed a")
	}
	pb, _ := st.Products(ctx, "b")
	if len(pb) != 1 || pb[0].Title != "B's train" {
		t.Errorf("b reads %+v", pb)
	}
	if _, err := Files(ctx, st, "nope", Catalog, []string{a}, Options{}); !errors.Is(err, store.ErrNoShop) {
		t.Errorf("unknown shop: %v", err)
	}
}
