package rank

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// fixture is a ten-item shop: two clusters (toys a0..a4, books b0..b4),
// hand-made graphs, and a trending list led by b4.
func fixture(t testing.TB) *Index {
	t.Helper()
	ids := []string{"a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4"}
	n := len(ids)
	s := &snapshot.Snapshot{Shop: "s", Region: "r", Built: 1, Version: "v1", Dims: 4}
	it := &s.Items
	for i, id := range ids {
		it.IDs = append(it.IDs, id)
		cat := "Toys > Bricks"
		title := fmt.Sprintf("red brick set %d", i)
		if id[0] == 'b' {
			cat, title = "Books > Picture", fmt.Sprintf("bedtime story book %d", i)
		}
		if id == "a4" {
			cat = "Toys > Dolls"
		}
		it.Titles = append(it.Titles, title)
		it.Categories = append(it.Categories, cat)
		it.Prices = append(it.Prices, float32(5*(i+1)))
		it.InStock = append(it.InStock, id != "a3")
		it.Popularity = append(it.Popularity, float32(10+i))
		c := uint16(0)
		if id[0] == 'b' {
			c = 1
		}
		it.Cluster = append(it.Cluster, c)
		// Toys point along x, books along y, with a small per-item twist.
		v := []int8{100, int8(i), 0, 10}
		if c == 1 {
			v = []int8{0, 100, int8(i), 10}
		}
		s.Vectors = append(s.Vectors, v...)
		s.Scales = append(s.Scales, 0.01)
	}
	s.Centroids = []float32{1, 0, 0, 0, 0, 1, 0, 0}
	s.ClusterLabels = []string{"brick", "book"}
	s.CoVisit = graph(n, map[int][]nw{
		0: {{1, 5}, {2, 3}, {5, 1}},
		1: {{0, 5}, {2, 4}},
		2: {{1, 4}, {3, 2}},
		5: {{6, 3}, {0, 1}},
		6: {{5, 3}, {7, 2}},
	})
	s.BoughtTogether = graph(n, map[int][]nw{
		0: {{4, 2}},
		4: {{0, 2}},
	})
	s.Trending = []uint32{9, 8, 0, 1}
	s.TrendingScore = []float32{9, 8, 7, 6}
	x, err := New(s, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

type nw struct {
	n int
	w float32
}

func graph(n int, rows map[int][]nw) snapshot.Graph {
	g := snapshot.Graph{Offsets: make([]uint32, n+1)}
	for i := range n {
		for _, e := range rows[i] {
			g.Nbr = append(g.Nbr, uint32(e.n))
			g.Weight = append(g.Weight, e.w)
		}
		g.Offsets[i+1] = uint32(len(g.Nbr))
	}
	return g
}

func rank(t *testing.T, x *Index, req wire.RecommendRequest) wire.RecommendResponse {
	t.Helper()
	var resp wire.RecommendResponse
	if err := x.Rank(&req, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func ids(r wire.RecommendResponse) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ID)
	}
	return out
}

func has(r wire.RecommendResponse, id string) bool {
	for _, it := range r.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}

func ev(typ wire.EventType, item string, ts int64) wire.Event {
	return wire.Event{Type: typ, Item: item, Time: ts}
}

func TestForYouFollowsSession(t *testing.T) {
	x := fixture(t)
	r := rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 3, Events: []wire.Event{ev(wire.View, "a0", 1)}})
	if r.Fallback {
		t.Fatal("personal answer flagged as fallback")
	}
	// A viewed item stays eligible (visitors return to what they just
	// looked at); after it comes its strongest co-visitation neighbour.
	if r.Items[0].ID != "a0" || r.Items[0].Source != "a0" {
		t.Fatalf("top = %+v, want a0 itself", r.Items[0])
	}
	if r.Items[1].ID != "a1" || r.Items[1].Reason != wire.ReasonViewed || r.Items[1].Source != "a0" {
		t.Fatalf("second = %+v, want a1 viewed because of a0", r.Items[1])
	}
	if r.Index != "v1" {
		t.Fatalf("index = %q", r.Index)
	}
	for i := 1; i < len(r.Items); i++ {
		if r.Items[i].Score > r.Items[i-1].Score {
			t.Fatalf("scores not descending: %v", r.Items)
		}
	}
	// The most recent item leads: after a0 then b0, b0's neighbour b1 wins.
	r = rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 3, Events: []wire.Event{ev(wire.View, "a0", 1), ev(wire.View, "b0", 2)}})
	if r.Items[0].ID != "b1" && r.Items[0].ID != "b0" {
		t.Fatalf("recency ignored: %v", ids(r))
	}
}

