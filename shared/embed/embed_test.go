package embed

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// testVocab is a small vocabulary that exercises every tokenizer rule.
var testVocab = []string{
	PadToken, UnkToken,
	"hello", "world", "lip", "lipstick", "##s", "##stick", ",", "!", "café",
	"中", "16", "-", "ounce", "oz", "'", strings.Repeat("a", MaxWordBytes),
	"ß", "istanbul",
}

func testEmbedder(t testing.TB, dims, maxTokens int) *Embedder {
	t.Helper()
	w := make([]float32, len(testVocab)*dims)
	for i := 2; i < len(testVocab); i++ {
		for j := range dims {
			w[i*dims+j] = float32(math.Sin(float64(i*31+j*7))) * float32(1+i%3)
		}
	}
	e, err := Quantize(testVocab, dims, w, maxTokens)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func tokens(e *Embedder, text string) []string {
	var out []string
	for _, id := range e.Tokenize(text, nil) {
		out = append(out, e.Token(int(id)))
	}
	return out
}

func TestTokenize(t *testing.T) {
	e := testEmbedder(t, 4, 16)
	long := strings.Repeat("a", MaxWordBytes)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", nil},
		{"only spaces", " \t\r\n\u00a0\u3000 ", nil},
		{"lower-cased, punctuation split", "Hello, WORLD!", []string{"hello", ",", "world", "!"}},
		{"continuation pieces", "lipsticks Lipstick", []string{"lipstick", "##s", "lipstick"}},
		{"greedy longest prefix first", "lipstick", []string{"lipstick"}},
		{"unspellable word is one unk", "lipstickz lipz", []string{UnkToken, UnkToken}},
		{"accents kept", "CAFÉ café cafe", []string{"café", "café", UnkToken}},
		{"cjk ideographs are words", "中文中", []string{"中", UnkToken, "中"}},
		{"numbers and hyphen", "16-Ounce (16 oz)", []string{"16", "-", "ounce", UnkToken, "16", "oz", UnkToken}},
		{"apostrophe splits, s is no word start", "world's", []string{"world", "'", UnkToken}},
		{"control characters dropped", "hel\x00lo\u0007 wor\u200bld", []string{"hello", UnkToken}},
		{"invalid utf-8 and U+FFFD dropped", "hel\xfflo wo\ufffdrld", []string{"hello", "world"}},
		{"max word length", long, []string{long}},
		{"word one byte too long", long + "a", []string{UnkToken}},
		{"unicode lower-casing per rune", "İSTANBUL ß", []string{"istanbul", "ß"}},
		{"symbols are punctuation", "$+<", []string{UnkToken, UnkToken, UnkToken}},
		{"line and paragraph separators stay in words", "hello\u2028world", []string{UnkToken}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tokens(e, tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	e := testEmbedder(t, 4, 3)
	got := tokens(e, "hello world lipsticks hello")
	want := []string{"hello", "world", "lipstick"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Embed pools the same three tokens.
	a := e.Embed("hello world lipsticks hello", nil)
	b := e.Embed("hello world lipstick", nil)
	for j := range a {
		if math.Abs(float64(a[j]-b[j])) > 1e-6 {
			t.Fatalf("truncated embedding differs at %d: %v vs %v", j, a, b)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("Hello, 中文 Wörld!\x00x", nil)
	want := []string{"hello", ",", "中", "文", "wörld", "!", "x"}
	if !slices.Equal(got, want) {
		t.Fatalf("Words = %q, want %q", got, want)
	}
}

func TestEmbed(t *testing.T) {
	const dims = 8
	e := testEmbedder(t, dims, 16)
	// Hand-computed: mean of the dequantised rows (unknown words count in
	// the mean with a zero row), then L2-normalised.
	ids := []int{2, UnkID, 3} // hello, zzz, world
	want := make([]float64, dims)
	for _, id := range ids {
		for j, x := range e.Row(id, nil) {
			want[j] += float64(x) / 3
		}
	}
	var n float64
	for _, x := range want {
		n += x * x
	}
	n = math.Sqrt(n)
	got := e.Embed("Hello zzz World", nil)
	for j := range want {
		if math.Abs(float64(got[j])-want[j]/n) > 1e-5 {
			t.Fatalf("Embed = %v, want %v", got, want)
		}
	}
	for _, text := range []string{"", "zzz qqq", "   "} {
		for j, x := range e.Embed(text, nil) {
			if x != 0 {
				t.Fatalf("Embed(%q)[%d] = %v, want the zero vector", text, j, x)
			}
		}
	}
}

func TestEmbedAllocationFree(t *testing.T) {
	e := testEmbedder(t, 32, DefaultMaxTokens)
	dst := make([]float32, 32)
	ids := make([]int32, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		dst = e.Embed("Hello, World! lipsticks 16-Ounce café 中文", dst)
		ids = e.Tokenize("Hello, World! lipsticks", ids[:0])
	})
	if allocs != 0 {
		t.Fatalf("Embed and Tokenize allocate %v times per call, want 0", allocs)
	}
}

func TestQuantize(t *testing.T) {
	const dims = 5
	vocab := []string{PadToken, UnkToken, "x", "y"}
	w := []float32{
		0, 0, 0, 0, 0,
		0, 0, 0, 0, 0,
		1, -2, 0.5, 0.25, -0.125,
		1e-3, 2e-3, -3e-3, 0, 4e-3,
	}
	e, err := Quantize(vocab, dims, w, 4)
	if err != nil {
		t.Fatal(err)
	}
	_, scales := e.Table()
	if scales[0] != 0 || scales[1] != 0 {
		t.Errorf("zero rows got scales %v", scales[:2])
	}
	for i := 2; i < 4; i++ {
		row := e.Row(i, nil)
		for j, x := range row {
			if d := math.Abs(float64(x - w[i*dims+j])); d > float64(scales[i])/2+1e-9 {
				t.Errorf("row %d[%d] = %v, want %v ± %v", i, j, x, w[i*dims+j], scales[i]/2)
			}
		}
	}
	if _, err := Quantize(vocab, dims, append(w[:len(w)-1:len(w)-1], float32(math.NaN())), 4); err == nil {
		t.Error("NaN weight accepted")
	}
}

func TestNewRejects(t *testing.T) {
	ok := func() ([]string, []int8, []float32) {
		return []string{PadToken, UnkToken, "a"}, make([]int8, 6), make([]float32, 3)
	}
	tests := []struct {
		name   string
		change func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int)
	}{
		{"dims 0", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			return v, tb, s, 0, 4
		}},
		{"max tokens 0", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			return v, tb, s, 2, 0
		}},
		{"no specials", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			v[0] = "x"
			return v, tb, s, 2, 4
		}},
		{"duplicate", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			return append(v, "a"), append(tb, 0, 0), append(s, 0), 2, 4
		}},
		{"empty entry", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			v[2] = ""
			return v, tb, s, 2, 4
		}},
		{"short table", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			return v, tb[:5], s, 2, 4
		}},
		{"negative scale", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			s[2] = -1
			return v, tb, s, 2, 4
		}},
		{"NaN scale", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			s[2] = float32(math.NaN())
			return v, tb, s, 2, 4
		}},
		{"not UTF-8", func(v []string, tb []int8, s []float32) ([]string, []int8, []float32, int, int) {
			v[2] = "\xff"
			return v, tb, s, 2, 4
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, tb, s := ok()
			v, tb, s, dims, mt := tc.change(v, tb, s)
			if _, err := New(v, dims, tb, s, mt); err == nil {
				t.Fatal("New accepted an invalid embedder")
			}
		})
	}
	v, tb, s := ok()
	if _, err := New(v, 2, tb, s, 4); err != nil {
		t.Fatalf("New rejected a valid embedder: %v", err)
	}
}

func BenchmarkEdgeEmbed(b *testing.B) {
	e := testEmbedder(b, 128, DefaultMaxTokens)
	titles := []string{
		"Hello World lipstick, 16-Ounce café",
		"Eucerin Original Healing Soothing Repair Creme, 16-Ounce Jars (Pack of 2)",
		"lipsticks oz world hello hello world",
	}
	dst := make([]float32, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dst = e.Embed(titles[i%len(titles)], dst)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "titles/s")
}
