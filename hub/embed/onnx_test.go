package embed

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"

	"github.com/aisle-rec/aisle/shared/embed"
)

// agreementTexts returns about 200 texts that exercise every tokenizer
// rule: product titles with punctuation, mixed case, unicode of many
// scripts, unknown words, control characters, invalid UTF-8, empty and
// blank texts, a word over the length limit and texts far beyond the
// truncation length.
func agreementTexts() []string {
	texts := []string{
		"", " ", "\t\n\r ", "Hello, World!", "lipstick", "Lipsticks, GLOSSES & balms",
		"CRÈME brûlée SÉRUM", "crème sérum creme serum", "中文 日本 한국어 中文日本", "💄✨ lipstick 💄",
		"unknownword zzzqqq", "[UNK] [PAD] [CLS] [SEP]", "##s ##es lipstick##s", "ｆｕｌｌｗｉｄｔｈ ＬＩＰＳＴＩＣＫ",
		"İSTANBUL ǅemal", "naïve café", "\x00\x01hidden\x7f chars\u0085", "in\xffvalid utf8 \xc3",
		"\u200bzero\u200bwidth\u200b", "non\u00a0breaking\u3000space", "tab\tseparated\nlines\r\n",
		strings.Repeat("a", 150) + " lipstick", strings.Repeat("lipstick ", 100),
		strings.Repeat("Red, pink & nude lip gloss (Pack of 3) - ", 40),
		"16-Ounce (Pack of 2)", "50ml/100ml", "Eucerin Original Healing Soothing Repair Creme, 16-Ounce Jars (Pack of 2)",
		"...", "!!!", "🙂", "RTL: مرحبا بالعالم", "Ελληνικά ΣΊΣΥΦΟΣ", "ß ẞ", "Ⅻ roman numeral", "e\u0301 combining",
		"lip-gloss", "l'oréal paris", "nyx\u2028nyx", "\ufeffbom", "REVLON ColorStay™ Lipstick®",
		"100% pure argan oil!!!", "$9.99 <b>sale</b>", "mascara\u00adsoft\u00adhyphen",
	}
	rng := rand.New(rand.NewPCG(42, 42))
	for len(texts) < 200 {
		texts = append(texts, syntheticTitle(rng, catalogWords))
	}
	return texts
}

// randomText draws runes from a pool that covers every tokenizer branch.
func randomText(rng *rand.Rand) string {
	pool := []string{
		"a", "B", "z", "É", "é", "ß", "İ", "Σ", "ς", "ǅ", "ﬁ", "Ω", "中", "文", "日", "한", "💄", "🙂", "١",
		" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028", "\u200b", "\u0085", "\x00", "\x07", "\x7f",
		"\xff", "\xc3", "\ufffd", "\u0301", ",", ".", "!", "-", "'", "#", "##", "$", "+", "<", "(", ")", "™", "«", "¿",
		"lipstick", "gloss", "crème", "serum", "16", "pack", "nyx", "[UNK]",
	}
	n := rng.IntN(40)
	var b strings.Builder
	for range n {
		b.WriteString(pool[rng.IntN(len(pool))])
	}
	return b.String()
}