func TestRulesBlockCartAndPurchases(t *testing.T) {
	x := fixture(t)
	base := []wire.Event{ev(wire.View, "a0", 1)}
	tests := []struct {
		name   string
		events []wire.Event
		absent []string
		want   []string
	}{
		{"purchased", append(base, ev(wire.Purchase, "a1", 2)), []string{"a1"}, nil},
		{"in cart", append(base, ev(wire.AddToCart, "a1", 2)), []string{"a1"}, nil},
		{"removed from cart", append(base, ev(wire.AddToCart, "a1", 2), ev(wire.RemoveFromCart, "a1", 3)), nil, []string{"a1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 10, Events: tc.events})
			for _, id := range tc.absent {
				if has(r, id) {
					t.Errorf("%s returned: %v", id, ids(r))
				}
			}
			for _, id := range tc.want {
				if !has(r, id) {
					t.Errorf("%s missing: %v", id, ids(r))
				}
			}
		})
	}
}

func TestFilters(t *testing.T) {
	x := fixture(t)
	sess := []wire.Event{ev(wire.View, "a0", 1), ev(wire.View, "b0", 2)}
	tests := []struct {
		name string
		f    wire.Filters
		ok   func(wire.Rec) bool
	}{
		{"category prefix", wire.Filters{Categories: []string{"Toys"}}, func(r wire.Rec) bool { return r.Category[:4] == "Toys" }},
		{"category level must match whole", wire.Filters{Categories: []string{"Toys > Brick"}}, func(wire.Rec) bool { return false }},
		{"price range", wire.Filters{PriceMin: 10, PriceMax: 30}, func(r wire.Rec) bool { return r.Price >= 10 && r.Price <= 30 }},
		{"in stock", wire.Filters{InStock: true}, func(r wire.Rec) bool { return r.InStock }},
		{"exclude", wire.Filters{Exclude: []string{"a1", "b1"}}, func(r wire.Rec) bool { return r.ID != "a1" && r.ID != "b1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 10, Events: sess, Filters: tc.f})
			for _, it := range r.Items {
				if !tc.ok(it) {
					t.Errorf("%+v violates the filter", it)
				}
			}
		})
	}
	// Only the filter decides what a filtered answer can hold: with a
	// filter no item passes, the answer is empty, not padded.
	r := rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 5, Events: sess, Filters: wire.Filters{PriceMin: 1000}})
	if len(r.Items) != 0 || !r.Fallback {
		t.Fatalf("impossible filter: %v fallback=%v", ids(r), r.Fallback)
	}
}

func TestEmptySessionFallsBackToTrending(t *testing.T) {
	x := fixture(t)
	r := rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 3})
	if !r.Fallback {
		t.Fatal("empty session not flagged as fallback")
	}
	if got := ids(r); fmt.Sprint(got) != "[b4 b3 a0]" {
		t.Fatalf("fallback = %v, want trending order", got)
	}
	for _, it := range r.Items {
		if it.Reason != wire.ReasonTrending || it.Source != "" {
			t.Fatalf("fallback item %+v", it)
		}
	}
	// Unknown items in the session are ignored, not an error.
	r = rank(t, x, wire.RecommendRequest{Placement: wire.ForYou, K: 3, Events: []wire.Event{ev(wire.View, "nope", 1)}})
	if !r.Fallback || len(r.Items) != 3 {
		t.Fatalf("unknown item: %v fallback=%v", ids(r), r.Fallback)
	}
	// The trending placement is never a fallback.
	r = rank(t, x, wire.RecommendRequest{Placement: wire.Trending, K: 2, Filters: wire.Filters{Categories: []string{"Toys"}}})
	if r.Fallback || fmt.Sprint(ids(r)) != "[a0 a1]" {
		t.Fatalf("trending in Toys = %v fallback=%v", ids(r), r.Fallback)
	}
}

