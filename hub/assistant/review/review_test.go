package review

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestSplitSentences(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"I love it. It fits well!", []string{"I love it.", "It fits well!"}},
		{"Great for e.g. travel and work. Recommended.", []string{"Great for e.g. travel and work.", "Recommended."}},
		{"Mr. Smith liked it. So did I.", []string{"Mr. Smith liked it.", "So did I."}},
		{"It holds 3.5 liters. Nice.", []string{"It holds 3.5 liters.", "Nice."}},
		{"Wow!!! Best buy ever?! Yes.", []string{"Wow!!!", "Best buy ever?!", "Yes."}},
		{"Well... it works. Hmm... Not sure.", []string{"Well... it works.", "Hmm...", "Not sure."}},
		{"sunglasses.I guess it is fine", []string{"sunglasses.", "I guess it is fine"}},
		{"Made in the U.S. and sturdy", []string{"Made in the U.S. and sturdy"}},
		{"line one\nline two", []string{"line one", "line two"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := SplitSentences(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitSentences(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRougeHandChecked(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	// identical
	if r := Score("The cat sat.", "the CAT sat"); !near(r.R1, 1) || !near(r.R2, 1) || !near(r.RL, 1) {
		t.Errorf("identical: %+v", r)
	}
	// cand "the cat was found under the bed" (7), ref "the cat was under the bed" (6)
	// R1 overlap 6 → P 6/7 R 1 → F 12/13; R2 cand bigrams 6, ref 5, overlap
	// {the cat, cat was, under the, the bed} = 4 → P 4/6 R 4/5 → F 8/11;
	// LCS = 6 → same as R1.
	r := Score("the cat was found under the bed", "the cat was under the bed")
	if !near(r.R1, 12.0/13) || !near(r.R2, 8.0/11) || !near(r.RL, 12.0/13) {
		t.Errorf("classic: %+v, want 12/13 8/11 12/13", r)
	}
	// clipping: "the the the" vs "the cat": overlap 1 → P 1/3 R 1/2 → F 0.4; LCS 1 → 0.4
	if r := Score("the the the", "the cat"); !near(r.R1, 0.4) || r.R2 != 0 || !near(r.RL, 0.4) {
		t.Errorf("clipping: %+v", r)
	}
	// LCS order: "b a c" vs "a b c": LCS 2 → F 2/3; unigram F 1
	if r := Score("b a c", "a b c"); !near(r.RL, 2.0/3) || !near(r.R1, 1) {
		t.Errorf("lcs: %+v", r)
	}
	if r := Score("", "a"); r != (Rouge{}) {
		t.Errorf("empty: %+v", r)
	}
	m := ScoreMulti("a b", []string{"a b", "c d"})
	if !near(m.R1, 0.5) || !near(m.R2, 0.5) {
		t.Errorf("multi: %+v", m)
	}
}

var posTexts = []string{
	"I love this, it works great and looks beautiful.",
	"Excellent quality, highly recommend it to everyone.",
	"Great product, very happy with it, perfect fit.",
	"Amazing value, works perfectly, love it.",
	"Wonderful soft fabric and great colour, would buy again.",
	"Best purchase this year, excellent and sturdy.",
}
var negTexts = []string{
	"Terrible, it broke after one day and I want a refund.",
	"Poor quality, cheap plastic, do not buy.",
	"Awful smell and it stopped working, waste of money.",
	"Disappointed, the strap broke and it is not good.",
	"Horrible, returned it, worst product ever.",
	"Not worth it, cheap and flimsy, broke quickly.",
}

func toySentiment(t *testing.T) *Sentiment {
	t.Helper()
	var texts []string
	var stars []float64
	for range 3 {
		for _, p := range posTexts {
			texts, stars = append(texts, p), append(stars, 5)
		}
		for _, n := range negTexts {
			texts, stars = append(texts, n), append(stars, 1)
		}
	}
	s, err := TrainSentiment(texts, stars, SentimentOptions{Bits: 14})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSentimentSeparates(t *testing.T) {
	s := toySentiment(t)
	for _, p := range []string{"I love it, excellent quality", "great and beautiful, highly recommend"} {
		if v := s.Score(p); v <= 0.2 || v > 1 {
			t.Errorf("Score(%q) = %.3f, want clearly positive", p, v)
		}
	}
	for _, n := range []string{"terrible, it broke, waste of money", "cheap and flimsy, awful"} {
		if v := s.Score(n); v >= -0.2 || v < -1 {
			t.Errorf("Score(%q) = %.3f, want clearly negative", n, v)
		}
	}
	if _, err := TrainSentiment([]string{"a"}, []float64{5}, SentimentOptions{}); err == nil {
		t.Error("one class: want error")
	}
}

func TestNegationTokens(t *testing.T) {
	got := SentimentTokens("It's not good, but I don't hate it.")
	want := []string{"it's", "not", "not_good", ",", "but", "i", "don't", "not_hate", "not_it", "."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
}

func TestDeterminism(t *testing.T) {
	a, b := toySentiment(t), toySentiment(t)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two trainings differ")
	}
	rs := toyReviews()
	if x, y := Summarize(rs, a, SummaryOptions{}), Summarize(rs, b, SummaryOptions{}); !reflect.DeepEqual(x, y) {
		t.Fatal("two summaries differ")
	}
}

func toyReviews() []catalog.Review {
	return []catalog.Review{
		{ID: "r1", Stars: 5, Text: "The fabric is soft and comfortable. The colour is beautiful."},
		{ID: "r2", Stars: 5, Text: "Really soft fabric, very comfortable to wear. Great value for the price."},
		{ID: "r3", Stars: 4, Text: "Comfortable and soft fabric. The zipper broke after a week, terrible."},
		{ID: "r4", Stars: 2, Text: "The zipper broke quickly and it is cheap, awful. The fabric is soft though."},
		{ID: "r5", Stars: 1, Text: "Zipper broke on day two, terrible quality, waste of money."},
	}
}

func TestSummarizeToy(t *testing.T) {
	s := toySentiment(t)
	sum := Summarize(toyReviews(), s, SummaryOptions{})
	t.Logf("%+v", sum)
	if len(sum.Pros) == 0 || len(sum.Cons) == 0 {
		t.Fatalf("want pros and cons, got %+v", sum)
	}
	if !strings.Contains(strings.ToLower(sum.Pros[0].Text), "soft") {
		t.Errorf("top pro %q, want the soft-fabric aspect", sum.Pros[0].Text)
	}
	if !strings.Contains(strings.ToLower(sum.Cons[0].Text), "zipper") {
		t.Errorf("top con %q, want the zipper aspect", sum.Cons[0].Text)
	}
	ids := map[string]bool{"r1": true, "r2": true, "r3": true, "r4": true, "r5": true}
	seen := map[string]bool{}
	for _, p := range append(append([]Point(nil), sum.Pros...), sum.Cons...) {
		if len(p.Reviews) == 0 || p.Support != len(p.Reviews) {
			t.Errorf("point %q: reviews %v support %d", p.Text, p.Reviews, p.Support)
		}
		for _, id := range p.Reviews {
			if !ids[id] {
				t.Errorf("point %q cites unknown review %q", p.Text, id)
			}
		}
		if seen[p.Text] {
			t.Errorf("duplicate point %q", p.Text)
		}
		seen[p.Text] = true
	}
	if sum.Cons[0].Support < 2 {
		t.Errorf("zipper con support %d, want ≥ 2 reviews behind it", sum.Cons[0].Support)
	}
	for _, p := range sum.Pros {
		if p.Sentiment < 0 {
			t.Errorf("pro %q has negative sentiment %.2f", p.Text, p.Sentiment)
		}
	}
	if !strings.HasPrefix(sum.Verdict, "Customers are") && !strings.HasPrefix(sum.Verdict, "Most customers") {
		t.Errorf("verdict %q", sum.Verdict)
	}
	if got := Summarize(nil, s, SummaryOptions{}); got.Verdict == "" || len(got.Pros) != 0 {
		t.Errorf("empty: %+v", got)
	}
}

// TestAllBeautySentiment trains on 80 % of All_Beauty_5 and reports
// accuracy, macro-F1 and AUC on the held-out 20 % (every fifth review).
func TestAllBeautySentiment(t *testing.T) {
	const path = "../../../../shared/data/amazon_reviews_2018/All_Beauty_5.json.gz"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("All_Beauty data not present (%v); skipping the real-data sentiment check", err)
	}
	defer f.Close()
	texts, stars, err := ReadRated(f)
	if err != nil {
		t.Fatal(err)
	}
	r, err := HoldOutSentiment(texts, stars, SentimentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("All_Beauty held-out 20%%: %+v", r)
	if r.MacroF1 < 0.85 || r.AUC < 0.85 || r.MacroF1 <= r.MajorityMacroF1 {
		t.Errorf("macro-F1 %.3f AUC %.3f (majority %.3f), want ≥ 0.85 and above the majority class", r.MacroF1, r.AUC, r.MajorityMacroF1)
	}
}

func TestConfusionByHand(t *testing.T) {
	var c confusion
	for _, x := range [][2]bool{{true, true}, {true, true}, {true, false}, {false, false}, {false, true}} {
		c.add(x[0], x[1])
	}
	// Positive: P=2/3, R=2/3, F1=2/3; negative: P=1/2, R=1/2, F1=1/2.
	if got, want := c.macroF1(), (2.0/3+0.5)/2; math.Abs(got-want) > 1e-12 || c.accuracy() != 0.6 {
		t.Fatalf("macro-F1 %v accuracy %v, want %v 0.6", got, c.accuracy(), want)
	}
}

// TestFewSumVal summarises the FewSum Amazon val products and checks the
// ROUGE stays at the level measured when the defaults were tuned.
func TestFewSumVal(t *testing.T) {
	f, err := os.Open("../../../../shared/data/fewsum/amazon/val.csv")
	if err != nil {
		t.Skipf("FewSum data not present (%v); skipping the real-data summary check", err)
	}
	defer f.Close()
	ps, err := ReadFewSum(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 || len(ps[0].Reviews) != 8 || len(ps[0].References) != 3 || ps[0].Reviews[0].Stars == 0 {
		t.Fatalf("parse: %d products, first %+v", len(ps), ps[0])
	}
	var r Rouge
	for _, p := range ps {
		sum := Summarize(p.Reviews, nil, SummaryOptions{})
		for _, pt := range append(sum.Pros, sum.Cons...) {
			if len(pt.Reviews) == 0 {
				t.Errorf("%s: point without reviews", p.Group)
			}
		}
		x := ScoreMulti(sum.Text(70, false), p.References)
		r.R1, r.R2, r.RL = r.R1+x.R1, r.R2+x.R2, r.RL+x.RL
	}
	n := float64(len(ps))
	t.Logf("FewSum val (star polarity only): R1 %.2f R2 %.2f RL %.2f", 100*r.R1/n, 100*r.R2/n, 100*r.RL/n)
	if r.R1/n < 0.25 {
		t.Errorf("ROUGE-1 %.3f fell below 0.25", r.R1/n)
	}
}

func TestCutSentencesAreNotQuoted(t *testing.T) {
	rs := []catalog.Review{
		{ID: "a", Item: "x", Stars: 5, Text: "The kite flies really well in the park. Good value for the…"},
		{ID: "b", Item: "x", Stars: 5, Text: "The kite flies really well even in light wind."},
	}
	sum := Summarize(rs, nil, SummaryOptions{})
	for _, p := range append(sum.Pros, sum.Cons...) {
		if strings.HasSuffix(p.Text, "…") {
			t.Fatalf("a cut-off sentence was quoted: %q", p.Text)
		}
	}
	if len(sum.Pros) == 0 {
		t.Fatal("no pros from two happy reviews")
	}
}

func TestNearDuplicatePoints(t *testing.T) {
	picked := []Point{{Text: "The string snapped on the first day."}}
	if !nearDuplicate("Poor string, it snapped on the first day of use.", picked) {
		t.Error("a reworded repeat was not caught")
	}
	if nearDuplicate("The colours are bright and it flies well.", picked) {
		t.Error("a different point was taken for a repeat")
	}
}
