package rank

import (
	"fmt"
	"math"
	"strings"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Evidence kinds, kept per candidate to explain it.
const (
	srcNone uint8 = iota
	srcCoVisit
	srcBought
	srcVector
	srcQuery
	srcTrending
	srcSegment
)

// Item flags, set per request.
const (
	flagTouched uint8 = 1 << iota
	flagBlocked       // excluded by a rule: never returned
	flagSession       // in the visitor's recent history
	flagPicked        // already in the response
)

// scratch is one request's working memory, sized for the index and reused.
type scratch struct {
	flags   []uint8
	covis   []float32
	bought  []float32
	query   []float32
	again   []float32
	segment []float32
	srcItem []int32
	srcW    []float32
	srcKind []uint8
	touched []uint32

	sess     []sessItem
	profile  []float32
	qprofile []int8
	heap     []cand
	picked   []cand
	cats     []string
	catN     []int
	tk       tokenizer
	cprobe   []cand
	ctx      int32 // context item, or -1
	qvec     []float32
	qquery   []int8
	hasQ     bool
	held     []cand
}

type sessItem struct {
	item uint32
	w    float32
}

type cand struct {
	item  uint32
	score float32
}

func newScratch(n, dims int) *scratch {
	return &scratch{
		flags:    make([]uint8, n),
		covis:    make([]float32, n),
		bought:   make([]float32, n),
		query:    make([]float32, n),
		again:    make([]float32, n),
		segment:  make([]float32, n),
		srcItem:  make([]int32, n),
		srcW:     make([]float32, n),
		srcKind:  make([]uint8, n),
		touched:  make([]uint32, 0, 1024),
		sess:     make([]sessItem, 0, 64),
		profile:  make([]float32, dims),
		qprofile: make([]int8, dims),
		qvec:     make([]float32, 0, dims),
		qquery:   make([]int8, dims),
		held:     make([]cand, 0, 4*wire.MaxResults),
		heap:     make([]cand, 0, 4*wire.MaxResults),
		picked:   make([]cand, 0, wire.MaxResults),
		cprobe:   make([]cand, 0, 64),
	}
}

// reset clears what the previous request touched.
func (s *scratch) reset() {
	for _, i := range s.touched {
		s.flags[i] = 0
		s.covis[i], s.bought[i], s.query[i], s.again[i], s.segment[i] = 0, 0, 0, 0, 0
		s.srcItem[i], s.srcW[i], s.srcKind[i] = -1, 0, srcNone
	}
	s.touched = s.touched[:0]
	s.sess = s.sess[:0]
	clear(s.profile)
	s.heap = s.heap[:0]
	s.picked = s.picked[:0]
	s.cats = s.cats[:0]
	s.catN = s.catN[:0]
	s.cprobe = s.cprobe[:0]
	s.ctx = -1
	s.hasQ = false
}

func (s *scratch) touch(i uint32) {
	if s.flags[i]&flagTouched == 0 {
		s.flags[i] |= flagTouched
		s.srcItem[i] = -1
		s.touched = append(s.touched, i)
	}
}

// Rank answers req into resp, reusing resp.Items. req should have passed
// wire validation; unknown item ids in it are ignored. The answer depends
// only on the index and req: the same pair always yields the same response.
func (x *Index) Rank(req *wire.RecommendRequest, resp *wire.RecommendResponse) error {
	if !req.Placement.Valid() {
		return fmt.Errorf("rank: unknown placement %q", req.Placement)
	}
	s := x.getScratch()
	s.reset()
	defer func() {
		s.reset()
		x.putScratch(s)
	}()

	if resp.Items == nil {
		// An empty answer is an empty list, never null, whether or not the
		// response is reused.
		resp.Items = make([]wire.Rec, 0, wire.DefaultK)
	}
	resp.Items = resp.Items[:0]
	resp.Index = x.snap.Version
	resp.Fallback = false
	k := req.K
	if k <= 0 {
		k = wire.DefaultK
	}
	k = min(k, wire.MaxResults, x.n)

	ctx, hasCtx := x.ids.find(req.Item)
	if hasCtx {
		s.ctx = int32(ctx)
	}
	x.session(req, s)
	x.block(req, s, ctx, hasCtx)

	switch req.Placement {
	case wire.ForYou:
		x.fromSession(s, 1)
		x.fromProfile(s)
		x.again(s)
		x.fromSegment(s)
	case wire.Similar:
		if hasCtx {
			x.addSource(s, ctx, 1, srcCoVisit)
			x.fromSession(s, float32(x.cfg.SimilarMix))
			x.fromVector(s, ctx)
		}
	case wire.BoughtTogether:
		if hasCtx {
			x.addSource(s, ctx, 1, srcBought)
			x.addSource(s, ctx, 0.5, srcCoVisit)
		}
	case wire.Cart:
		for _, it := range s.sess {
			if s.flags[it.item]&flagBlocked != 0 { // in the cart or bought
				x.addSource(s, it.item, it.w, srcBought)
				x.addSource(s, it.item, it.w*0.5, srcCoVisit)
			}
		}
	case wire.SearchResults:
		x.fromQuery(s, req)
		x.fromProfile(s)
	case wire.Trending:
		x.addTrending(s, len(x.snap.Trending))
	}
	personal := len(s.touched) > 0
	if req.Placement != wire.Trending && req.Placement != wire.SearchResults {
		x.addTrending(s, x.cfg.TrendingTake)
	}
	x.score(s, req.Placement, personal)
	x.selectTop(req, s, k, resp)
	if len(resp.Items) < k {
		x.fill(req, s, k, resp)
	}
	if !personal || !x.anyPersonal(resp) {
		resp.Fallback = req.Placement != wire.Trending
	}
	return nil
}

// session turns the request's events into weighted distinct items (most
// recent first) and the profile vector, and flags cart and purchase state.
func (x *Index) session(req *wire.RecommendRequest, s *scratch) {
	now := req.Now
	if now == 0 {
		for _, e := range req.Events {
			now = max(now, e.Time)
		}
	}
	pos := 0
	for i := len(req.Events) - 1; i >= 0; i-- {
		e := &req.Events[i]
		it, ok := x.ids.find(e.Item)
		if !ok || e.Type == wire.Search {
			continue
		}
		w := float32(typeWeight(e.Type) * math.Pow(x.cfg.Decay, float64(pos)))
		pos++
		if x.cfg.TimeHalfLife > 0 && e.Time > 0 && now > e.Time {
			w *= float32(math.Exp2(-float64(now-e.Time) / float64(x.cfg.TimeHalfLife)))
		}
		found := false
		for j := range s.sess {
			if s.sess[j].item == it {
				s.sess[j].w += w
				found = true
				break
			}
		}
		if !found {
			if len(s.sess) >= x.cfg.MaxHistory {
				continue
			}
			s.sess = append(s.sess, sessItem{it, w})
			s.touch(it)
			s.flags[it] |= flagSession
		}
	}
	for _, it := range s.sess {
		x.addVector(s.profile, it.item, it.w)
	}
	normalize(s.profile)
}

// block marks what must never be returned: explicit excludes, the context
// item, items in the cart or already bought. Filters are checked later.
func (x *Index) block(req *wire.RecommendRequest, s *scratch, ctx uint32, hasCtx bool) {
	for _, id := range req.Filters.Exclude {
		if it, ok := x.ids.find(id); ok {
			s.touch(it)
			s.flags[it] |= flagBlocked
		}
	}
	if hasCtx {
		s.touch(ctx)
		s.flags[ctx] |= flagBlocked
	}
	// Cart state: the running count of adds minus removes, per item.
	for i, e := range req.Events {
		it, ok := x.ids.find(e.Item)
		if !ok {
			continue
		}
		switch e.Type {
		case wire.Purchase:
			s.touch(it)
			s.flags[it] |= flagBlocked
		case wire.AddToCart:
			bal := 0
			for _, f := range req.Events[i:] {
				if f.Item == e.Item {
					switch f.Type {
					case wire.AddToCart:
						bal++
					case wire.RemoveFromCart:
						bal--
					}
				}
			}
			if bal > 0 {
				s.touch(it)
				s.flags[it] |= flagBlocked
			}
		}
	}
}

func typeWeight(t wire.EventType) float64 {
	switch t {
	case wire.Purchase:
		return 1
	case wire.AddToCart:
		return 0.9
	case wire.Click:
		return 0.7
	case wire.View:
		return 0.6
	case wire.RemoveFromCart:
		return 0.2
	}
	return 0
}

// fromSession spreads each session item's weight over its co-visitation and
// bought-together neighbours.
func (x *Index) fromSession(s *scratch, mix float32) {
	for _, it := range s.sess {
		x.addSource(s, it.item, it.w*mix, srcCoVisit)
		x.addSource(s, it.item, it.w*mix, srcBought)
	}
}

// fromSegment adds the items characteristic of the segment nearest the
// profile while the session is short, best first.
func (x *Index) fromSegment(s *scratch) {
	seg := x.segments
	if seg == nil || x.cfg.Segment == 0 || len(s.sess) == 0 || len(s.sess) > x.cfg.SegmentSession {
		return
	}
	best, bestS := -1, float32(math.Inf(-1))
	for c := range seg.Labels {
		if d := dot(s.profile, seg.Centroids[c*x.dims:(c+1)*x.dims]); d > bestS {
			best, bestS = c, d
		}
	}
	if best < 0 {
		return
	}
	items := seg.Items[best]
	for j, it := range items {
		s.touch(it)
		s.segment[it] = 1 - float32(j)/float32(len(items))
	}
}

// again makes the session's own items candidates: a visitor often returns
// to something viewed a moment ago. Items in the cart or bought stay blocked.
func (x *Index) again(s *scratch) {
	if x.cfg.Repeat == 0 {
		return
	}
	for _, it := range s.sess {
		s.again[it.item] = it.w
		if it.w > s.srcW[it.item] {
			s.srcW[it.item], s.srcItem[it.item], s.srcKind[it.item] = it.w, int32(it.item), srcCoVisit
		}
	}
}

// addSource adds item src's neighbours in the graph of kind with weight w.
func (x *Index) addSource(s *scratch, src uint32, w float32, kind uint8) {
	g := &x.snap.CoVisit
	acc := s.covis
	if kind == srcBought {
		g, acc = &x.snap.BoughtTogether, s.bought
	}
	if g.Compact() {
		nbr, code := g.RowCodes(src)
		for j, c := range nbr {
			x.addEdge(s, acc, src, c, float32(w*g.Levels[code[j]]), kind)
		}
		return
	}
	nbr, wt := g.Row(src)
	for j, c := range nbr {
		x.addEdge(s, acc, src, c, float32(w*wt[j]), kind)
	}
}

// addEdge adds v, the evidence an edge from src gives item c, to acc.
func (x *Index) addEdge(s *scratch, acc []float32, src, c uint32, v float32, kind uint8) {
	s.touch(c)
	acc[c] += v
	if v > s.srcW[c] {
		s.srcW[c], s.srcItem[c], s.srcKind[c] = v, int32(src), kind
	}
}

// fromProfile adds the most popular items of the clusters nearest the
// session profile.
func (x *Index) fromProfile(s *scratch) {
	if len(s.sess) == 0 || x.cfg.ClusterProbe == 0 {
		return
	}
	x.probe(s, s.profile)
}

// fromVector makes the clusters nearest item it the candidates' pool.
func (x *Index) fromVector(s *scratch, it uint32) {
	clear(s.profile)
	x.addVector(s.profile, it, 1)
	normalize(s.profile)
	x.probe(s, s.profile)
}

func (x *Index) probe(s *scratch, v []float32) {
	k := x.snap.Clusters()
	d := x.dims
	s.cprobe = s.cprobe[:0]
	for c := range k {
		sc := dot(v, x.snap.Centroids[c*d:(c+1)*d])
		s.cprobe = pushTop(s.cprobe, x.cfg.ClusterProbe, cand{uint32(c), sc})
	}
	for _, c := range s.cprobe {
		members := x.clusterItems[x.clusterOff[c.item]:x.clusterOff[c.item+1]]
		for _, it := range members[:min(len(members), x.cfg.ClusterTake)] {
			s.touch(it)
		}
	}
}

// addTrending makes the first n trending items candidates.
func (x *Index) addTrending(s *scratch, n int) {
	tr := x.snap.Trending
	for _, it := range tr[:min(len(tr), n)] {
		s.touch(it)
		if s.srcKind[it] == srcNone {
			s.srcKind[it] = srcTrending
		}
	}
}

// fromQuery scores items by BM25 of the query (or the latest search event)
// over titles and categories.
func (x *Index) fromQuery(s *scratch, req *wire.RecommendRequest) {
	q := req.Query
	if q == "" {
		for i := len(req.Events) - 1; i >= 0; i-- {
			if req.Events[i].Type == wire.Search {
				q = req.Events[i].Query
				break
			}
		}
	}
	if x.text != nil && x.cfg.QueryVector > 0 {
		// Semantic match: the query's vector in the item space, and the
		// clusters nearest it as further candidates.
		s.qvec = x.text.Embed(q, s.qvec[:0])
		var n float32
		for _, v := range s.qvec {
			n += v * v
		}
		if n > 0 {
			s.hasQ = true
			x.probe(s, s.qvec)
		}
	}
	s.tk.reset(q)
	lex := x.lexicon()
	for tok, ok := s.tk.next(); ok; tok, ok = s.tk.next() {
		items, w := lex.posting(tok)
		for j, it := range items {
			s.touch(it)
			s.query[it] += w[j]
		}
	}
}

// score blends the evidence of every touched item into covis (reused as the
// final score) and decides each item's explanation.
func (x *Index) score(s *scratch, p wire.Placement, personal bool) {
	var maxC, maxB, maxQ, maxA float32
	for _, it := range s.touched {
		maxA = max(maxA, s.again[it])
		maxC = max(maxC, s.covis[it])
		maxB = max(maxB, s.bought[it])
		maxQ = max(maxQ, s.query[it])
	}
	inv := func(m float32) float32 {
		if m == 0 {
			return 0
		}
		return 1 / m
	}
	ic, ib, iq, ia := inv(maxC), inv(maxB), inv(maxQ), inv(maxA)
	wa := float32(x.cfg.Repeat)
	ws := float32(x.cfg.Segment)
	wc, wb, wv, wp := float32(x.cfg.CoVisit), float32(x.cfg.Bought), float32(x.cfg.Vector), float32(x.cfg.Pop)
	wt := float32(x.cfg.Trend)
	hasProfile := len(s.sess) > 0 || p == wire.Similar
	ps := quantizeInto(s.qprofile, s.profile)
	var qs, wqv float32
	if s.hasQ {
		qs, wqv = quantizeInto(s.qquery, s.qvec), float32(x.cfg.QueryVector)
	}
	if p == wire.Trending || !personal {
		// Nothing personal to go on: rank by what is trending.
		wc, wb, wv, wp, wt = 0, 0, 0, 0, 1
	}
	switch p {
	case wire.Similar:
		wv *= 4 // substitutes: geometry matters most
	case wire.BoughtTogether, wire.Cart:
		// complements: what was bought with the item first, what was
		// viewed with it next, and never mere look-alikes.
		wb, wc, wv = 1, 0.3, 0
	}
	for _, it := range s.touched {
		c := float32(s.covis[it] * ic * wc)
		b := float32(s.bought[it] * ib * wb)
		q := float32(s.query[it] * iq * 2)
		if wqv > 0 {
			// Only a clear semantic match counts as matching the query.
			if cq := x.cosine(s.qquery, qs, it); cq > queryMatch {
				q += float32((cq - queryMatch) / (1 - queryMatch) * wqv)
			}
		}
		c += float32(s.again[it] * ia * wa)
		sg := float32(s.segment[it] * ws)
		var v float32
		if hasProfile && wv > 0 {
			v = float32(x.cosine(s.qprofile, ps, it) * wv)
		}
		pop := float32(x.logPop[it]*wp) + float32(x.trend[it]*wt)
		s.covis[it] = c + b + q + v + pop + sg
		switch {
		case q > 0:
			s.srcKind[it] = srcQuery
		case sg > c+b && sg > v:
			s.srcKind[it] = srcSegment
		case s.srcKind[it] != srcNone && c+b > 0:
			// Behaviour explains it better than geometry: keep the graph source.
		case v > 0 && hasProfile:
			s.srcKind[it] = srcVector
		default:
			s.srcKind[it] = srcTrending
		}
	}
}

// queryMatch is the cosine between a query and an item vector above which
// the item counts as matching the query by meaning.
const queryMatch = 0.3

// eligible reports whether item it may be returned for req.
func (x *Index) eligible(req *wire.RecommendRequest, s *scratch, it uint32) bool {
	if s.flags[it]&flagBlocked != 0 {
		return false
	}
	f := &req.Filters
	items := &x.snap.Items
	if f.InStock && !items.InStock[it] {
		return false
	}
	price := float64(items.Prices[it])
	if f.PriceMin > 0 && price < f.PriceMin {
		return false
	}
	if f.PriceMax > 0 && price > f.PriceMax {
		return false
	}
	if len(f.Categories) > 0 {
		cat := items.Categories[it]
		ok := false
		for _, c := range f.Categories {
			if strings.HasPrefix(cat, c) && (len(cat) == len(c) || strings.HasPrefix(cat[len(c):], " > ")) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// selectTop picks the k best eligible candidates, honouring the category cap.
func (x *Index) selectTop(req *wire.RecommendRequest, s *scratch, k int, resp *wire.RecommendResponse) {
	want, capN := k, 0
	if x.cfg.CategoryShare > 0 {
		want = min(4*k, cap(s.heap))
		capN = max(1, int(math.Ceil(x.cfg.CategoryShare*float64(k))))
	}
	for _, it := range s.touched {
		if s.srcKind[it] == srcNone || !x.eligible(req, s, it) {
			continue
		}
		s.heap = pushTop(s.heap, want, cand{it, s.covis[it]})
	}
	sortDesc(s.heap)
	// The category cap holds an item back only for one at least half as
	// good: diversity may reorder close calls, never bury a clear winner.
	held := s.held[:0]
	for _, c := range s.heap {
		for len(held) > 0 && len(s.picked) < k && held[0].score > 2*c.score {
			s.picked = append(s.picked, held[0])
			held = held[1:]
		}
		if len(s.picked) == k {
			break
		}
		if capN > 0 && !x.takeCategory(s, c.item, capN) {
			held = append(held, c)
			continue
		}
		s.picked = append(s.picked, c)
	}
	// If the cap left room, fill it with the best of what it held back.
	for _, c := range held {
		if len(s.picked) == k {
			break
		}
		s.picked = append(s.picked, c)
	}
	s.held = held
	sortDesc(s.picked)
	for _, c := range s.picked {
		s.flags[c.item] |= flagPicked
		resp.Items = append(resp.Items, x.rec(s, c))
	}
}

func (x *Index) takeCategory(s *scratch, it uint32, capN int) bool {
	cat := x.snap.Items.Categories[it]
	if cat == "" {
		return true
	}
	for i, c := range s.cats {
		if c == cat {
			if s.catN[i] >= capN {
				return false
			}
			s.catN[i]++
			return true
		}
	}
	s.cats = append(s.cats, cat)
	s.catN = append(s.catN, 1)
	return true
}

// fill tops the answer up from the trending list, then from each cluster's
// most popular items, skipping what is already there.
func (x *Index) fill(req *wire.RecommendRequest, s *scratch, k int, resp *wire.RecommendResponse) {
	add := func(it uint32) bool {
		if len(resp.Items) >= k {
			return false
		}
		if s.flags[it]&flagPicked != 0 || !x.eligible(req, s, it) {
			return true
		}
		s.touch(it)
		s.flags[it] |= flagPicked
		s.srcKind[it], s.srcItem[it] = srcTrending, -1
		resp.Items = append(resp.Items, x.rec(s, cand{it, 0}))
		return true
	}
	for _, it := range x.snap.Trending {
		if !add(it) {
			return
		}
	}
	for _, it := range x.clusterItems {
		if !add(it) {
			return
		}
	}
}

func (x *Index) rec(s *scratch, c cand) wire.Rec {
	it := c.item
	items := &x.snap.Items
	r := wire.Rec{
		ID:       items.IDs[it],
		Title:    items.Titles[it],
		Category: items.Categories[it],
		Price:    round(float64(items.Prices[it]), 100),
		InStock:  items.InStock[it],
		Score:    round(float64(c.score), 1e6),
	}
	src := s.srcItem[it]
	switch s.srcKind[it] {
	case srcCoVisit:
		r.Reason = wire.ReasonViewed
	case srcBought:
		r.Reason = wire.ReasonBoughtWith
	case srcVector:
		r.Reason, src = wire.ReasonSimilarTo, s.ctx
		if src < 0 {
			src = x.closestSession(s, it)
		}
	case srcQuery:
		r.Reason, src = wire.ReasonMatchesQuery, -1
	case srcSegment:
		r.Reason, src = wire.ReasonPopularInSegment, -1
	default:
		r.Reason, src = wire.ReasonTrending, -1
	}
	if src >= 0 {
		r.Source = items.IDs[src]
	}
	return r
}

// closestSession returns the session item whose vector is nearest item it,
// or -1 when the session is empty.
func (x *Index) closestSession(s *scratch, it uint32) int32 {
	best, bestS := int32(-1), float32(math.Inf(-1))
	for _, si := range s.sess {
		d := x.itemDot(si.item, it)
		if d > bestS {
			best, bestS = int32(si.item), d
		}
	}
	return best
}

func (x *Index) anyPersonal(resp *wire.RecommendResponse) bool {
	for _, r := range resp.Items {
		if r.Reason != wire.ReasonTrending {
			return true
		}
	}
	return false
}

func round(v, scale float64) float64 { return math.Round(v*scale) / scale }
