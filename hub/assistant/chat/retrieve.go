package chat

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/assistant/review"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/embed"
)

// Kinds of passages, as they appear in an answer's sources.
const (
	KindItem   = "item"
	KindReview = "review"
	KindFAQ    = "faq"
	KindQA     = "qa"
)

// doc is one retrievable passage of a shop's own data.
type doc struct {
	kind  string
	id    string // item, review or FAQ document id
	item  string // the item the passage is about; "" for FAQ passages
	title string // item title, or FAQ title and section heading
	field string // item passages: "title", "description", "details"
	text  string
	stars float64 // reviews
	// answer is a question-and-answer pair's answer; text holds the
	// question and the answer, so either can be matched.
	question, answer string
}

type posting struct {
	doc int32
	tf  uint16
}

// corpus is a hybrid lexical + embedding index over a shop's catalog,
// reviews and FAQ: BM25 over terms, plus cosine similarity in the shop's
// text-embedding space when the shop's snapshot carries an embedder.
type corpus struct {
	docs     []doc
	lens     []float32
	avgLen   float64
	postings map[string][]posting
	byItem   map[string][]int32

	emb  *embed.Embedder
	vecs []float32 // len(docs)×dims, L2-normalised; nil without emb
}

// BM25 parameters and the embedding share of a hybrid score.
const (
	bm25K1    = 1.2
	bm25B     = 0.75
	embWeight = 0.35
)

// newCorpus indexes products, reviews and FAQ documents. Review sentences
// and FAQ paragraphs are separate passages so an answer can quote the one
// that answers the question; passages that read like instructions to an
// assistant are left out (see looksLikeInjection).
func newCorpus(products []catalog.Product, reviews []catalog.Review, qa []catalog.QA, faq []store.FAQ, emb *embed.Embedder) *corpus {
	c := &corpus{postings: map[string][]posting{}, byItem: map[string][]int32{}, emb: emb}
	add := func(d doc) {
		if strings.TrimSpace(d.text) == "" || looksLikeInjection(d.text) {
			return
		}
		c.docs = append(c.docs, d)
	}
	for i := range products {
		p := &products[i]
		add(doc{kind: KindItem, id: p.ID, item: p.ID, title: p.Title, field: "title", text: p.Title + ". " + strings.Join(p.Category, ", ") + ". " + p.Brand})
		for _, ch := range chunks(p.Description) {
			add(doc{kind: KindItem, id: p.ID, item: p.ID, title: p.Title, field: "description", text: ch})
		}
		keys := make([]string, 0, len(p.Attributes))
		for k := range p.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			add(doc{kind: KindItem, id: p.ID, item: p.ID, title: p.Title, field: "details", text: attributeName(k) + ": " + p.Attributes[k]})
		}
	}
	for _, r := range reviews {
		for _, s := range review.SplitSentences(r.Title + ". " + r.Text) {
			if strings.HasSuffix(s, "…") || len(strings.Fields(s)) < 3 {
				continue // cut off by the source, or too short to say anything
			}
			add(doc{kind: KindReview, id: r.ID, item: r.Item, text: s, stars: r.Stars})
		}
	}
	for _, q := range qa {
		if looksLikeInjection(q.Question) || looksLikeInjection(q.Answer) {
			continue
		}
		add(doc{kind: KindQA, id: q.ID, item: q.Item, text: q.Question + " " + q.Answer, question: q.Question, answer: q.Answer})
	}
	for _, f := range faq {
		for _, sec := range faqSections(f) {
			add(doc{kind: KindFAQ, id: f.ID, title: sec.title, text: sec.text})
		}
	}
	c.index()
	return c
}

