package review

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// Point is one pro or con: a representative review sentence and the
// reviews that say the same thing.
type Point struct {
	Text    string   `json:"text"`
	Reviews []string `json:"reviews"` // review ids, in input order
	Support int      `json:"support"` // number of distinct reviews
	// Sentiment is the mean sentence polarity of the point's group, in [-1, 1].
	Sentiment float64 `json:"sentiment"`
	score     float64
}

// Summary is a "customers say" summary of one item's reviews.
type Summary struct {
	Verdict string  `json:"verdict"`
	Pros    []Point `json:"pros"`
	Cons    []Point `json:"cons"`
	// Stars is the mean rating and Reviews the number of reviews used.
	Stars   float64 `json:"stars"`
	Reviews int     `json:"reviews"`
	// Sentiment is the mean review polarity in [-1, 1].
	Sentiment float64 `json:"sentiment"`
}

// SummaryOptions configures Summarize; the zero value uses the defaults.
type SummaryOptions struct {
	MaxPros, MaxCons int     // default 4 and 3
	MinWords         int     // shortest sentence considered (default 4)
	MaxWords         int     // longest sentence considered (default 45)
	Cluster          float64 // cosine to join an aspect group (default 0.25)
	Redundancy       float64 // cosine above which a candidate is dropped as a repeat (default 0.5)
	Lambda           float64 // MMR trade-off between score and novelty (default 0.7)
	// StarWeight mixes the review's star rating into each sentence's
	// polarity: (1-w)·sentence + w·(stars-3)/2 (default 0.3).
	StarWeight float64
}

func (o SummaryOptions) withDefaults() SummaryOptions {
	if o.MaxPros <= 0 {
		o.MaxPros = 4
	}
	if o.MaxCons <= 0 {
		o.MaxCons = 3
	}
	if o.MinWords <= 0 {
		o.MinWords = 4
	}
	if o.MaxWords <= 0 {
		o.MaxWords = 45
	}
	if o.Cluster <= 0 {
		o.Cluster = 0.25
	}
	if o.Redundancy <= 0 {
		o.Redundancy = 0.5
	}
	if o.Lambda <= 0 {
		o.Lambda = 0.7
	}
	if o.StarWeight == 0 {
		o.StarWeight = 0.3
	}
	return o
}

type sentence struct {
	text   string
	review int
	vec    sparse
	cent   float64
	polar  float64
}

