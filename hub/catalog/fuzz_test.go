package catalog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Seeds beyond testdata/fuzz: valid lines, each kind of bad line, and
// edge cases of the line reader.
var productSeeds = []string{
	"{\"id\":\"p1\",\"title\":\"Train\",\"price\":4.99,\"currency\":\"GBP\",\"stock\":{\"default\":-1},\"category\":[\"Hobbies\",\"Trains\"],\"attributes\":{\"age\":\"3+\"},\"tags\":[\"wood\"],\"image_url\":\"/i.jpg\",\"popularity\":3}\n",
	"{\"id\":\"p1\",\"title\":\"a\"}\n{\"id\":\"p1\",\"title\":\"b\"}\n",
	"\uFEFF{\"id\":\"p\",\"title\":\"t\"}\r\n\r\n",
	"{\"id\":\"p\",\"title\":\"t\",\"price\":-1e400}",
	"{\"id\":\"p\",\"title\":\"\\u0000\\ud800\"}",
	"{\"id\":\"p\",\"titel\":1}\nnull\n[]\n{",
}

var reviewSeeds = []string{
	"{\"id\":\"r1\",\"item\":\"p1\",\"stars\":4.5,\"title\":\"Good\",\"text\":\"Fine\\nreally\",\"date\":\"2015-07-29\",\"author\":\"Ann\",\"verified\":true}\n",
	"{\"id\":\"r1\",\"item\":\"p1\",\"stars\":0,\"date\":\"2015-02-29\"}\n",
	"{\"id\":\"r\",\"item\":\"p\",\"stars\":5}\n{\"id\":\"r\",\"item\":\"p\",\"stars\":5}",
	"{\"id\":\"r\",\"item\":\"p\",\"stars\":\"5\",\"extra\":1}\n\xff\n",
}

// FuzzReadProducts checks that ReadProducts never panics, passes fn only
// valid products with distinct ids, reports row errors that name a line
// of the input, and that what it accepts writes back to bytes that read
// to the same products and write again identically.
func FuzzReadProducts(f *testing.F) {
	for _, s := range productSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []Product
		seen := map[string]bool{}
		err := ReadProducts(bytes.NewReader(in), "f", func(p Product) error {
			if err := p.Validate(); err != nil {
				t.Fatalf("fn got an invalid product: %v", err)
			}
			if seen[p.ID] {
				t.Fatalf("fn got id %q twice", p.ID)
			}
			seen[p.ID] = true
			got = append(got, p)
			return nil
		})
		checkRowErrors(t, in, err)
		var w1 bytes.Buffer
		if err := WriteProducts(&w1, got); err != nil {
			t.Fatalf("write accepted products: %v", err)
		}
		var back []Product
		if err := ReadProducts(bytes.NewReader(w1.Bytes()), "w1", func(p Product) error { back = append(back, p); return nil }); err != nil {
			t.Fatalf("read written products: %v", err)
		}
		if len(back) != len(got) {
			t.Fatalf("read back %d products, wrote %d", len(back), len(got))
		}
		var w2 bytes.Buffer
		if err := WriteProducts(&w2, back); err != nil || !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("second write differs (%v):\n%q\n%q", err, w1.Bytes(), w2.Bytes())
		}
	})
}

// FuzzReadReviews is FuzzReadProducts for reviews.
func FuzzReadReviews(f *testing.F) {
	for _, s := range reviewSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []Review
		err := ReadReviews(bytes.NewReader(in), "f", func(r Review) error {
			if err := r.Validate(); err != nil {
				t.Fatalf("fn got an invalid review: %v", err)
			}
			got = append(got, r)
			return nil
		})
		checkRowErrors(t, in, err)
		var w1 bytes.Buffer
		if err := WriteReviews(&w1, got); err != nil {
			t.Fatalf("write accepted reviews: %v", err)
		}
		var back []Review
		if err := ReadReviews(bytes.NewReader(w1.Bytes()), "w1", func(r Review) error { back = append(back, r); return nil }); err != nil {
			t.Fatalf("read written reviews: %v", err)
		}
		var w2 bytes.Buffer
		if err := WriteReviews(&w2, back); err != nil || !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("second write differs (%v):\n%q\n%q", err, w1.Bytes(), w2.Bytes())
		}
	})
}

// checkRowErrors checks that a reader's error on in-memory input is nil or
// a well-formed *RowErrors.
func checkRowErrors(t *testing.T, in []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var re *RowErrors
	if !errors.As(err, &re) {
		t.Fatalf("error is %T, want *RowErrors: %v", err, err)
	}
	lines := bytes.Count(in, []byte("\n")) + 1
	if re.Total < len(re.Rows) || len(re.Rows) == 0 || len(re.Rows) > MaxRowErrors {
		t.Fatalf("Total %d, %d rows listed", re.Total, len(re.Rows))
	}
	last := 0
	for _, r := range re.Rows {
		if r.Line < 1 || r.Line > lines || r.Line < last || r.Problem == "" {
			t.Fatalf("bad row error %+v (input has %d lines)", r, lines)
		}
		if !strings.HasPrefix(r.Error(), "catalog: f:") {
			t.Fatalf("message %q", r.Error())
		}
		last = r.Line
	}
}
