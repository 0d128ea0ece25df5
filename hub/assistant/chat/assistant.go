// Package chat is the hub's shopping assistant: POST /v1/chat.
//
// A message is classified into a shopping or service intent by a model
// trained from labelled examples (the bundled customer-support set plus
// shopping templates filled with the shop's own catalog); the products it
// names are resolved against the catalog; and the answer is composed from
// the shop's own data only: catalog fields, review sentences and FAQ
// passages found by hybrid lexical + embedding retrieval, and item cards
// ranked by the same core as the edge. Every answer lists its sources.
// When nothing relevant is found the assistant says so and offers a person;
// it never invents.
//
// An optional generative backend (any OpenAI-compatible chat-completions
// endpoint, see Backend) may rephrase the grounded answer. It sees only the
// retrieved passages and the conversation, with personal data redacted, and
// its output is checked before a visitor sees it; on any failure the
// grounded answer is used.
//
// Text from reviews, FAQ documents and visitors is data: it is quoted,
// never followed. Passages that read like instructions to an assistant are
// not quoted at all.
package chat

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aisle-rec/aisle/hub/assistant/intent"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/privacy"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Store is the part of the hub's store the assistant reads.
type Store interface {
	Products(ctx context.Context, shop string) ([]catalog.Product, error)
	Reviews(ctx context.Context, shop, item string) ([]catalog.Review, error)
	QA(ctx context.Context, shop, item string) ([]catalog.QA, error)
	FAQ(ctx context.Context, shop string) ([]store.FAQ, error)
	// DataVersion changes whenever any of the above changes (see
	// store.Store.DataVersion): the assistant reloads only then.
	DataVersion(ctx context.Context, shop string) (string, error)
}

// Snapshots gives the published snapshot of a region (hub/publish.Store).
type Snapshots interface {
	Pointer(region string) (string, error)
	Get(region, version string) ([]byte, error)
}

// Config configures an Assistant.
type Config struct {
	Store Store
	// Snapshots, when set, ranks product-search cards with the region's
	// snapshot and gives retrieval the shop's text embedder.
	Snapshots Snapshots
	// Regions are tried, in order, for the embedder when a request names
	// none.
	Regions []string
	// Backend, when set, rephrases grounded answers (see Backend).
	Backend *Backend
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Refresh is how often a shop's data is checked for changes; 0 means
	// 10 seconds.
	Refresh time.Duration
}

// Request is one chat turn, as an edge forwards it.
type Request struct {
	Shop    string   `json:"shop"`
	Region  string   `json:"region"`
	Message string   `json:"message"`
	History []Turn   `json:"history,omitempty"`
	Items   []string `json:"items,omitempty"`
	Item    string   `json:"item,omitempty"`
}

// Turn is one earlier message of the conversation.
type Turn struct {
	Role string `json:"role"` // "user" or "assistant"
	Text string `json:"text"`
}

// Response is the assistant's answer.
type Response struct {
	Answer     string   `json:"answer"`
	Intent     string   `json:"intent"`
	Confidence float64  `json:"confidence"`
	Entities   Entities `json:"entities"`
	// Items are item cards (search results, compared products).
	Items []Card `json:"items"`
	// Sources are the passages and items the answer rests on.
	Sources []Source `json:"sources"`
	// Handoff is true when the visitor should be, or asked to be, passed
	// to a person.
	Handoff bool `json:"handoff"`
	// Generated is true when the backend's rephrasing was used.
	Generated bool `json:"generated"`
	// Fallback says why a configured backend's answer was not used.
	Fallback string `json:"fallback,omitempty"`
}

// Card is an item card in an answer.
type Card struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Price    float64 `json:"price,omitempty"`
	Currency string  `json:"currency,omitempty"`
	InStock  bool    `json:"in_stock"`
	Reason   string  `json:"reason,omitempty"`
}

// Source is one thing an answer rests on.
type Source struct {
	Kind  string `json:"kind"` // item, review or faq
	ID    string `json:"id"`
	Item  string `json:"item,omitempty"` // a review's item
	Title string `json:"title,omitempty"`
}

// Assistant answers chat requests for every shop of a store. It is safe
// for concurrent use.
type Assistant struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	shops  map[string]*shopEntry
	counts map[string]map[string]int // shop → intent → messages
	idx    map[string]*regionIndex   // region → ranked index
}

