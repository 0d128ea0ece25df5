// Package assistant serves the hub's shopping-assistant endpoints that edges
// escalate to: POST /v1/chat (the assistant of package chat) and
// POST /v1/summarize, a "customers say" summary of an item's reviews.
package assistant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/assistant/review"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
)

// maxRequestBytes bounds a summarize or chat request (the edge's own
// limit on what it forwards).
const maxRequestBytes = 16 << 10

// minSentimentReviews is how many rated reviews a shop needs before its own
// sentiment model is trained; with fewer, summaries read star ratings alone.
const minSentimentReviews = 50

// Reviews is the part of the store the summaries read.
type Reviews interface {
	Reviews(ctx context.Context, shop, item string) ([]catalog.Review, error)
	Counts(ctx context.Context, shop string) (store.Counts, error)
}

// Summaries answers POST /v1/summarize for edges holding the edge secret.
// Summaries are cached per item and rebuilt when the item's reviews change;
// each shop's sentiment model is trained from its own star ratings and
// retrained when its reviews change.
type Summaries struct {
	st      Reviews
	secret  []byte
	log     *slog.Logger
	backend *chat.Backend

	mu     sync.Mutex
	models map[string]*shopModel // shop → sentiment
	cache  map[[2]string]cached  // (shop, item) → summary
}

type shopModel struct {
	key string
	s   *review.Sentiment
}

type cached struct {
	key string
	sum review.Summary
	// generated is the backend's verdict, "" when none was accepted;
	// fallback says why.
	generated, fallback string
	tried               time.Time
}

// retryPolish is how long a verdict the backend failed to polish waits
// before it is asked again.
const retryPolish = 10 * time.Minute

// NewSummaries returns the summarize handler. It does no I/O.
func NewSummaries(st Reviews, edgeSecret string, log *slog.Logger) *Summaries {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Summaries{st: st, secret: []byte("Bearer " + edgeSecret), log: log, models: map[string]*shopModel{}, cache: map[[2]string]cached{}}
}

// WithBackend has a generative backend polish each summary's verdict (once
// per set of reviews: the result is cached with the summary), under the
// backend's checks and budget; the extractive verdict stays on any failure.
func (h *Summaries) WithBackend(b *chat.Backend) *Summaries {
	h.backend = b
	return h
}

// summarizeRequest is what an edge forwards (see package edge's allow-list).
type summarizeRequest struct {
	Shop string `json:"shop"`
	Item string `json:"item"`
}

// Answer is the body of a summarize answer.
type Answer struct {
	Item string `json:"item"`
	review.Summary
	// Sources are the ids of the reviews the points cite.
	Sources []string `json:"sources"`
	// Generated is true when the verdict was polished by the generative
	// backend; Fallback says why a configured backend's verdict was not used.
	Generated bool   `json:"generated"`
	Fallback  string `json:"fallback,omitempty"`
}