// Summarize builds an extractive summary of reviews (usually one item's).
// Reviews are split into sentences, each represented by TF-IDF over this
// item's sentences; sentences are ranked by centrality (mean cosine to
// sentences of other reviews), grouped greedily into aspects by cosine,
// each group scored by its best centrality × the number of reviews in it,
// and the groups' best sentences are picked by maximal marginal relevance.
// A point is a pro when its group's polarity is ≥ 0 and a con otherwise.
// s may be nil: polarity then comes from star ratings alone. The result
// depends only on the input order and options.
func Summarize(reviews []catalog.Review, s *Sentiment, opt SummaryOptions) Summary {
	opt = opt.withDefaults()
	var sum Summary
	sum.Reviews = len(reviews)
	if len(reviews) == 0 {
		sum.Verdict = "No reviews yet."
		return sum
	}
	var sents []*sentence
	var revPolar float64
	for ri, r := range reviews {
		sum.Stars += r.Stars
		text := r.Text
		if strings.TrimSpace(text) == "" {
			text = r.Title
		}
		starPol := clamp((r.Stars-3)/2, -1, 1)
		if s != nil {
			revPolar += (1-opt.StarWeight)*s.Score(text) + opt.StarWeight*starPol
		} else {
			revPolar += starPol
		}
		for _, t := range SplitSentences(text) {
			n := len(strings.Fields(t))
			if n < opt.MinWords || n > opt.MaxWords || strings.HasSuffix(t, "…") {
				// Too short or long to quote, or cut off mid-thought.
				continue
			}
			p := starPol
			if s != nil {
				p = (1-opt.StarWeight)*s.Score(t) + opt.StarWeight*starPol
			}
			sents = append(sents, &sentence{text: t, review: ri, polar: p})
		}
	}
	sum.Stars /= float64(len(reviews))
	sum.Sentiment = revPolar / float64(len(reviews))
	tfidf(sents)
	for i, a := range sents {
		var c float64
		var n int
		for j, b := range sents {
			if j == i || b.review == a.review {
				continue
			}
			c += a.vec.dot(b.vec)
			n++
		}
		if n > 0 {
			a.cent = c / float64(n)
		}
	}
	// order by centrality, ties by position: deterministic
	order := make([]*sentence, len(sents))
	copy(order, sents)
	sort.SliceStable(order, func(i, j int) bool { return order[i].cent > order[j].cent })

	type group struct {
		members []*sentence
	}
	var groups []*group
	for _, x := range order {
		var best *group
		bestSim := opt.Cluster
		for _, g := range groups {
			if sim := x.vec.dot(g.members[0].vec); sim >= bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil {
			best = &group{}
			groups = append(groups, best)
		}
		best.members = append(best.members, x)
	}
	var cands []Point
	var candVec []sparse
	for _, g := range groups {
		seen := map[int]bool{}
		var pol float64
		for _, m := range g.members {
			seen[m.review] = true
			pol += m.polar
		}
		pol /= float64(len(g.members))
		var idx []int
		for k := range seen {
			idx = append(idx, k)
		}
		sort.Ints(idx)
		ids := make([]string, len(idx))
		for k, ri := range idx {
			ids[k] = reviews[ri].ID
		}
		rep := g.members[0]
		cands = append(cands, Point{
			Text: rep.text, Reviews: ids, Support: len(ids), Sentiment: pol,
			score: (rep.cent + 1e-3) * float64(len(ids)),
		})
		candVec = append(candVec, rep.vec)
	}
	// MMR over all candidates; each pick goes to pros or cons by polarity.
	maxScore := 0.0
	for _, c := range cands {
		maxScore = math.Max(maxScore, c.score)
	}
	used := make([]bool, len(cands))
	var picked []sparse
	seenText := map[string]bool{}
	for len(sum.Pros) < opt.MaxPros || len(sum.Cons) < opt.MaxCons {
		best, bestV := -1, math.Inf(-1)
		for i, c := range cands {
			if used[i] {
				continue
			}
			isPro := c.Sentiment >= 0
			if isPro && len(sum.Pros) >= opt.MaxPros || !isPro && len(sum.Cons) >= opt.MaxCons {
				continue
			}
			red := 0.0
			for _, p := range picked {
				red = math.Max(red, candVec[i].dot(p))
			}
			if red > opt.Redundancy {
				continue
			}
			v := opt.Lambda*c.score/math.Max(maxScore, 1e-12) - (1-opt.Lambda)*red
			if v > bestV {
				best, bestV = i, v
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		c := cands[best]
		key := strings.ToLower(strings.Join(RougeTokens(c.Text), " "))
		if seenText[key] || nearDuplicate(c.Text, sum.Pros) || nearDuplicate(c.Text, sum.Cons) {
			continue
		}
		seenText[key] = true
		picked = append(picked, candVec[best])
		if c.Sentiment >= 0 {
			sum.Pros = append(sum.Pros, c)
		} else {
			sum.Cons = append(sum.Cons, c)
		}
	}
	sum.Verdict = verdict(sum)
	return sum
}

func verdict(s Summary) string {
	mood := "Customers are mixed"
	switch {
	case s.Stars >= 4 && s.Sentiment > 0.1:
		mood = "Most customers are happy"
	case s.Stars <= 2.5 && s.Sentiment < 0:
		mood = "Most customers are unhappy"
	case s.Stars >= 3.5 && s.Sentiment >= 0:
		mood = "Customers are mostly positive"
	}
	noun := "reviews"
	if s.Reviews == 1 {
		noun = "review"
	}
	v := fmt.Sprintf("%s (%.1f★ from %d %s)", mood, s.Stars, s.Reviews, noun)
	var parts []string
	if len(s.Pros) > 0 {
		parts = append(parts, "they like: "+shorten(s.Pros[0].Text, 12))
	}
	if len(s.Cons) > 0 {
		parts = append(parts, "some mention: "+shorten(s.Cons[0].Text, 12))
	}
	if len(parts) > 0 {
		v += ": " + strings.Join(parts, "; ")
	}
	return v
}

func shorten(s string, words int) string {
	f := strings.Fields(s)
	if len(f) <= words {
		return strings.TrimRight(s, ".!? ")
	}
	return strings.Join(f[:words], " ") + "…"
}

// Text renders the summary as plain prose of at most maxWords words
// (0 = no limit): optionally the verdict, then the points in order of
// score, pros and cons interleaved by score.
func (s Summary) Text(maxWords int, withVerdict bool) string {
	var parts []string
	if withVerdict {
		parts = append(parts, s.Verdict+".")
	}
	pts := append(append([]Point(nil), s.Pros...), s.Cons...)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].score > pts[j].score })
	for _, p := range pts {
		parts = append(parts, p.Text)
	}
	return truncateWords(strings.Join(parts, " "), maxWords)
}