// hfIDs tokenizes text with hugot's pure-Go tokenizer reading the
// exported tokenizer.json.
func hfTokenizer(t testing.TB, e *embed.Embedder) *hftokenizer.Tokenizer {
	t.Helper()
	b, err := TokenizerJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := hftokenizer.NewFromContent(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func checkSameTokens(t *testing.T, e *embed.Embedder, tk *hftokenizer.Tokenizer, text string) {
	t.Helper()
	want := tk.Encode(text)
	want = want[:min(len(want), e.MaxTokens())]
	got := e.Tokenize(text, nil)
	if len(got) != len(want) {
		t.Fatalf("Tokenize(%q) = %v, hugot's tokenizer %v", text, got, want)
	}
	for i := range got {
		if int(got[i]) != want[i] {
			t.Fatalf("Tokenize(%q) = %v, hugot's tokenizer %v", text, got, want)
		}
	}
}

// TestTokenizerMatchesHugot checks, id for id, that shared/embed's
// tokenizer does what hugot's pure-Go tokenizer does with the exported
// tokenizer.json.
func TestTokenizerMatchesHugot(t *testing.T) {
	e := trainedEmbedder(t, embed.MaxTokensLimit)
	tk := hfTokenizer(t, e)
	for _, text := range agreementTexts() {
		checkSameTokens(t, e, tk, text)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		checkSameTokens(t, e, tk, randomText(rng))
	}
}

func FuzzTokenizerMatchesHugot(f *testing.F) {
	for _, text := range agreementTexts()[:60] {
		f.Add(text)
	}
	e := trainedEmbedder(f, embed.MaxTokensLimit)
	tk := hfTokenizer(f, e)
	f.Fuzz(func(t *testing.T, text string) {
		checkSameTokens(t, e, tk, text)
	})
}

// TestAgreement exports trained embedders, loads them back through hugot
// and checks hugot's vector against the edge's for every text.
func TestAgreement(t *testing.T) {
	texts := agreementTexts()
	for _, tc := range []struct {
		name      string
		maxTokens int
		opt       ExportOptions
	}{
		{"int8, truncated at 32 tokens", 32, ExportOptions{}},
		{"float32, default truncation", embed.DefaultMaxTokens, ExportOptions{Float32: true}},
		// Token vectors pooled by hugot itself, untruncated.
		{"int8 token vectors pooled by hugot", embed.MaxTokensLimit, ExportOptions{TokenVectors: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := trainedEmbedder(t, tc.maxTokens)
			dir := t.TempDir()
			if err := ExportONNX(e, dir, tc.opt); err != nil {
				t.Fatal(err)
			}
			h, err := OpenHugotWith(dir, HugotOptions{BatchSize: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if h.Dims() != e.Dims() {
				t.Fatalf("hugot dims %d, want %d", h.Dims(), e.Dims())
			}
			got, err := h.Embed(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			minCos, zeros := 1.0, 0
			for i, text := range texts {
				edge := e.Embed(text, nil)
				hz, ez := isZero(got[i]), isZero(edge)
				if hz || ez {
					if hz != ez {
						t.Errorf("text %d %.60q: hugot zero %v, edge zero %v", i, text, hz, ez)
					}
					zeros++
					continue
				}
				c := cosine(got[i], edge)
				minCos = min(minCos, c)
				if c < 0.999 {
					t.Errorf("text %d %.60q: cosine %.6f < 0.999", i, text, c)
				}
			}
			t.Logf("%d texts: min cosine %.9f (1 − min = %.1e); %d zero on both sides", len(texts), minCos, 1-minCos, zeros)
		})
	}
}

func TestExportFiles(t *testing.T) {
	e := trainedEmbedder(t, 64)
	dir := t.TempDir()
	if err := ExportONNX(e, dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	// Exporting again over the same directory is fine.
	if err := ExportONNX(e, dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["max_position_embeddings"] != float64(64) || cfg["hidden_size"] != float64(e.Dims()) {
		t.Errorf("config.json %v", cfg)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	if want := []string{ConfigFile, ModelFile, TokenizerFile}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	// The int8 table takes a byte per value and a scale per row, the float32
	// one four bytes per value.
	i8, _ := os.Stat(filepath.Join(dir, ModelFile))
	fdir := t.TempDir()
	if err := ExportONNX(e, fdir, ExportOptions{Float32: true}); err != nil {
		t.Fatal(err)
	}
	f32, _ := os.Stat(filepath.Join(fdir, ModelFile))
	v, d := int64(e.Len()), int64(e.Dims())
	if saved := f32.Size() - i8.Size(); saved < 3*v*d-4*v-256 {
		t.Errorf("int8 model %d bytes, float32 %d: saves %d, want about %d", i8.Size(), f32.Size(), saved, 3*v*d-4*v)
	}
	// A second .onnx file would make the directory unusable for hugot.
	if err := os.WriteFile(filepath.Join(dir, "other.onnx"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ExportONNX(e, dir, ExportOptions{}); err == nil {
		t.Error("export next to another .onnx file succeeded")
	}
}

// TestTokenVectorsEmptyText: hugot v0.7.7's mean pooling of a
// [batch, seq, dims] output indexes a token that is not there when a text
// has no tokens at all (and the tokenizer adds no [CLS]/[SEP]); Embed
// answers such texts with the zero vector without running them.
func TestTokenVectorsEmptyText(t *testing.T) {
	e := trainedEmbedder(t, 64)
	for _, opt := range []ExportOptions{{TokenVectors: true}, {}} {
		dir := t.TempDir()
		if err := ExportONNX(e, dir, opt); err != nil {
			t.Fatal(err)
		}
		h, err := OpenHugot(dir)
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{"red lipstick", " ", "", "pink gloss"}
		out, err := h.Embed(context.Background(), texts)
		if err != nil {
			t.Fatalf("token vectors %v: %v", opt.TokenVectors, err)
		}
		for i, text := range texts {
			if want := e.Embed(text, nil); isZero(want) != isZero(out[i]) || !isZero(want) && cosine(want, out[i]) < 0.999 {
				t.Errorf("token vectors %v, text %q: %v, want %v", opt.TokenVectors, text, out[i], want)
			}
		}
		h.Close()
	}
}