type shopEntry struct {
	mu    sync.Mutex // held while loading
	state *shopState
}

type regionIndex struct {
	version string
	checked time.Time
	x       *rank.Index
	emb     *embed.Embedder
	shop    string
}

// shopState is what the assistant knows about one shop.
type shopState struct {
	key, modelKey string
	checked       time.Time
	products      map[string]*catalog.Product
	ratings       map[string][2]float64 // item → (sum of stars, reviews)
	corpus        *corpus
	titles        *titleIndex
	model         *intent.Model
	embVersion    string
	dataVersion   string // the store's DataVersion when loaded
}

// New returns an assistant. It does no I/O; each shop's data is loaded and
// its intent model trained on the shop's first request (see Warm).
func New(cfg Config) (*Assistant, error) {
	if cfg.Store == nil {
		return nil, errors.New("chat: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	return &Assistant{cfg: cfg, log: cfg.Logger, shops: map[string]*shopEntry{}, counts: map[string]map[string]int{}, idx: map[string]*regionIndex{}}, nil
}

// Warm loads shop's data and trains its intent model now, so the first
// visitor does not wait for it.
func (a *Assistant) Warm(ctx context.Context, shop string) error {
	_, err := a.state(ctx, shop, "")
	return err
}

// IntentCounts returns how many messages of shop were classified into each
// intent since the hub started.
func (a *Assistant) IntentCounts(shop string) map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.counts[shop]))
	for k, v := range a.counts[shop] {
		out[k] = v
	}
	return out
}

// state returns shop's current state, loading it when it is missing or
// its data changed (checked at most every cfg.Refresh).
func (a *Assistant) state(ctx context.Context, shop, region string) (*shopState, error) {
	a.mu.Lock()
	e := a.shops[shop]
	if e == nil {
		e = &shopEntry{}
		a.shops[shop] = e
	}
	a.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := a.cfg.Now()
	if s := e.state; s != nil && now.Sub(s.checked) < a.cfg.Refresh {
		return s, nil
	}
	ver, err := a.cfg.Store.DataVersion(ctx, shop)
	if err != nil {
		return nil, err
	}
	emb, embVersion := a.embedder(shop, region)
	if s := e.state; s != nil && s.dataVersion == ver && s.embVersion == embVersion {
		s.checked = now
		return s, nil
	}
	ps, err := a.cfg.Store.Products(ctx, shop)
	if err != nil {
		return nil, err
	}
	rs, err := a.cfg.Store.Reviews(ctx, shop, "")
	if err != nil {
		return nil, err
	}
	qa, err := a.cfg.Store.QA(ctx, shop, "")
	if err != nil {
		return nil, err
	}
	faq, err := a.cfg.Store.FAQ(ctx, shop)
	if err != nil {
		return nil, err
	}
	key, modelKey := fingerprints(ps, rs, qa, faq, embVersion)
	if s := e.state; s != nil && s.key == key {
		s.checked, s.dataVersion = now, ver
		return s, nil
	}
	s := &shopState{key: key, modelKey: modelKey, checked: now, embVersion: embVersion, dataVersion: ver,
		products: make(map[string]*catalog.Product, len(ps)), ratings: map[string][2]float64{}}
	for i := range ps {
		s.products[ps[i].ID] = &ps[i]
	}
	for _, r := range rs {
		x := s.ratings[r.Item]
		s.ratings[r.Item] = [2]float64{x[0] + r.Stars, x[1] + 1}
	}
	s.corpus = newCorpus(ps, rs, qa, faq, emb)
	s.titles = newTitleIndex(s.corpus)
	if old := e.state; old != nil && old.modelKey == modelKey {
		s.model = old.model
	} else {
		if s.model, err = trainModel(ps, modelKey); err != nil {
			return nil, err
		}
	}
	a.log.Info("chat: shop loaded", "shop", shop, "products", len(ps), "reviews", len(rs), "qa", len(qa), "faq", len(faq), "passages", len(s.corpus.docs), "ms", a.cfg.Now().Sub(now).Milliseconds())
	e.state = s
	return s, nil
}

// models caches trained intent models by the catalog terms they were
// trained from, so shops (and tests) with the same catalog train once.
var models struct {
	sync.Mutex
	byKey map[string]*intent.Model
	order []string
}

