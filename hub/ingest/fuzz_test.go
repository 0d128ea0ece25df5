package ingest

import (
	"errors"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// checkBatch fails unless a parse either listed row errors or produced a
// batch the store will accept whole.
func checkBatch(t *testing.T, b *Batch, err error) {
	t.Helper()
	var re *catalog.RowErrors
	if err != nil {
		if !errors.As(err, &re) {
			t.Fatalf("not a row error: %v", err)
		}
		if re.Total == 0 || len(re.Rows) == 0 || len(re.Rows) > catalog.MaxRowErrors {
			t.Fatalf("row errors %d listed of %d", len(re.Rows), re.Total)
		}
		return
	}
	ids := map[string]bool{}
	for i := range b.Products {
		if err := b.Products[i].Validate(); err != nil {
			t.Fatalf("invalid product passed: %v", err)
		}
		if ids[b.Products[i].ID] {
			t.Fatalf("repeated id %q passed", b.Products[i].ID)
		}
		ids[b.Products[i].ID] = true
	}
	for i := range b.FAQ {
		if err := b.FAQ[i].Validate(); err != nil {
			t.Fatalf("invalid faq passed: %v", err)
		}
	}
	type key struct {
		s string
		n int64
	}
	keys := map[key]bool{}
	for i := range b.Events {
		e := &b.Events[i]
		if err := e.Validate(); err != nil {
			t.Fatalf("invalid event passed: %v", err)
		}
		if keys[key{e.Session, e.Seq}] {
			t.Fatalf("repeated event key %q/%d passed", e.Session, e.Seq)
		}
		keys[key{e.Session, e.Seq}] = true
	}
}

func FuzzEvents(f *testing.F) {
	f.Add([]byte(`{"session":"s","type":"view","item":"p","time":1}`+"\n"+`{"session":"s","type":"search","query":"q","time":"2024-01-01T00:00:00Z"}`), uint8(0))
	f.Add([]byte(`{"session":"s","seq":2,"type":"view","item":"p"}`+"\n"+`{"session":"s","type":"view","item":"p"}`), uint8(0))
	f.Add([]byte("SessionId\tItemId\tTime\n1\t2\t3.5\n"), uint8(1))
	f.Add([]byte("session_id;user_id;item_id;timeframe;eventdate\n1;;2;3;2016-05-09\n"), uint8(2))
	f.Add([]byte("u a b c\nv d\n"), uint8(3))
	formats := []Format{JSONL, TSV, Diginetica, Sequences}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		b, err := Parse(Events, []Source{BytesSource("f", data)}, Options{Format: formats[int(which)%len(formats)]})
		checkBatch(t, b, err)
	})
}

func FuzzCatalogCSV(f *testing.F) {
	f.Add([]byte("id,title,price,currency,category,tags,stock_eu\np,T,1.5,GBP,A>B,x|y,3\n"))
	f.Add([]byte("id,title,price\np,T,£1,000.00\n\"q\",\"multi\nline\",\n"))
	f.Add([]byte("id,title\n\"unclosed,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(Catalog, []Source{BytesSource("f.csv", data)}, Options{})
		checkBatch(t, b, err)
	})
}

func FuzzFAQJSON(f *testing.F) {
	f.Add([]byte(`{"id":"a","title":"A","body":"b"}`))
	f.Add([]byte(`[{"id":"a","title":"A","body":"b"},{"id":"a","title":"A","body":"c"}]`))
	f.Add([]byte("{\"id\":\"a\"}\n{\"x\":1}\n["))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(FAQ, []Source{BytesSource("f", data)}, Options{Format: JSONL})
		checkBatch(t, b, err)
	})
}
