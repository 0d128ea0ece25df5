package chat

import (
	"regexp"
	"strconv"
	"strings"
)

// Entities are what the assistant found in a message.
type Entities struct {
	// Order is an order, purchase or invoice number the visitor gave.
	Order string `json:"order,omitempty"`
	// Items are the catalog items the visitor means, best first.
	Items []string `json:"items,omitempty"`
	// PriceMax is a price ceiling ("under £20"); 0 when none was given.
	PriceMax float64 `json:"price_max,omitempty"`
}

var (
	orderRE = regexp.MustCompile(`(?i)\b(?:order|purchase|invoice|tracking|parcel|ref(?:erence)?)\s*(?:number|no\.?|num|id|#)?\s*[:#]?\s*([A-Z]{0,4}[0-9][A-Z0-9\-]{3,29})\b`)
	hashRE  = regexp.MustCompile(`#\s?([A-Z]{0,4}[0-9][A-Z0-9\-]{3,29})\b`)
	priceRE = regexp.MustCompile(`(?i)\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|no more than)\s*(?:[£$€]\s?)?(\d{1,6}(?:[.,]\d{1,2})?)\s*(?:pounds?|quid|dollars?|euros?|gbp|usd|eur)?`)
)

// orderNumber finds an order number in a message.
func orderNumber(msg string) string {
	if m := orderRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if m := hashRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// priceCeiling finds a price ceiling such as "under £20" in a message.
func priceCeiling(msg string) float64 {
	m := priceRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", "."), 64)
	if err != nil || v <= 0 {
		return 0
	}
	return v
}

// titleIndex resolves the products a message names, by their titles and
// brands: a lexical index over one passage per product, with term weights
// from the titles alone, so a rare word of a title ("lamppost") names its
// product and a common one ("set") does not.
type titleIndex struct {
	c *corpus
}

// minMatchIDF is the matched term weight that names a product whatever its
// title's length; a shorter match names it when it holds half the weight
// of the title's terms.
const minMatchIDF = 4.5

func newTitleIndex(c *corpus) *titleIndex {
	t := &corpus{postings: map[string][]posting{}, byItem: map[string][]int32{}}
	for _, d := range c.docs {
		if d.kind == KindItem && d.field == "title" {
			d.text = d.title
			t.docs = append(t.docs, d)
		}
	}
	t.index()
	return &titleIndex{c: t}
}

// weight is the total idf of a title's distinct terms.
func (t *titleIndex) weight(d int32) float64 {
	w := 0.0
	for _, term := range uniq(terms(t.c.docs[d].text, nil)) {
		w += t.c.idf(term)
	}
	return w
}

// resolve returns up to k products text names, best first.
func (t *titleIndex) resolve(text string, k int) []string {
	qt := uniq(terms(text, nil))
	if len(qt) == 0 {
		return nil
	}
	type match struct {
		weight float64
		terms  int
	}
	got := map[int32]*match{}
	nq := 0 // the message's naming terms
	for _, term := range qt {
		idf := t.c.idf(term)
		if idf < 0.5 || serviceTerms[term] || searchFiller[term] {
			continue // in most titles, service or request words: names nothing
		}
		nq++
		for _, p := range t.c.postings[term] {
			m := got[p.doc]
			if m == nil {
				m = &match{}
				got[p.doc] = m
			}
			m.weight += idf
			m.terms++
		}
	}
	var out []string
	used := map[string]bool{}
	for len(out) < k {
		var bestDoc int32 = -1
		var bestW float64
		for d, m := range got {
			w := t.weight(d)
			// One word of several ("washing machines" → "… Sewing Machine …")
			// names a product only when it is half its title.
			if m.weight < min(minMatchIDF, 0.5*w) || m.terms < min(2, nq) && m.weight < 0.5*w || used[t.c.docs[d].item] {
				continue
			}
			// Prefer more matched weight; among equals, the title with fewer
			// extra words, then the lower index (deterministic).
			score := m.weight - 0.01*float64(t.c.lens[d])
			if bestDoc < 0 || score > bestW || score == bestW && d < bestDoc {
				bestDoc, bestW = d, score
			}
		}
		if bestDoc < 0 {
			break
		}
		id := t.c.docs[bestDoc].item
		used[id] = true
		out = append(out, id)
		// A second product must be named by words the first did not use.
		mine := map[string]bool{}
		for _, term := range terms(t.c.docs[bestDoc].text, nil) {
			mine[term] = true
		}
		for i, term := range qt {
			if !mine[term] || t.c.idf(term) < 0.5 || serviceTerms[term] || searchFiller[term] {
				continue
			}
			for _, p := range t.c.postings[term] {
				if m := got[p.doc]; m != nil && p.doc != bestDoc {
					m.weight -= t.c.idf(term)
				}
			}
			qt[i] = "" // consumed
		}
	}
	return out
}

// serviceTerms are the words of the service intents' topics ("delivery",
// "refund", "order"…): a title word among them ("… FREE DELIVERY") does
// not make "how much does delivery cost?" a question about that product.
var serviceTerms = func() map[string]bool {
	m := map[string]bool{}
	for _, topic := range intentTopics {
		for _, t := range terms(topic, nil) {
			m[t] = true
		}
	}
	return m
}()

// share is the part of item's title weight that text names.
func (t *titleIndex) share(text, item string) float64 {
	for d := range t.c.docs {
		if t.c.docs[d].item != item {
			continue
		}
		mine := map[string]bool{}
		for _, term := range terms(t.c.docs[d].text, nil) {
			mine[term] = true
		}
		got := 0.0
		for _, term := range uniq(terms(text, nil)) {
			if mine[term] {
				got += t.c.idf(term)
			}
		}
		if w := t.weight(int32(d)); w > 0 {
			return got / w
		}
		return 0
	}
	return 0
}
