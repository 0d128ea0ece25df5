package rank

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// TestTokenizerASCIIFastPath checks the tokenizer against the rune-by-rune
// definition it shortcuts for ASCII.
func TestTokenizerASCIIFastPath(t *testing.T) {
	ref := func(s string) []string {
		var out []string
		var w []rune
		flush := func() {
			if len(w) >= 2 {
				out = append(out, string(w))
			}
			w = w[:0]
		}
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				w = append(w, unicode.ToLower(r))
				continue
			}
			flush()
		}
		flush()
		return out
	}
	for _, s := range []string{
		"", "a", "ab", "Hello, World! 42 x Y7", "ÉCLAIR crème-brûlée 2x", "a\xffb cd\xff", "Straße ΣΟΦΙΑ _under_score",
		"[Pack of 12] USB-C/HDMI 4K@60Hz", "日本語 テキスト 1", "  lead  trail  ",
	} {
		var tk tokenizer
		tk.reset(s)
		var got []string
		for tok, ok := tk.next(); ok; tok, ok = tk.next() {
			got = append(got, string(tok))
		}
		if want := ref(s); !slices.Equal(got, want) {
			t.Errorf("%q: tokens %q, want %q", s, got, want)
		}
	}
}

// TestLookupTables checks the id and term tables against the snapshot.
func TestLookupTables(t *testing.T) {
	s := snapshot.Synthetic(3000, 8, 5, 12, 9)
	x, err := New(s, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range s.Items.IDs {
		if j, ok := x.Lookup(id); !ok || j != uint32(i) {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", id, j, ok, i)
		}
	}
	for _, id := range []string{"", "nope", s.Items.IDs[0] + "x"} {
		if _, ok := x.Lookup(id); ok {
			t.Errorf("Lookup(%q) found an item", id)
		}
	}
	// Every term's postings are the items whose title or category holds it.
	lex := x.lexicon()
	if lex.terms.len() == 0 {
		t.Fatal("no terms after building the lexical index")
	}
	var tk tokenizer
	for v := range uint32(min(lex.terms.len(), 200)) {
		term := lex.terms.term(v)
		if got, ok := lex.terms.find(term); !ok || got != v {
			t.Fatalf("term %q: find = %d, %v; want %d", term, got, ok, v)
		}
		items, w := lex.posting(term)
		var want []uint32
		for i := range s.Len() {
			has := false
			for _, f := range [2]string{s.Items.Titles[i], s.Items.Categories[i]} {
				tk.reset(f)
				for tok, ok := tk.next(); ok && !has; tok, ok = tk.next() {
					has = string(tok) == string(term)
				}
			}
			if has {
				want = append(want, uint32(i))
			}
		}
		if !slices.Equal(items, want) || len(w) != len(items) {
			t.Fatalf("term %q: items %v, want %v", term, items, want)
		}
	}
	if items, _ := lex.posting([]byte("zzzznotaterm")); items != nil {
		t.Errorf("an unknown term has postings")
	}
}

// TestCompactWeights: an index over a snapshot decoded with compact graph
// weights ranks exactly like one over float weights, allocation-free.
func TestCompactWeights(t *testing.T) {
	s := snapshot.Synthetic(3000, 16, 8, 12, 4)
	b, err := snapshot.Encode(s, snapshot.EncodeOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := snapshot.Decode(b, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	compact, err := snapshot.DecodeWith(b, snapshot.DecodeOptions{CompactWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := New(plain, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	xc, err := New(compact, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reqs := sessions(plain, 300, 9)
	for i := range reqs {
		switch i % 4 {
		case 1:
			reqs[i].Placement, reqs[i].Item = wire.BoughtTogether, reqs[i].Events[0].Item
		case 2:
			reqs[i].Placement, reqs[i].Item = wire.Similar, reqs[i].Events[0].Item
		}
	}
	var rp, rc wire.RecommendResponse
	for i := range reqs {
		if err := xp.Rank(&reqs[i], &rp); err != nil {
			t.Fatal(err)
		}
		if err := xc.Rank(&reqs[i], &rc); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rp, rc) {
			t.Fatalf("request %d: compact weights rank differently:\n%+v\n%+v", i, rc, rp)
		}
	}
	if n := testing.AllocsPerRun(50, func() { _ = xc.Rank(&reqs[0], &rc) }); n != 0 {
		t.Fatalf("Rank over compact weights allocates %v times", n)
	}
}

// TestAddWords: the index build's own splitting of ASCII fields gives the
// tokenizer's words, with the same term numbers and hashes.
func TestAddWords(t *testing.T) {
	fields := []string{"", "a", "ab", "Hello, World! 42 x Y7", "ÉCLAIR crème-brûlée 2x", "a\xffb cd\xff",
		"[Pack of 12] USB-C/HDMI 4K@60Hz", "  lead  trail  ", "ZZ top_ZZ Top zz", "x-y-zz 9 99 999"}
	s := snapshot.Synthetic(500, 4, 3, 5, 2)
	fields = append(fields, s.Items.Titles...)
	fields = append(fields, s.Items.Categories...)
	fast, slow := newTermTable(4), newTermTable(4)
	var tk tokenizer
	for _, f := range fields {
		got := fast.addWords(f, nil, &tk)
		var want []uint32
		tk.reset(f)
		for tok, ok := tk.next(); ok; tok, ok = tk.next() {
			want = append(want, slow.add(tok))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: terms %v, want %v", f, got, want)
		}
	}
	if fast.len() != slow.len() || !bytes.Equal(fast.arena, slow.arena) {
		t.Fatal("the tables differ")
	}
	for v := range uint32(fast.len()) {
		if got, ok := fast.find(fast.term(v)); !ok || got != v {
			t.Fatalf("term %q: find %d, %v", fast.term(v), got, ok)
		}
	}
}

// TestNewValidatesUnchecked: New checks a snapshot that no decoder has,
// and refuses an invalid one.
func TestNewValidatesUnchecked(t *testing.T) {
	s := snapshot.Synthetic(30, 8, 3, 4, 2)
	s.CoVisit.Nbr[0] = uint32(s.Len()) // out of range
	if _, err := New(s, DefaultConfig()); !errors.Is(err, snapshot.ErrInvalid) {
		t.Fatalf("New of an invalid built snapshot: %v; want ErrInvalid", err)
	}
}