func truncateWords(s string, n int) string {
	f := strings.Fields(s)
	if n <= 0 || len(f) <= n {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:n], " ")
}

func clamp(x, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, x)) }

// --- TF-IDF --------------------------------------------------------------

type sparse struct {
	keys []string // sorted
	vals []float64
}

func (a sparse) dot(b sparse) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.keys) && j < len(b.keys) {
		switch {
		case a.keys[i] == b.keys[j]:
			s += a.vals[i] * b.vals[j]
			i++
			j++
		case a.keys[i] < b.keys[j]:
			i++
		default:
			j++
		}
	}
	return s
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at for with from by as is are was were be been being
	it its it's this that these those i me my we our you your he she they them their his her him
	have has had do does did so than then there here just very really also too can could would should will
	am im i'm i've ive what which who when where how all any some more most much about into out up
	one get got go s t d ll ve re m`) {
		m[w] = true
	}
	return m
}()

func contentTokens(s string) []string {
	var out []string
	for _, t := range RougeTokens(s) {
		if !stopwords[t] {
			out = append(out, stem(t))
		}
	}
	return out
}

// stem is a light suffix stripper (plural and -ing/-ed/-ly), enough to
// group "fits"/"fit" and "loved"/"love" for sentence similarity.
func stem(w string) string {
	if len(w) <= 4 {
		return strings.TrimSuffix(w, "s")
	}
	for _, suf := range []string{"ing", "edly", "ed", "ly", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

func tfidf(sents []*sentence) {
	df := map[string]int{}
	tfs := make([]map[string]float64, len(sents))
	for i, s := range sents {
		tf := map[string]float64{}
		for _, t := range contentTokens(s.text) {
			tf[t]++
		}
		tfs[i] = tf
		for t := range tf {
			df[t]++
		}
	}
	n := float64(len(sents))
	for i, s := range sents {
		tf := tfs[i]
		keys := make([]string, 0, len(tf))
		for t := range tf {
			keys = append(keys, t)
		}
		sort.Strings(keys)
		vals := make([]float64, len(keys))
		var norm float64
		for k, t := range keys {
			v := (1 + math.Log(tf[t])) * math.Log(1+n/float64(df[t]))
			vals[k] = v
			norm += v * v
		}
		if norm > 0 {
			norm = math.Sqrt(norm)
			for k := range vals {
				vals[k] /= norm
			}
		}
		s.vec = sparse{keys, vals}
	}
}

// CentroidReview is an extractive baseline: the review whose TF-IDF vector
// is closest to the mean of all reviews' vectors, cut to maxWords words.
func CentroidReview(reviews []catalog.Review, maxWords int) string {
	if len(reviews) == 0 {
		return ""
	}
	ss := make([]*sentence, len(reviews))
	for i, r := range reviews {
		ss[i] = &sentence{text: r.Text, review: i}
	}
	tfidf(ss)
	best, bestSim := 0, math.Inf(-1)
	for i, a := range ss {
		var sim float64
		for j, b := range ss {
			if i != j {
				sim += a.vec.dot(b.vec)
			}
		}
		if sim > bestSim {
			best, bestSim = i, sim
		}
	}
	return truncateWords(reviews[best].Text, maxWords)
}

// nearDuplicate reports whether most of text's content words (longer than
// three letters) are in one of the points already picked: "the string
// snapped on the first day" repeats "poor string, it snapped the first
// day" even when their vectors differ.
func nearDuplicate(text string, picked []Point) bool {
	words := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, t := range RougeTokens(s) {
			if len(t) > 3 {
				m[strings.ToLower(t)] = true
			}
		}
		return m
	}
	a := words(text)
	if len(a) == 0 {
		return false
	}
	for _, p := range picked {
		b := words(p.Text)
		small, large := a, b
		if len(b) < len(a) {
			small, large = b, a
		}
		if len(small) == 0 {
			continue
		}
		shared := 0
		for w := range small {
			if large[w] {
				shared++
			}
		}
		if float64(shared) >= 0.6*float64(len(small)) {
			return true
		}
	}
	return false
}
