package intent

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var toy = []Example{
	{"where is my order", "track_order"},
	{"track my package please", "track_order"},
	{"has my order shipped yet", "track_order"},
	{"status of order 12345", "track_order"},
	{"i want my money back", "get_refund"},
	{"refund my purchase", "get_refund"},
	{"how do i get a refund", "get_refund"},
	{"please give me a refund for the item", "get_refund"},
	{"let me talk to a person", "contact_human_agent"},
	{"i need a human agent", "contact_human_agent"},
	{"connect me with a real person", "contact_human_agent"},
	{"can i speak to an agent", "contact_human_agent"},
}

func toyOptions() Options {
	o := DefaultOptions()
	o.Bits = 14
	return o
}

func TestTrainSeparatesObviousIntents(t *testing.T) {
	m, err := Train(toy, toyOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, want string }{
		{"where is my package", "track_order"},
		{"I want a refund", "get_refund"},
		{"talk to a human please", "contact_human_agent"},
		{"track order 99887766", "track_order"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, conf := m.Predict(tc.text)
			if got != tc.want {
				t.Errorf("Predict(%q) = %q (%.2f), want %q; top %v", tc.text, got, conf, tc.want, m.Top(tc.text, 3))
			}
			if conf <= 1.0/3 || conf > 1 {
				t.Errorf("confidence %v not in (1/3, 1]", conf)
			}
		})
	}
	top := m.Top("refund", 10)
	if len(top) != 3 {
		t.Fatalf("Top clamps to the label count: got %d", len(top))
	}
	var sum float64
	for i, s := range top {
		sum += s.Prob
		if i > 0 && s.Prob > top[i-1].Prob {
			t.Errorf("Top not sorted: %v", top)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func TestTrainDeterministic(t *testing.T) {
	a, err := Train(toy, toyOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(toy, toyOptions())
	ba, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bb, _ := b.Marshal()
	if !bytes.Equal(ba, bb) {
		t.Fatal("two trainings on the same data differ")
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(nil, DefaultOptions()); err != ErrNoExamples {
		t.Errorf("no examples: err = %v", err)
	}
	bad := DefaultOptions()
	bad.Epochs = 0
	if _, err := Train(toy, bad); err == nil {
		t.Error("Epochs 0 accepted")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m, err := Train(toy, toyOptions())
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range toy {
		p1, p2 := m.Probs(e.Text), m2.Probs(e.Text)
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%q: probs differ after round trip: %v vs %v", e.Text, p1, p2)
			}
		}
	}
	for _, cut := range []int{0, 3, 10, len(data) / 2, len(data) - 1} {
		if _, err := Unmarshal(data[:cut]); err == nil {
			t.Errorf("truncated at %d accepted", cut)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	m, _ := Train(toy[:8], toyOptions())
	data, _ := m.Marshal()
	f.Add(data)
	f.Add([]byte("AISLEINT"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err == nil {
			m.Predict("where is my order")
		}
	})
}

// fixed is a classifier with canned answers, for checking metrics by hand.
type fixed map[string]string

func (f fixed) Predict(text string) (string, float64) { return f[text], 1 }

func TestEvaluateByHand(t *testing.T) {
	test := []Example{{"a1", "A"}, {"a2", "A"}, {"a3", "A"}, {"b1", "B"}, {"b2", "B"}, {"c1", "C"}}
	pred := fixed{"a1": "A", "a2": "A", "a3": "B", "b1": "B", "b2": "A", "c1": "D"}
	r := Evaluate(pred, test)
	// A: tp2 fp1 fn1 → P=2/3 R=2/3 F1=2/3. B: tp1 fp1 fn1 → 1/2. C: 0. D: 0.
	// accuracy 3/6, macro-F1 over {A,B,C,D} = (2/3+1/2)/4 = 7/24.
	if r.Accuracy != 0.5 {
		t.Errorf("accuracy = %v, want 0.5", r.Accuracy)
	}
	if math.Abs(r.MacroF1-7.0/24) > 1e-12 {
		t.Errorf("macro-F1 = %v, want %v", r.MacroF1, 7.0/24)
	}
	if s := r.PerLabel["A"]; math.Abs(s.F1-2.0/3) > 1e-12 || s.Support != 3 {
		t.Errorf("A = %+v", s)
	}
	if s := r.PerLabel["D"]; s.Support != 0 || s.F1 != 0 {
		t.Errorf("D = %+v", s)
	}
}

func TestBaselines(t *testing.T) {
	ex := append([]Example{{"where is it", "track_order"}}, toy...)
	maj := TrainMajority(ex)
	if maj.Label != "track_order" || math.Abs(maj.Share-5.0/13) > 1e-12 {
		t.Errorf("majority = %+v", maj)
	}
	kw := TrainKeyword(toy)
	if got, _ := kw.Predict("refund please"); got != "get_refund" {
		t.Errorf("keyword: refund please → %q", got)
	}
}

func TestSplitStratified(t *testing.T) {
	var ex []Example
	for i := 0; i < 10; i++ {
		ex = append(ex, Example{strings.Repeat("a", i+1), "A"})
	}
	for i := 0; i < 5; i++ {
		ex = append(ex, Example{strings.Repeat("b", i+1), "B"})
	}
	ex = append(ex, Example{"c", "C"})
	tr, te := Split(ex, 0.2, 1)
	count := func(s []Example, l string) (n int) {
		for _, e := range s {
			if e.Label == l {
				n++
			}
		}
		return n
	}
	if count(te, "A") != 2 || count(te, "B") != 1 || count(te, "C") != 0 || len(tr)+len(te) != len(ex) {
		t.Errorf("split: train %d test %d (A %d B %d C %d)", len(tr), len(te), count(te, "A"), count(te, "B"), count(te, "C"))
	}
	tr2, te2 := Split(ex, 0.2, 1)
	if len(tr2) != len(tr) || te2[0] != te[0] || te2[len(te2)-1] != te[len(te)-1] {
		t.Error("split not deterministic")
	}
}

func TestReadBitext(t *testing.T) {
	ok := "flags,instruction,category,intent\nB,where is my order 123?,ORDER,track_order\nQ,\"refund, please\",REFUND,get_refund\n"
	ex, err := ReadBitext(strings.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[1] != (Example{"refund, please", "get_refund"}) {
		t.Errorf("got %v", ex)
	}
	for name, in := range map[string]string{
		"empty":      "",
		"no columns": "a,b\n1,2\n",
		"empty text": "instruction,intent\nhello,greet\n ,greet\n",
		"no rows":    "instruction,intent\n",
		"ragged":     "instruction,intent\nhello,greet,extra\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadBitext(strings.NewReader(in))
			if err == nil {
				t.Fatal("accepted")
			}
			if name == "empty text" && !strings.Contains(err.Error(), "line 3") {
				t.Errorf("error lacks the line: %v", err)
			}
		})
	}
}

func FuzzReadBitext(f *testing.F) {
	f.Add("instruction,intent\nhello,greet\n")
	f.Add("instruction,intent\n\"a\nb\",x\n")
	f.Fuzz(func(t *testing.T, s string) { ReadBitext(strings.NewReader(s)) })
}

// bitextPath finds the real training file, or "" when it is not here.
func bitextPath() string {
	dirs := []string{
		filepath.Join("..", "..", "..", "shared", "data"),       // shared/ inside the checkout
		filepath.Join("..", "..", "..", "..", "shared", "data"), // shared/ beside it
	}
	if d := os.Getenv("AISLE_DATA"); d != "" {
		dirs = []string{d}
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "bitext_customer_support", "train.csv")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestBitextHoldout(t *testing.T) {
	path := bitextPath()
	if path == "" {
		t.Skip("Bitext train.csv not found: set AISLE_DATA to the folder holding bitext_customer_support/train.csv")
	}
	if testing.Short() {
		t.Skip("-short: skipping training on the full Bitext file")
	}
	ex, err := LoadBitext(path)
	if err != nil {
		t.Fatal(err)
	}
	train, test := Split(ex, 0.2, 1)
	start := time.Now()
	m, err := Train(train, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	r := Evaluate(m, test)
	maj := Evaluate(TrainMajority(train), test)
	kw := Evaluate(TrainKeyword(train), test)
	t.Logf("Bitext %d train / %d test, %d labels: aisle accuracy %.4f macro-F1 %.4f (train %v); majority %.4f/%.4f; keyword %.4f/%.4f",
		len(train), len(test), len(m.Labels()), r.Accuracy, r.MacroF1, took.Round(time.Millisecond), maj.Accuracy, maj.MacroF1, kw.Accuracy, kw.MacroF1)
	if r.Accuracy < 0.9 {
		t.Errorf("accuracy %.4f < 0.9", r.Accuracy)
	}
	if r.Accuracy <= kw.Accuracy {
		t.Errorf("aisle %.4f does not beat the keyword baseline %.4f", r.Accuracy, kw.Accuracy)
	}
}
