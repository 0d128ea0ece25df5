package embed

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/shared/embed"
)

// fakeTeacher embeds each text as a fixed pseudo-random vector of its own,
// with a strong shared offset that PCA must remove.
type fakeTeacher struct {
	dims  int
	calls int
	err   error
	short bool // return one vector too few
}

func (f *fakeTeacher) vector(text string) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	rng := rand.New(rand.NewPCG(h.Sum64(), 5))
	v := make([]float32, f.dims)
	for j := range v {
		v[j] = float32(rng.NormFloat64()*float64(j+1)) + 10
	}
	return v
}

func (f *fakeTeacher) Embed(_ context.Context, texts []string) ([][]float32, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := make([][]float32, 0, len(texts))
	for _, t := range texts {
		out = append(out, f.vector(t))
	}
	if f.short {
		out = out[:len(out)-1]
	}
	return out, nil
}

var distilVocab = strings.Fields("lipstick gloss balm serum crème ##s ##es red pink nude Mascara 中 ,")

func TestDistilPCAPreservesGeometry(t *testing.T) {
	const dims = 6
	teacher := &fakeTeacher{dims: dims}
	opt := DefaultDistilOptions()
	opt.BatchSize = 4
	e, err := Distil(context.Background(), teacher, distilVocab, dims, opt)
	if err != nil {
		t.Fatal(err)
	}
	if teacher.calls != (len(distilVocab)+3)/4 {
		t.Errorf("teacher called %d times, want %d batches", teacher.calls, (len(distilVocab)+3)/4)
	}
	if e.Len() != len(distilVocab)+2 || e.Token(0) != embed.PadToken || e.Token(1) != embed.UnkToken {
		t.Fatalf("vocabulary %q", e.Vocab())
	}
	if e.Token(12) != "mascara" || e.Token(7) != "##s" {
		t.Fatalf("entries not normalised: %q", e.Vocab())
	}
	// With all dimensions kept, PCA is a rotation of the centred vectors:
	// distances between un-weighted rows equal the teacher's.
	row := func(i int) []float64 {
		r := e.Row(i+2, nil)
		out := make([]float64, len(r))
		for j, x := range r {
			out[j] = float64(x) / math.Log(2+float64(i))
		}
		return out
	}
	for a := range distilVocab {
		for b := a + 1; b < len(distilVocab); b++ {
			ta, tb := teacher.vector(strings.TrimPrefix(e.Token(a+2), "##")), teacher.vector(strings.TrimPrefix(e.Token(b+2), "##"))
			var dt, dr float64
			ra, rb := row(a), row(b)
			for j := range dims {
				dt += math.Pow(float64(ta[j]-tb[j]), 2)
				dr += math.Pow(ra[j]-rb[j], 2)
			}
			if rel := math.Abs(math.Sqrt(dr)-math.Sqrt(dt)) / math.Sqrt(dt); rel > 0.03 {
				t.Errorf("distance %q–%q: teacher %.3f, distilled %.3f", e.Token(a+2), e.Token(b+2), math.Sqrt(dt), math.Sqrt(dr))
			}
		}
	}
	for _, id := range []int{embed.PadID, embed.UnkID} {
		if !isZero(e.Row(id, nil)) {
			t.Errorf("special row %d is not zero", id)
		}
	}
}

func TestDistilReducesByVariance(t *testing.T) {
	teacher := &fakeTeacher{dims: 10}
	var vocab []string
	for i := range 200 {
		vocab = append(vocab, "w"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	opt := DefaultDistilOptions()
	opt.Frequencies = make([]float64, len(vocab))
	for i := range vocab {
		opt.Frequencies[i] = 1 // equal frequencies: equal SIF weights
	}
	e, err := Distil(context.Background(), teacher, vocab, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	// The fake teacher's dimension j has standard deviation j+1, so the
	// components come out in order of falling variance.
	var v [3]float64
	for i := 2; i < e.Len(); i++ {
		for j, x := range e.Row(i, nil) {
			v[j] += float64(x) * float64(x)
		}
	}
	if !(v[0] > v[1] && v[1] > v[2]) {
		t.Fatalf("component variances %v not falling", v)
	}
}

func TestDistilRejects(t *testing.T) {
	tests := []struct {
		name    string
		teacher *fakeTeacher
		vocab   []string
		dims    int
		opt     func(*DistilOptions)
	}{
		{"two words", &fakeTeacher{dims: 4}, []string{"red lipstick"}, 2, nil},
		{"continuation with punctuation", &fakeTeacher{dims: 4}, []string{"##-"}, 2, nil},
		{"empty", &fakeTeacher{dims: 4}, nil, 2, nil},
		{"too many dims", &fakeTeacher{dims: 4}, []string{"red"}, 5, nil},
		{"teacher error", &fakeTeacher{dims: 4, err: errors.New("boom")}, []string{"red"}, 2, nil},
		{"teacher short", &fakeTeacher{dims: 4, short: true}, []string{"red", "pink"}, 2, nil},
		{"frequency count", &fakeTeacher{dims: 4}, []string{"red"}, 2, func(o *DistilOptions) { o.Frequencies = []float64{1, 2} }},
		{"negative frequency", &fakeTeacher{dims: 4}, []string{"red"}, 2, func(o *DistilOptions) { o.Frequencies = []float64{-1} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := DefaultDistilOptions()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			if _, err := Distil(context.Background(), tc.teacher, tc.vocab, tc.dims, opt); err == nil {
				t.Fatal("Distil accepted invalid input")
			}
		})
	}
}

// TestDistilFromHugotTeacher distils through the real path: a teacher
// model directory run by hugot (here the exported trained embedder).
func TestDistilFromHugotTeacher(t *testing.T) {
	src := trainedEmbedder(t, 64)
	dir := t.TempDir()
	if err := ExportONNX(src, dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	teacher, err := OpenHugot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	vocab := src.Vocab()[2:]
	e, err := Distil(context.Background(), teacher, vocab, 8, DefaultDistilOptions())
	if err != nil {
		t.Fatal(err)
	}
	if e.Dims() != 8 || e.Len() != src.Len() {
		t.Fatalf("distilled %d entries × %d dims, want %d × 8", e.Len(), e.Dims(), src.Len())
	}
	// Titles close for the teacher stay close for the student.
	a, b, c := "red lipstick matte", "red lipstick shine", "argan hair oil shampoo"
	ab := cosine(e.Embed(a, nil), e.Embed(b, nil))
	ac := cosine(e.Embed(a, nil), e.Embed(c, nil))
	tv, err := teacher.Embed(context.Background(), []string{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("teacher cos(a,b) %.3f cos(a,c) %.3f; student %.3f %.3f", cosine(tv[0], tv[1]), cosine(tv[0], tv[2]), ab, ac)
	if (cosine(tv[0], tv[1]) > cosine(tv[0], tv[2])) != (ab > ac) {
		t.Errorf("student orders neighbours differently from the teacher")
	}
}