func TestSimilarAndBoughtTogether(t *testing.T) {
	x := fixture(t)
	r := rank(t, x, wire.RecommendRequest{Placement: wire.Similar, Item: "a0", K: 4})
	if has(r, "a0") {
		t.Fatal("similar returned the context item")
	}
	if r.Items[0].Source != "a0" || r.Items[0].ID[0] != 'a' {
		t.Fatalf("similar to a0 = %+v", r.Items)
	}
	r = rank(t, x, wire.RecommendRequest{Placement: wire.BoughtTogether, Item: "a0", K: 3})
	if r.Items[0].ID != "a4" || r.Items[0].Reason != wire.ReasonBoughtWith || r.Items[0].Source != "a0" {
		t.Fatalf("bought together with a0 = %+v", r.Items[0])
	}
	r = rank(t, x, wire.RecommendRequest{Placement: wire.Cart, K: 3, Events: []wire.Event{ev(wire.AddToCart, "a4", 1)}})
	if r.Items[0].ID != "a0" || r.Items[0].Reason != wire.ReasonBoughtWith || has(r, "a4") {
		t.Fatalf("cart with a4 = %+v", r.Items)
	}
}

func TestSearch(t *testing.T) {
	x := fixture(t)
	r := rank(t, x, wire.RecommendRequest{Placement: wire.SearchResults, Query: "Bedtime STORY", K: 3})
	if len(r.Items) != 3 || r.Fallback {
		t.Fatalf("search = %v fallback=%v", ids(r), r.Fallback)
	}
	for _, it := range r.Items {
		if it.ID[0] != 'b' || it.Reason != wire.ReasonMatchesQuery {
			t.Fatalf("search hit %+v", it)
		}
	}
	r = rank(t, x, wire.RecommendRequest{Placement: wire.SearchResults, Query: "zebra", K: 3})
	if !r.Fallback {
		t.Fatal("a query nothing matches must fall back")
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	x := fixture(t)
	req := wire.RecommendRequest{Placement: wire.ForYou, K: 6, Events: []wire.Event{ev(wire.View, "a2", 1), ev(wire.Click, "b0", 2), ev(wire.AddToCart, "a1", 3)}}
	want, _ := json.Marshal(rank(t, x, req))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				var resp wire.RecommendResponse
				r := req
				if err := x.Rank(&r, &resp); err != nil {
					errs <- err.Error()
					return
				}
				got, _ := json.Marshal(resp)
				if string(got) != string(want) {
					errs <- string(got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("answers differ: %s vs %s", e, want)
	}
}

// TestLexiconBuiltOnceOnFirstSearch: the lexical index is built by the
// first search, not by New; concurrent first searches on a fresh index all
// get the answer of an index whose lexicon was built before any request.
func TestLexiconBuiltOnceOnFirstSearch(t *testing.T) {
	s := snapshot.Synthetic(2000, 8, 5, 12, 9)
	query := strings.Fields(s.Items.Titles[7])[0] + " " + strings.Fields(s.Items.Titles[1200])[0]
	req := wire.RecommendRequest{Placement: wire.SearchResults, Query: query, K: 10, Now: 1}
	eager, err := New(s, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	eager.lexicon()
	want, _ := json.Marshal(rank(t, eager, req))

	x, err := New(s, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if x.lex.Load() != nil {
		t.Fatal("New built the lexical index; the first search should")
	}
	// Other placements never need it.
	rank(t, x, wire.RecommendRequest{Placement: wire.Trending, K: 5, Now: 1})
	if x.lex.Load() != nil {
		t.Fatal("a trending request built the lexical index")
	}
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			var resp wire.RecommendResponse
			r := req
			if err := x.Rank(&r, &resp); err != nil {
				t.Error(err)
				return
			}
			got[i], _ = json.Marshal(resp)
		})
	}
	wg.Wait()
	for i, g := range got {
		if string(g) != string(want) {
			t.Fatalf("concurrent first search %d: %s; want %s", i, g, want)
		}
	}

	// Trim drops the lexical index and the idle scratch spaces; the next
	// search builds it again and answers the same.
	x.Trim()
	if x.lex.Load() != nil || len(x.free) != 0 {
		t.Fatalf("after Trim: lexicon %v, %d idle scratch spaces", x.lex.Load() != nil, len(x.free))
	}
	if g, _ := json.Marshal(rank(t, x, req)); string(g) != string(want) {
		t.Fatalf("search after Trim: %s; want %s", g, want)
	}
	if x.lex.Load() == nil {
		t.Fatal("the search after Trim did not rebuild the lexical index")
	}
}

func TestRankAllocatesNothing(t *testing.T) {
	x := fixture(t)
	req := wire.RecommendRequest{Placement: wire.ForYou, K: 5, Events: []wire.Event{ev(wire.View, "a2", 1), ev(wire.View, "b0", 2)}}
	var resp wire.RecommendResponse
	_ = x.Rank(&req, &resp)
	for _, p := range []wire.Placement{wire.ForYou, wire.Similar, wire.SearchResults, wire.Cart, wire.Trending} {
		req.Placement, req.Item, req.Query = p, "a0", "brick"
		allocs := testing.AllocsPerRun(100, func() { _ = x.Rank(&req, &resp) })
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per request", p, allocs)
		}
	}
}