// maxCachedModels bounds the cache; a model is a few megabytes.
const maxCachedModels = 8

func trainModel(ps []catalog.Product, key string) (*intent.Model, error) {
	models.Lock()
	defer models.Unlock()
	if m := models.byKey[key]; m != nil {
		return m, nil
	}
	ex, err := DefaultExamples(ps)
	if err != nil {
		return nil, err
	}
	m, err := intent.Train(ex, intent.DefaultOptions())
	if err != nil {
		return nil, err
	}
	if models.byKey == nil {
		models.byKey = map[string]*intent.Model{}
	}
	if len(models.order) >= maxCachedModels {
		delete(models.byKey, models.order[0])
		models.order = models.order[1:]
	}
	models.byKey[key] = m
	models.order = append(models.order, key)
	return m, nil
}

// fingerprints identify a shop's data (key) and the part the intent model
// is trained from (modelKey).
func fingerprints(ps []catalog.Product, rs []catalog.Review, qa []catalog.QA, faq []store.FAQ, embVersion string) (key, modelKey string) {
	h := sha256.New()
	for _, p := range ps {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%q\x00", p.ID, p.Title, p.Brand, p.Category)
	}
	modelKey = hex.EncodeToString(h.Sum(nil))
	enc := json.NewEncoder(h)
	for _, v := range []any{ps, rs, qa, faq, embVersion} {
		_ = enc.Encode(v)
	}
	return hex.EncodeToString(h.Sum(nil)), modelKey
}

// index returns the ranked index of region's current snapshot when it is
// shop's, checking the pointer at most every cfg.Refresh.
func (a *Assistant) index(shop, region string) *regionIndex {
	if a.cfg.Snapshots == nil || region == "" {
		return nil
	}
	now := a.cfg.Now()
	a.mu.Lock()
	ri := a.idx[region]
	a.mu.Unlock()
	if ri == nil || now.Sub(ri.checked) >= a.cfg.Refresh {
		ri = a.loadIndex(region, ri, now)
	}
	if ri == nil || ri.x == nil || ri.shop != shop {
		return nil
	}
	return ri
}

func (a *Assistant) loadIndex(region string, old *regionIndex, now time.Time) *regionIndex {
	v, err := a.cfg.Snapshots.Pointer(region)
	if err != nil {
		return old
	}
	if old != nil && old.version == v {
		ri := *old
		ri.checked = now
		a.mu.Lock()
		a.idx[region] = &ri
		a.mu.Unlock()
		return &ri
	}
	b, err := a.cfg.Snapshots.Get(region, v)
	if err != nil {
		return old
	}
	snap, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		a.log.Warn("chat: snapshot unusable", "region", region, "err", err)
		return old
	}
	x, err := rank.New(snap, rank.DefaultConfig())
	if err != nil {
		a.log.Warn("chat: snapshot unusable", "region", region, "err", err)
		return old
	}
	ri := &regionIndex{version: v, checked: now, x: x, shop: snap.Shop}
	if sec := snap.Section(embed.SectionName); sec != nil {
		if e, err := embed.Unmarshal(sec); err == nil {
			ri.emb = e
		}
	}
	a.mu.Lock()
	a.idx[region] = ri
	a.mu.Unlock()
	return ri
}

// embedder returns shop's text embedder from the request's region or the
// first configured region that has shop's snapshot.
func (a *Assistant) embedder(shop, region string) (*embed.Embedder, string) {
	for _, r := range append([]string{region}, a.cfg.Regions...) {
		if ri := a.index(shop, r); ri != nil && ri.emb != nil {
			return ri.emb, ri.version
		}
	}
	return nil, ""
}

// Thresholds of grounding: a passage is quoted only when it holds this
// share of the question's term weight.
const (
	minItemCoverage   = 0.34
	minReviewCoverage = 0.4
	minQACoverage     = 0.5
	minFAQCoverage    = 0.25
	// A question routed elsewhere is answered from the FAQ when a passage
	// holds this share of it.
	minPolicyCoverage = 0.6
	// A product is a search result when its passages hold this share of
	// the query's term weight, and at least this share of the best
	// product's.
	minSearchCoverage = 0.5
	relSearchCoverage = 0.7
	// Below this confidence the intent is not trusted on its own.
	lowConfidence = 0.3
	maxQuote      = 420
)