func (h *Summaries) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := readEdgeRequest(w, r, h.secret)
	if !ok {
		return
	}
	var req summarizeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		httpError(w, http.StatusBadRequest, "body is not a JSON object with shop and item")
		return
	}
	if req.Shop == "" || req.Item == "" || len(req.Shop) > 256 || len(req.Item) > 512 || !utf8.ValidString(req.Shop+req.Item) {
		httpError(w, http.StatusBadRequest, "shop and item are required (at most 256 and 512 bytes)")
		return
	}
	ans, err := h.Summarize(r.Context(), req.Shop, req.Item)
	if errors.Is(err, store.ErrNoShop) {
		httpError(w, http.StatusNotFound, "unknown shop")
		return
	}
	if err != nil {
		h.log.Error("summarize", "err", err)
		httpError(w, http.StatusInternalServerError, "summary unavailable")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// Summarize returns the summary of item's reviews in shop, from the cache
// when the reviews have not changed.
func (h *Summaries) Summarize(ctx context.Context, shop, item string) (Answer, error) {
	rs, err := h.st.Reviews(ctx, shop, item)
	if err != nil {
		return Answer{}, err
	}
	key := reviewsKey(rs)
	h.mu.Lock()
	c, ok := h.cache[[2]string{shop, item}]
	h.mu.Unlock()
	if !ok || c.key != key {
		s, err := h.sentiment(ctx, shop)
		if err != nil {
			return Answer{}, err
		}
		c = cached{key: key, sum: review.Summarize(rs, s, review.SummaryOptions{})}
		if h.backend != nil && c.sum.Reviews > 0 {
			c.generated, c.fallback, c.tried = h.polish(ctx, shop, item, c.sum)
		}
		h.mu.Lock()
		h.cache[[2]string{shop, item}] = c
		h.mu.Unlock()
	} else if h.backend != nil && c.generated == "" && c.sum.Reviews > 0 && time.Since(c.tried) > retryPolish {
		c.generated, c.fallback, c.tried = h.polish(ctx, shop, item, c.sum)
		h.mu.Lock()
		h.cache[[2]string{shop, item}] = c
		h.mu.Unlock()
	}
	ans := Answer{Item: item, Summary: c.sum, Sources: []string{}, Fallback: c.fallback}
	if c.generated != "" {
		ans.Verdict, ans.Generated = c.generated, true
	}
	seen := map[string]bool{}
	for _, p := range append(append([]review.Point(nil), c.sum.Pros...), c.sum.Cons...) {
		for _, id := range p.Reviews {
			if !seen[id] {
				seen[id] = true
				ans.Sources = append(ans.Sources, id)
			}
		}
	}
	return ans, nil
}

// Scorer returns the shop's review sentiment scorer, in [-1, 1] negative to
// positive; nil (and no error) when the shop has too few rated reviews to
// learn one from.
func (h *Summaries) Scorer(ctx context.Context, shop string) (func(text string) float64, error) {
	s, err := h.sentiment(ctx, shop)
	if err != nil || s == nil {
		return nil, err
	}
	return s.Score, nil
}

// polish asks the backend for a fluent verdict grounded in the summary's
// points; it returns the verdict, or "" and why not.
func (h *Summaries) polish(ctx context.Context, shop, item string, sum review.Summary) (verdict, fallback string, at time.Time) {
	var ps []chat.Passage
	for _, p := range append(append([]review.Point(nil), sum.Pros...), sum.Cons...) {
		if len(p.Reviews) > 0 {
			ps = append(ps, chat.Passage{Kind: "review", ID: p.Reviews[0], Text: p.Text})
		}
	}
	v, err := h.backend.Verdict(ctx, shop, ps, sum.Verdict, map[string]*catalog.Product{item: {ID: item}})
	if err != nil {
		h.log.Warn("summarize: extractive verdict kept", "err", err)
		return "", err.Error(), time.Now()
	}
	return v, "", time.Now()
}

// sentiment returns shop's model, training it from the shop's star ratings
// when its number of reviews changed; nil when there are too few to learn
// from.
func (h *Summaries) sentiment(ctx context.Context, shop string) (*review.Sentiment, error) {
	c, err := h.st.Counts(ctx, shop)
	if err != nil {
		return nil, err
	}
	key := strconv.Itoa(c.Reviews)
	h.mu.Lock()
	m := h.models[shop]
	h.mu.Unlock()
	if m != nil && m.key == key {
		return m.s, nil
	}
	all, err := h.st.Reviews(ctx, shop, "")
	if err != nil {
		return nil, err
	}
	m = &shopModel{key: key}
	if len(all) >= minSentimentReviews {
		texts := make([]string, len(all))
		stars := make([]float64, len(all))
		for i, r := range all {
			texts[i], stars[i] = r.Title+". "+r.Text, r.Stars
		}
		s, err := review.TrainSentiment(texts, stars, review.SentimentOptions{})
		if err == nil {
			m.s = s
		} else {
			h.log.Warn("summarize: sentiment from star ratings alone", "shop", shop, "err", err)
		}
	}
	h.mu.Lock()
	h.models[shop] = m
	h.mu.Unlock()
	return m.s, nil
}

// reviewsKey identifies a set of reviews by content.
func reviewsKey(rs []catalog.Review) string {
	h := sha256.New()
	for _, r := range rs {
		b, _ := json.Marshal(r)
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readEdgeRequest checks an edge's POST (method, edge credential, body
// size) and returns its body; on failure it has answered and returns false.
func readEdgeRequest(w http.ResponseWriter, r *http.Request, secret []byte) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		httpError(w, http.StatusMethodNotAllowed, "method not allowed")
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), secret) != 1 {
		httpError(w, http.StatusUnauthorized, "missing or wrong edge credential")
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "cannot read the body")
		return nil, false
	}
	if len(body) > maxRequestBytes {
		httpError(w, http.StatusRequestEntityTooLarge, "body over "+strconv.Itoa(maxRequestBytes)+" bytes")
		return nil, false
	}
	return body, true
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