func TestCategoryCap(t *testing.T) {
	x := fixture(t)
	req := wire.RecommendRequest{Placement: wire.ForYou, K: 2, Events: []wire.Event{ev(wire.View, "a0", 1)}}
	cfg := DefaultConfig()
	cfg.CategoryShare = 0
	plain, _ := New(x.snap, cfg)
	r := rank(t, plain, req)
	if r.Items[0].Category != r.Items[1].Category {
		t.Fatalf("without a cap the two best share a category: %+v", r.Items)
	}
	cfg.CategoryShare = 0.5 // one of two
	capped, _ := New(x.snap, cfg)
	r = rank(t, capped, req)
	if r.Items[0].Category == r.Items[1].Category {
		t.Fatalf("category %q twice although a close alternative qualifies: %+v", r.Items[0].Category, r.Items)
	}
	// The cap never lets a far weaker item jump ahead: with k=4 the third
	// brick set (score 3) beats the remaining candidates (at most 2.1, then
	// trending at 0.02), so it is kept although its category is full.
	req.K = 4
	r = rank(t, capped, req)
	bricks := 0
	for _, it := range r.Items {
		if it.Category == "Toys > Bricks" {
			bricks++
		}
	}
	if bricks < 3 {
		t.Fatalf("a clear winner was buried by the cap: %+v", r.Items)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Decay = 1.5 },
		func(c *Config) { c.MaxHistory = 0 },
		func(c *Config) { c.Vector = -1 },
		func(c *Config) { c.ClusterProbe = 1000 },
		func(c *Config) { c.CategoryShare = 1.5 },
	}
	for i, f := range bad {
		c := DefaultConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsForShortSessions(t *testing.T) {
	x := fixture(t)
	s := *x.snap
	seg := &Segments{Dims: 4, Centroids: []float32{1, 0, 0, 0, 0, 1, 0, 0}, Labels: []string{"Toys", "Books"}, Items: [][]uint32{{3, 4}, {9, 8}}}
	s.Sections = []snapshot.Section{{Name: SegmentsSection, Data: seg.Marshal()}}
	cfg := DefaultConfig()
	cfg.Vector, cfg.Segment = 0, 1
	y, err := New(&s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if y.Segments() == nil {
		t.Fatal("segments not loaded")
	}
	r := rank(t, y, wire.RecommendRequest{Placement: wire.ForYou, K: 10, Events: []wire.Event{ev(wire.View, "b2", 1)}})
	found := false
	for _, it := range r.Items {
		if it.ID == "b3" {
			found = it.Reason == wire.ReasonPopularInSegment && it.Source == ""
		}
	}
	if !found {
		t.Fatalf("a books visitor is not shown the books segment's item b3: %+v", r.Items)
	}
	// A long session no longer leans on the segment.
	var long []wire.Event
	for i, id := range []string{"a0", "a1", "a2", "b0"} {
		long = append(long, ev(wire.View, id, int64(i)))
	}
	r = rank(t, y, wire.RecommendRequest{Placement: wire.ForYou, K: 10, Events: long})
	for _, it := range r.Items {
		if it.Reason == wire.ReasonPopularInSegment {
			t.Fatalf("segment reason with a four-item session: %+v", it)
		}
	}
	// A corrupt section is refused when the index is built.
	s.Sections = []snapshot.Section{{Name: SegmentsSection, Data: []byte{1}}}
	if _, err := New(&s, cfg); err == nil {
		t.Fatal("corrupt segments accepted")
	}
}

func TestNewRefusesUnanswerableStrings(t *testing.T) {
	x := fixture(t)
	s := *x.snap
	s.Items.Titles = append([]string(nil), s.Items.Titles...)
	s.Items.Titles[3] = strings.Repeat("x", wire.MaxString+1)
	if _, err := New(&s, DefaultConfig()); err == nil || !strings.Contains(err.Error(), "wire limit") {
		t.Fatalf("long title: %v", err)
	}
}

func TestSemanticSearch(t *testing.T) {
	x := fixture(t)
	s := *x.snap
	// A text model that knows "storybook" (in no title) means books.
	vocab := []string{embed.PadToken, embed.UnkToken, "storybook", "bricks"}
	weights := []float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0.1, 1, 0, 0, 0.1}
	e, err := embed.Quantize(vocab, 4, weights, embed.DefaultMaxTokens)
	if err != nil {
		t.Fatal(err)
	}
	s.Sections = []snapshot.Section{{Name: embed.SectionName, Data: e.Marshal()}}
	y, err := New(&s, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	req := wire.RecommendRequest{Placement: wire.SearchResults, Query: "Storybook", K: 4}
	r := rank(t, y, req)
	if r.Fallback || len(r.Items) != 4 {
		t.Fatalf("semantic search: %v fallback=%v", ids(r), r.Fallback)
	}
	for _, it := range r.Items {
		if it.ID[0] != 'b' || it.Reason != wire.ReasonMatchesQuery {
			t.Fatalf("storybook matched %+v in %+v", it, r.Items)
		}
	}
	// Without the text model the same query finds nothing.
	if r := rank(t, x, req); !r.Fallback {
		t.Fatalf("lexical search matched %v", ids(r))
	}
	var resp wire.RecommendResponse
	if allocs := testing.AllocsPerRun(50, func() { _ = y.Rank(&req, &resp) }); allocs != 0 {
		t.Errorf("%.1f allocations per semantic search", allocs)
	}
	// A text model of another width is refused.
	e2, _ := embed.Quantize(vocab, 2, make([]float32, 8), embed.DefaultMaxTokens)
	s.Sections = []snapshot.Section{{Name: embed.SectionName, Data: e2.Marshal()}}
	if _, err := New(&s, DefaultConfig()); err == nil {
		t.Fatal("text model of 2 dimensions accepted for 4-dimension items")
	}
}