// Answer answers one chat turn from shop's data.
func (a *Assistant) Answer(ctx context.Context, req Request) (Response, error) {
	start := a.cfg.Now()
	st, err := a.state(ctx, req.Shop, req.Region)
	if err != nil {
		return Response{}, err
	}
	// Personal data is no search term: the assistant works on the message
	// with it removed, and nothing downstream (logs, backend) sees it.
	msg := strings.TrimSpace(privacy.Remove(req.Message))
	label, conf := st.model.Predict(msg)
	resp := Response{Intent: label, Confidence: math.Round(conf*1000) / 1000, Items: []Card{}, Sources: []Source{}}
	resp.Entities.Order = orderNumber(msg)
	resp.Entities.PriceMax = priceCeiling(msg)
	resp.Entities.Items = st.titles.resolve(msg, 2)
	c := &composer{a: a, st: st, req: &req, resp: &resp, msg: msg}

	switch {
	case label == IntentProductSearch && len(resp.Entities.Items) > 0 && conf < 0.7 && asksAbout(msg):
		// A named product and no clear search: a question about it ("can
		// my six year old fly the red delta kite alone?").
		resp.Intent = IntentProductQuestion
	case isShopping(label) && label != IntentGreeting:
	case len(resp.Entities.Items) > 0 && conf < lowConfidence:
		// A product named, and no service intent clear enough: a
		// question about it.
		resp.Intent = IntentProductQuestion
	}
	switch resp.Intent {
	case IntentGreeting:
		c.greet()
	case IntentProductQuestion:
		c.productQuestion()
	case IntentProductSearch:
		c.search()
	case IntentProductComparison:
		c.compare()
	default:
		c.service()
	}
	grounded := resp.Answer
	if a.cfg.Backend != nil {
		switch {
		case looksLikeInjection(msg):
			resp.Fallback = "message looks like an instruction to the assistant"
		case len(c.context) == 0:
			resp.Fallback = "nothing retrieved to ground a generated answer"
		default:
			text, err := a.cfg.Backend.Rephrase(ctx, req.Shop, c.context, req.History, msg, grounded, st.products)
			if err != nil {
				resp.Fallback = err.Error()
			} else {
				resp.Answer, resp.Generated = text, true
			}
		}
	}
	a.mu.Lock()
	if a.counts[req.Shop] == nil {
		a.counts[req.Shop] = map[string]int{}
	}
	a.counts[req.Shop][resp.Intent]++
	a.mu.Unlock()
	// Never the message, history or answer: they may hold personal data.
	a.log.Info("chat", "shop", req.Shop, "intent", resp.Intent, "confidence", resp.Confidence, "items", len(resp.Items),
		"sources", len(resp.Sources), "handoff", resp.Handoff, "generated", resp.Generated, "fallback", resp.Fallback != "",
		"ms", float64(a.cfg.Now().Sub(start).Microseconds())/1000)
	return resp, nil
}

func isShopping(label string) bool {
	switch label {
	case IntentProductQuestion, IntentProductSearch, IntentProductComparison, IntentGreeting:
		return true
	}
	return false
}

// composer builds one answer.
type composer struct {
	a    *Assistant
	st   *shopState
	req  *Request
	resp *Response
	msg  string
	// context holds the passages and facts the answer rests on, for a
	// generative backend.
	context []Passage
	parts   []string
}

func (c *composer) say(s string) { c.parts = append(c.parts, s) }

func (c *composer) done() { c.resp.Answer = strings.Join(c.parts, " ") }

func (c *composer) source(s Source) {
	for _, x := range c.resp.Sources {
		if x.Kind == s.Kind && x.ID == s.ID {
			return
		}
	}
	c.resp.Sources = append(c.resp.Sources, s)
}

func (c *composer) offerHuman() {
	c.resp.Handoff = true
	c.say("I can pass your question to the shop's team if you like.")
}

func (c *composer) greet() {
	c.say("Hello! I can help you find products, answer questions about them from their details and reviews, and help with orders, delivery, returns and payment.")
	c.done()
}