func (c *corpus) index() {
	var buf []string
	total := 0.0
	c.lens = make([]float32, len(c.docs))
	for i := range c.docs {
		d := &c.docs[i]
		buf = terms(d.text, buf)
		c.lens[i] = float32(len(buf))
		total += float64(len(buf))
		tf := map[string]uint16{}
		for _, t := range buf {
			if tf[t] < math.MaxUint16 {
				tf[t]++
			}
		}
		for t, n := range tf {
			c.postings[t] = append(c.postings[t], posting{int32(i), n})
		}
		if d.item != "" {
			c.byItem[d.item] = append(c.byItem[d.item], int32(i))
		}
	}
	if len(c.docs) > 0 {
		c.avgLen = total / float64(len(c.docs))
	}
	if c.emb != nil {
		dims := c.emb.Dims()
		c.vecs = make([]float32, len(c.docs)*dims)
		for i := range c.docs {
			c.emb.Embed(c.docs[i].text, c.vecs[i*dims:(i+1)*dims])
		}
	}
}

// idf is BM25's inverse document frequency of a term.
func (c *corpus) idf(t string) float64 {
	n := float64(len(c.postings[t]))
	return math.Log(1 + (float64(len(c.docs))-n+0.5)/(n+0.5))
}

// hit is one retrieved passage.
type hit struct {
	doc   int32
	score float64 // hybrid score
	// coverage is the share of the query's term weight (idf) the passage
	// contains: 1 when every query term occurs in it.
	coverage float64
}

// search returns the k best passages for query among those keep accepts
// (nil keeps all). Only passages sharing at least one term with the query
// are returned: the embedding reorders lexical matches, it never adds a
// passage with no word in common, so an answer always quotes something
// about what was asked.
func (c *corpus) search(query string, k int, keep func(*doc) bool) []hit {
	qt := uniq(terms(query, nil))
	if len(qt) == 0 || len(c.docs) == 0 {
		return nil
	}
	var qidf float64
	w := make([]float64, len(qt))
	for i, t := range qt {
		w[i] = c.idf(t)
		qidf += w[i]
	}
	score := map[int32]float64{}
	cover := map[int32]float64{}
	for i, t := range qt {
		for _, p := range c.postings[t] {
			if keep != nil && !keep(&c.docs[p.doc]) {
				continue
			}
			tf := float64(p.tf)
			norm := bm25K1 * (1 - bm25B + bm25B*float64(c.lens[p.doc])/c.avgLen)
			score[p.doc] += w[i] * tf * (bm25K1 + 1) / (tf + norm)
			cover[p.doc] += w[i]
		}
	}
	if len(score) == 0 {
		return nil
	}
	var qv []float32
	if c.emb != nil {
		qv = c.emb.Embed(query, nil)
	}
	hits := make([]hit, 0, len(score))
	best := 0.0
	for _, s := range score {
		best = max(best, s)
	}
	for d, s := range score {
		h := hit{doc: d, score: s / best, coverage: cover[d] / qidf}
		if qv != nil {
			dims := len(qv)
			h.score += embWeight * float64(dot(qv, c.vecs[int(d)*dims:(int(d)+1)*dims]))
		}
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc)
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func uniq(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

type section struct{ title, text string }

// faqSections splits a markdown FAQ document into passages: one per
// paragraph, each titled with the document title and the nearest heading.
// Markdown markup is removed so passages read as plain text.
func faqSections(f store.FAQ) []section {
	var out []section
	heading := ""
	var para []string
	flush := func() {
		if len(para) > 0 {
			t := f.Title
			if heading != "" && !strings.EqualFold(heading, f.Title) {
				t += " — " + heading
			}
			text := strings.Join(para, " ")
			if heading != "" && !strings.EqualFold(heading, f.Title) {
				// The heading is often the question the paragraph answers.
				text = heading + " " + text
			}
			out = append(out, section{title: t, text: plainMarkdown(text)})
			para = para[:0]
		}
	}
	for _, line := range strings.Split(f.Body, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "":
			flush()
		case strings.HasPrefix(l, "#"):
			flush()
			heading = plainMarkdown(strings.TrimSpace(strings.TrimLeft(l, "#")))
		default:
			para = append(para, strings.TrimLeft(l, "-*+> "))
		}
	}
	flush()
	return out
}

// plainMarkdown drops emphasis, code marks and link targets:
// "[returns page](/returns)" becomes "returns page".
func plainMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '_', '`':
		case ']':
			if i+1 < len(s) && s[i+1] == '(' {
				if j := strings.IndexByte(s[i:], ')'); j > 0 {
					i += j
				}
			}
		case '[':
		default:
			b.WriteByte(c)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// describe names a passage for an answer's sources.
func (d *doc) source() Source {
	s := Source{Kind: d.kind, ID: d.id, Title: d.title}
	switch d.kind {
	case KindReview:
		s.Item = d.item
		s.Title = fmt.Sprintf("review, %s stars", strconv.FormatFloat(d.stars, 'f', -1, 64))
	case KindQA:
		s.Item, s.Title = d.item, "question: "+clip(d.question, 120)
	}
	return s
}

// searchFiller are words of a search request that name no product
// ("do you sell …", "I'm looking for …").
var searchFiller = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("sell sold stock looking look find show search recommend suggest idea something anything good best great nice cheap new popular available shop store have got buy purchase want wanted need option options " +
		// Who it is for says little about what it is ("a puzzle for my grandad").
		"grandad granddad grandpa grandma granny nan nana nephew niece son daughter mum mom dad father mother wife husband friend boyfriend girlfriend brother sister cousin teacher") {
		m[stem(w)] = true
	}
	return m
}()