// product returns the product the conversation is about: named in the
// message, else in the latest earlier turn naming one, else the page's
// item, else the latest item of the session.
func (c *composer) product() *catalog.Product {
	page := c.st.products[c.req.Item]
	if ids := c.resp.Entities.Items; len(ids) > 0 {
		// On a product page, "is it suitable for a 3 year old?" must not
		// jump to a product titled "… for 3-Year-Old": another product
		// wins only when the message names most of its title.
		if page == nil || page.ID == ids[0] || c.st.titles.share(c.msg, ids[0]) >= 0.5 {
			return c.st.products[ids[0]]
		}
	}
	for i := len(c.req.History) - 1; i >= 0; i-- {
		if ids := c.st.titles.resolve(c.req.History[i].Text, 1); len(ids) > 0 {
			return c.st.products[ids[0]]
		}
	}
	if page != nil {
		return page
	}
	for i := len(c.req.Items) - 1; i >= 0; i-- {
		if p := c.st.products[c.req.Items[i]]; p != nil {
			return p
		}
	}
	return nil
}

func (c *composer) card(p *catalog.Product, reason string) Card {
	return Card{ID: p.ID, Title: p.Title, Price: p.Price, Currency: p.Currency, InStock: c.inStock(p), Reason: reason}
}

func (c *composer) inStock(p *catalog.Product) bool {
	if n, ok := p.Stock[c.req.Region]; ok && c.req.Region != "" {
		return n != 0
	}
	return p.InStock()
}

func (c *composer) itemSource(p *catalog.Product) {
	c.source(Source{Kind: KindItem, ID: p.ID, Title: p.Title})
}

func price(p *catalog.Product) string {
	if p.Price <= 0 {
		return "not priced"
	}
	sym := map[string]string{"GBP": "£", "USD": "$", "EUR": "€"}[p.Currency]
	if sym == "" {
		return strconv.FormatFloat(p.Price, 'f', 2, 64) + " " + p.Currency
	}
	return sym + strconv.FormatFloat(p.Price, 'f', 2, 64)
}

func (c *composer) rating(p *catalog.Product) (avg float64, n int) {
	r := c.st.ratings[p.ID]
	if r[1] == 0 {
		return 0, 0
	}
	return r[0] / r[1], int(r[1])
}

// Question words that ask for a structured fact rather than a passage.
var (
	priceWords  = []string{"price", "cost", "how much", "expensive", "cheap"}
	stockWords  = []string{"in stock", "available", "availability", "sold out", "out of stock"}
	ratingWords = []string{"rating", "stars", "reviews", "review", "customers say", "people say", "do customers like", "worth", "any good", "good quality", "complaints"}
)