// itemMatch is one product matching a search.
type itemMatch struct {
	item     string
	coverage float64 // share of the query's term weight in the product's own text
	score    float64
}

// searchItems returns the products whose own passages (title, description,
// details; not reviews) together hold at least minSearchCoverage of the
// query's term weight and relSearchCoverage of the best product's, best
// first.
func (c *corpus) searchItems(query string) []itemMatch {
	var qt []string
	for _, t := range uniq(terms(query, nil)) {
		if !searchFiller[t] {
			qt = append(qt, t)
		}
	}
	if len(qt) == 0 || len(qt) > 64 {
		return nil
	}
	var total float64
	w := make([]float64, len(qt))
	for i, t := range qt {
		w[i] = c.idf(t)
		total += w[i]
	}
	type acc struct {
		mask  uint64
		score float64
	}
	// Coverage is per passage: one passage must say most of what was
	// asked, not scattered words across a long description.
	got := map[int32]*acc{}
	for i, t := range qt {
		for _, p := range c.postings[t] {
			d := &c.docs[p.doc]
			if d.kind != KindItem {
				continue
			}
			a := got[p.doc]
			if a == nil {
				a = &acc{}
				got[p.doc] = a
			}
			a.mask |= 1 << i
			// Title matches count double: a title says what the item is.
			boost := 1.0
			if d.field == "title" {
				boost = 2
			}
			a.score += boost * w[i] * float64(p.tf) / (float64(p.tf) + 1)
		}
	}
	byItem := map[string]*itemMatch{}
	best := 0.0
	for doc, a := range got {
		cov := 0.0
		for i := range qt {
			if a.mask&(1<<i) != 0 {
				cov += w[i]
			}
		}
		cov /= total
		if bits.OnesCount64(a.mask) < min(2, len(qt)) {
			continue // "washing machines" is not answered by any "machine"
		}
		best = max(best, cov)
		id := c.docs[doc].item
		m := byItem[id]
		if m == nil {
			m = &itemMatch{item: id}
			byItem[id] = m
		}
		m.coverage = max(m.coverage, cov)
		m.score += a.score
	}
	out := make([]itemMatch, 0, len(byItem))
	for _, m := range byItem {
		out = append(out, *m)
	}
	out = slices.DeleteFunc(out, func(m itemMatch) bool {
		return m.coverage < minSearchCoverage || m.coverage < relSearchCoverage*best
	})
	slices.SortFunc(out, func(a, b itemMatch) int {
		if c := cmp.Compare(b.coverage, a.coverage); c != 0 {
			return c
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})
	return out
}

// attributeName writes an attribute key as words: "recommended_age" →
// "Recommended age".
func attributeName(k string) string {
	k = strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(k))
	if k == "" {
		return k
	}
	r, n := utf8.DecodeRuneInString(k)
	return string(unicode.ToUpper(r)) + k[n:]
}