func mentions(msg string, words []string) bool {
	l := strings.ToLower(msg)
	for _, w := range words {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func (c *composer) productQuestion() {
	defer c.done()
	p := c.product()
	if p == nil {
		if c.faqAnswer(c.msg, minPolicyCoverage) {
			return
		}
		if len(terms(c.msg, nil)) > 0 {
			c.resp.Intent = IntentProductSearch
			c.parts = nil
			c.search()
			return
		}
		c.say("Which product do you mean? Open its page or tell me its name.")
		return
	}
	c.itemSource(p)
	answered := false
	fact := func(s string) {
		c.say(s)
		c.context = append(c.context, Passage{Kind: KindItem, ID: p.ID, Text: s})
		answered = true
	}
	if mentions(c.msg, priceWords) {
		fact(fmt.Sprintf("%s costs %s.", p.Title, price(p)))
	}
	if mentions(c.msg, stockWords) {
		if c.inStock(p) {
			fact(p.Title + " is in stock.")
		} else {
			fact(p.Title + " is out of stock here at the moment.")
		}
	}
	asksReviews := mentions(c.msg, ratingWords)
	if asksReviews {
		if avg, n := c.rating(p); n > 0 {
			fact(fmt.Sprintf("%s has an average of %.1f stars from %d review%s.", p.Title, avg, n, plural(n)))
		} else {
			fact(p.Title + " has no reviews yet.")
		}
	}
	// The words naming the product are in every passage about it: search
	// with the rest of the question.
	q := c.msg
	if rest := withoutTerms(c.msg, p.Title); len(terms(rest, nil)) > 0 {
		q = rest
	}
	hits := c.st.corpus.search(q+expansions(q), 8, func(d *doc) bool { return d.item == p.ID })
	var detail, said, asked *hit
	for i := range hits {
		h := &hits[i]
		d := &c.st.corpus.docs[h.doc]
		switch {
		case d.kind == KindQA && asked == nil && h.coverage >= minQACoverage:
			asked = h
		case d.kind == KindItem && detail == nil && h.coverage >= minItemCoverage && d.field != "title":
			detail = h
		case d.kind == KindReview && said == nil && (h.coverage >= minReviewCoverage || asksReviews && h.coverage > 0):
			said = h
		}
	}
	if said == nil && asksReviews {
		said = c.typicalReview(p)
	}
	if detail != nil {
		d := &c.st.corpus.docs[detail.doc]
		c.say("From the product details of " + p.Title + ": " + clip(d.text, maxQuote))
		c.context = append(c.context, Passage{Kind: KindItem, ID: p.ID, Text: d.text})
		answered = true
	}
	if asked != nil {
		d := &c.st.corpus.docs[asked.doc]
		c.say(fmt.Sprintf("Someone asked “%s” and was told: “%s”", clip(d.question, maxQuote/2), clip(d.answer, maxQuote)))
		c.context = append(c.context, Passage{Kind: KindQA, ID: d.id, Text: d.question + " " + d.answer})
		c.source(d.source())
		answered = true
	}
	if said != nil {
		d := &c.st.corpus.docs[said.doc]
		c.say(fmt.Sprintf("A customer who gave it %s stars wrote: “%s”", strconv.FormatFloat(d.stars, 'f', -1, 64), clip(d.text, maxQuote)))
		c.context = append(c.context, Passage{Kind: KindReview, ID: d.id, Text: d.text})
		c.source(d.source())
		answered = true
	}
	if !answered {
		c.say("The information I have about " + p.Title + " does not answer that.")
		c.offerHuman()
		return
	}
	c.resp.Items = append(c.resp.Items, c.card(p, "the product you asked about"))
}

// asksAbout reports whether msg is phrased as a question about something
// ("can my six year old fly the red delta kite alone?") rather than a
// request for products ("wooden train set for toddlers", "do you have …").
func asksAbout(msg string) bool {
	l := strings.ToLower(strings.TrimSpace(msg))
	for _, p := range []string{"do you have", "do you sell", "have you got", "do you stock", "any ", "show me", "looking for", "i'm looking", "i am looking", "i want", "i need", "find me", "search"} {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	if strings.HasSuffix(l, "?") {
		return true
	}
	first, _, _ := strings.Cut(l, " ")
	switch first {
	case "can", "could", "does", "do", "is", "are", "will", "would", "how", "what", "which", "who", "when", "where", "why", "should":
		return true
	}
	return false
}

// questionSynonyms add the words product details use for what visitors
// ask: "is it suitable for a 3 year old?" is answered by "recommended age".
var questionSynonyms = map[string]string{
	"old": "age recommended", "suitabl": "age recommended", "young": "age recommended", "toddler": "age recommended",
	"big": "dimension size", "small": "dimension size", "size": "dimension", "tall": "dimension height", "long": "dimension length",
	"heavy": "weight", "weigh": "weight", "light": "weight",
	"battery": "batteries_required batteries_included", "player": "game_players", "piece": "puzzle_pieces",
}

// expansions returns the synonyms of q's terms, with a leading space.
func expansions(q string) string {
	var b strings.Builder
	for _, t := range terms(q, nil) {
		if s := questionSynonyms[t]; s != "" {
			b.WriteString(" " + s)
		}
	}
	return b.String()
}

// withoutTerms returns the words of msg whose terms are not terms of name.
func withoutTerms(msg, name string) string {
	drop := map[string]bool{}
	for _, t := range terms(name, nil) {
		drop[t] = true
	}
	var keep []string
	var buf []string
	for _, w := range strings.Fields(msg) {
		buf = terms(w, buf)
		if len(buf) == 1 && drop[buf[0]] {
			continue
		}
		keep = append(keep, w)
	}
	return strings.Join(keep, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// typicalReview picks a sentence of the product's best-rated review, for
// "what do customers say?" when no sentence matches the question's words.
func (c *composer) typicalReview(p *catalog.Product) *hit {
	best := int32(-1)
	for _, i := range c.st.corpus.byItem[p.ID] {
		d := &c.st.corpus.docs[i]
		if d.kind == KindReview && (best < 0 || d.stars > c.st.corpus.docs[best].stars) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return &hit{doc: best}
}

// maxCards is how many item cards a search answer shows.
const maxCards = 5

// search answers with item cards: the items whose own text matches the
// message, ordered by the ranking core with the visitor's session when the
// region's snapshot is at hand.
func (c *composer) search() {
	defer c.done()
	relevant := map[string]float64{}
	var order []string
	q := c.msg
	if loc := priceRE.FindStringIndex(q); loc != nil {
		q = q[:loc[0]] + " " + q[loc[1]:] // a filter, not search terms
	}
	for _, m := range c.st.corpus.searchItems(q) {
		if c.offerable(c.st.products[m.item]) {
			relevant[m.item] = m.coverage
			order = append(order, m.item)
		}
	}
	// Products the message names are what it searches for.
	for _, id := range slices.Backward(c.resp.Entities.Items) {
		if p := c.st.products[id]; c.offerable(p) {
			if _, ok := relevant[id]; !ok {
				relevant[id] = 1
				order = append([]string{id}, order...)
			}
		}
	}
	best := 0.0
	for _, v := range relevant {
		best = max(best, v)
	}
	// A policy question phrased as a search ("are your toys safe?") is
	// answered from the FAQ when a passage there covers it better.
	if faq := c.bestFAQ(c.msg); faq != nil && faq.coverage >= minPolicyCoverage && faq.coverage > best {
		c.answerFAQ(faq)
		return
	}
	if len(order) == 0 {
		c.say("I could not find anything matching that in this shop.")
		c.offerHuman()
		return
	}
	picked := c.rankRelevant(relevant)
	for _, id := range order {
		if len(picked) >= maxCards {
			break
		}
		if !slices.Contains(picked, id) {
			picked = append(picked, id)
		}
	}
	for _, id := range picked {
		p := c.st.products[id]
		c.resp.Items = append(c.resp.Items, c.card(p, "matches your question"))
		c.itemSource(p)
		c.context = append(c.context, Passage{Kind: KindItem, ID: p.ID, Text: p.Title + ", " + price(p)})
	}
	if len(picked) == 1 {
		c.say("I found one item that matches: " + c.st.products[picked[0]].Title + ".")
	} else {
		c.say(fmt.Sprintf("Here are %d items that match, best first.", len(picked)))
	}
}

// offerable reports whether p may be a search card: in stock here and
// within the price the visitor gave.
func (c *composer) offerable(p *catalog.Product) bool {
	max := c.resp.Entities.PriceMax
	return p != nil && c.inStock(p) && (max <= 0 || p.Price > 0 && p.Price <= max)
}

// rankRelevant orders the relevant items with the ranking core (search
// placement, the session's items as views) and keeps the first maxCards.
func (c *composer) rankRelevant(relevant map[string]float64) []string {
	ri := c.a.index(c.req.Shop, c.req.Region)
	if ri == nil {
		return nil
	}
	rq := &wire.RecommendRequest{Shop: c.req.Shop, Region: c.req.Region, Placement: wire.SearchResults, Query: clip(c.msg, wire.MaxString-8), K: wire.MaxResults}
	for i, id := range c.req.Items {
		rq.Events = append(rq.Events, wire.Event{Type: wire.View, Item: id, Time: int64(i + 1)})
	}
	var out wire.RecommendResponse
	if err := ri.x.Rank(rq, &out); err != nil {
		return nil
	}
	// How much of the question an item's text covers comes first (in
	// tenths, so near-equal matches count as equal); among equals the
	// ranking core's order, which knows the session and popularity.
	pos := map[string]int{}
	var ranked []string
	for i, r := range out.Items {
		if _, ok := relevant[r.ID]; ok {
			pos[r.ID] = i
			ranked = append(ranked, r.ID)
		}
	}
	tenth := func(id string) int { return int(relevant[id]*10 + 1e-9) }
	slices.SortStableFunc(ranked, func(a, b string) int {
		if c := cmp.Compare(tenth(b), tenth(a)); c != 0 {
			return c
		}
		return cmp.Compare(pos[a], pos[b])
	})
	return ranked[:min(len(ranked), maxCards)]
}

func (c *composer) compare() {
	defer c.done()
	ids := append([]string(nil), c.resp.Entities.Items...)
	if len(ids) < 2 {
		if p := c.product(); p != nil && !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
		if p := c.st.products[c.req.Item]; p != nil && !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) < 2 {
		c.say("Which two products would you like me to compare? Tell me their names.")
		return
	}
	ps := []*catalog.Product{c.st.products[ids[0]], c.st.products[ids[1]]}
	for _, p := range ps {
		line := fmt.Sprintf("%s: %s", p.Title, price(p))
		if p.Brand != "" {
			line += ", by " + p.Brand
		}
		if avg, n := c.rating(p); n > 0 {
			line += fmt.Sprintf(", %.1f stars from %d review%s", avg, n, plural(n))
		} else {
			line += ", no reviews yet"
		}
		if !c.inStock(p) {
			line += ", out of stock"
		}
		c.say(line + ".")
		c.context = append(c.context, Passage{Kind: KindItem, ID: p.ID, Text: line})
		c.resp.Items = append(c.resp.Items, c.card(p, "compared"))
		c.itemSource(p)
	}
	a, b := ps[0], ps[1]
	if a.Price > 0 && b.Price > 0 && a.Price != b.Price {
		cheap := a
		if b.Price < a.Price {
			cheap = b
		}
		c.say(cheap.Title + " is the cheaper one.")
	}
	ra, na := c.rating(a)
	rb, nb := c.rating(b)
	if na > 0 && nb > 0 && math.Abs(ra-rb) >= 0.1 {
		better := a
		if rb > ra {
			better = b
		}
		c.say(better.Title + " is rated higher by customers.")
	}
}

// serviceHandoff are intents a person must handle; orderIntents need an
// order the assistant cannot see.
var (
	serviceHandoff = map[string]bool{intentContactHuman: true, intentContactService: true, intentComplaint: true}
	orderIntents   = map[string]bool{intentTrackOrder: true, intentCancelOrder: true, intentChangeOrder: true, intentTrackRefund: true,
		intentGetRefund: true, intentPaymentIssue: true, intentDeleteAccount: true}
)

// service answers a service intent from the shop's FAQ and policy
// documents.
func (c *composer) service() {
	defer c.done()
	label := c.resp.Intent
	if serviceHandoff[label] {
		c.resp.Handoff = true
		c.say("I'll pass this conversation to the shop's team.")
	}
	if o := c.resp.Entities.Order; o != "" && orderIntents[label] {
		c.say("I cannot see or change orders from this chat; the shop's team can help with order " + o + ".")
		c.resp.Handoff = true
	}
	q := c.msg
	if o := c.resp.Entities.Order; o != "" {
		q = strings.ReplaceAll(q, o, " ") // an entity, not a search term
	}
	q += " " + intentTopics[label]
	if c.resp.Confidence >= lowConfidence/2 && c.faqAnswer(q, minFAQCoverage) {
		return
	}
	if len(c.parts) == 0 && len(c.resp.Entities.Items) > 0 {
		// No policy answers it, and it names a product: a product request
		// the intent model did not recognise ("do you have a hula hoop?").
		c.resp.Intent = IntentProductSearch
		c.search()
		return
	}
	if len(c.parts) == 0 {
		c.say("I don't have this shop's information about that.")
		c.offerHuman()
	}
}

// bestFAQ returns the FAQ passage that best answers q, or nil.
func (c *composer) bestFAQ(q string) *hit {
	hits := c.st.corpus.search(q, 1, func(d *doc) bool { return d.kind == KindFAQ })
	if len(hits) == 0 {
		return nil
	}
	return &hits[0]
}

// faqAnswer answers from the FAQ passage best matching q when it holds at
// least minCoverage of q's term weight.
func (c *composer) faqAnswer(q string, minCoverage float64) bool {
	h := c.bestFAQ(q)
	if h == nil || h.coverage < minCoverage {
		return false
	}
	c.answerFAQ(h)
	return true
}

func (c *composer) answerFAQ(h *hit) {
	d := &c.st.corpus.docs[h.doc]
	title, text := d.title, d.text
	if doc, heading, ok := strings.Cut(d.title, " — "); ok {
		// The passage starts with its heading, usually the question itself.
		title, text = doc, strings.TrimSpace(strings.TrimPrefix(text, heading))
	}
	c.say("From " + title + ": " + clip(text, maxQuote*2))
	c.context = append(c.context, Passage{Kind: KindFAQ, ID: d.id, Text: d.text})
	c.source(d.source())
}
