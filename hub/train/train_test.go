package train

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

func views(items ...int32) []Interaction {
	s := make([]Interaction, len(items))
	for i, it := range items {
		s[i] = Interaction{Item: it, Type: wire.View, Time: int64(i+1) * 1000}
	}
	return s
}

func shop(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{ID: fmt.Sprintf("i%d", i), Title: fmt.Sprintf("item %d", i), InStock: true}
	}
	return items
}

// num returns the snapshot's number for the item the input numbered i
// (Build renumbers items cluster by cluster).
func num(s *snapshot.Snapshot, i int) uint32 {
	for j, id := range s.Items.IDs {
		if id == fmt.Sprintf("i%d", i) || id == fmt.Sprintf("t%d", i) {
			return uint32(j)
		}
	}
	panic(fmt.Sprintf("item %d not in snapshot", i))
}

// weight returns the weight of input items a→b in graph g of snapshot s.
func weight(s *snapshot.Snapshot, g snapshot.Graph, a, b int) float32 {
	nb, w := g.Row(num(s, a))
	for j, x := range nb {
		if x == num(s, b) {
			return w[j]
		}
	}
	return 0
}

func TestCoVisitDirectionWindowAndCut(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window, cfg.Backward, cfg.DistancePow, cfg.SourcePow, cfg.TargetPow = 2, 0.25, 1, 0, 0
	cfg.Neighbors = 2
	in := &Input{Items: shop(6), Sessions: [][]Interaction{views(0, 1, 2, 3), views(0, 1), views(4, 0)}}
	s, err := Build(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	g := s.CoVisit
	// 0→1 twice at distance 1; 1→0 is the backward direction of those.
	if w01, w10 := weight(s, g, 0, 1), weight(s, g, 1, 0); !(w01 > w10) || math.Abs(float64(w10/w01)-0.25) > 1e-6 {
		t.Errorf("0→1 %v, 1→0 %v: want forward four times backward", w01, w10)
	}
	// 0 and 3 are three events apart: outside the window.
	if weight(s, g, 0, 3) != 0 || weight(s, g, 3, 0) != 0 {
		t.Error("pair beyond the window linked")
	}
	// Distance discounts: 0→2 (distance 2, once) weighs a quarter of 0→1
	// (distance 1, twice); views weigh 0.5 each, so one 0→2 pair is 0.25.
	if w, w01 := weight(s, g, 0, 2), weight(s, g, 0, 1); math.Abs(float64(w)-0.25) > 1e-6 || math.Abs(float64(w01/w)-4) > 1e-6 {
		t.Errorf("0→2 = %v, 0→1 = %v: want 0.25 and four times that", w, w01)
	}
	for i := range 6 {
		nb, w := g.Row(num(s, i))
		if len(nb) > 2 {
			t.Errorf("item %d keeps %d neighbours, cut is 2", i, len(nb))
		}
		for j := 1; j < len(w); j++ {
			if w[j] > w[j-1] {
				t.Errorf("item %d row not strongest first: %v", i, w)
			}
		}
	}
	if nb, _ := g.Row(num(s, 5)); len(nb) != 0 {
		t.Error("item never seen has neighbours")
	}
}

func TestBoughtTogetherOnlyFromPurchases(t *testing.T) {
	buy := func(items ...int32) []Interaction {
		s := views(items...)
		for i := range s {
			s[i].Type = wire.Purchase
		}
		return s
	}
	in := &Input{Items: shop(5), Sessions: [][]Interaction{buy(0, 1), buy(1, 0), views(2, 3), append(buy(4), views(0)...)}}
	s, err := Build(DefaultConfig(), in)
	if err != nil {
		t.Fatal(err)
	}
	if weight(s, s.BoughtTogether, 0, 1) == 0 || weight(s, s.BoughtTogether, 1, 0) == 0 {
		t.Error("co-purchased items not linked both ways")
	}
	if weight(s, s.BoughtTogether, 2, 3) != 0 || weight(s, s.BoughtTogether, 4, 0) != 0 {
		t.Error("viewed items linked as bought together")
	}
}

func TestTrendingFavoursRecent(t *testing.T) {
	day := int64(24 * 3600 * 1000)
	cfg := DefaultConfig()
	cfg.TrendingHalfLife = day
	var sessions [][]Interaction
	// Item 0: five old views; item 1: three views today.
	for range 5 {
		sessions = append(sessions, []Interaction{{Item: 0, Type: wire.View, Time: 1}})
	}
	for range 3 {
		sessions = append(sessions, []Interaction{{Item: 1, Type: wire.View, Time: 30 * day}})
	}
	s, err := Build(cfg, &Input{Items: shop(3), Sessions: sessions, Now: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Trending) != 2 || s.Trending[0] != num(s, 1) {
		t.Fatalf("trending = %v, want item 1 first and unseen item 2 absent", s.Trending)
	}
	if s.Items.Popularity[num(s, 0)] <= s.Items.Popularity[num(s, 1)] {
		t.Error("all-time popularity should still favour item 0")
	}
	if s.Built != 30*day {
		t.Errorf("built = %d", s.Built)
	}
}

func cos(s *snapshot.Snapshot, a, b int) float64 {
	a, b = int(num(s, a)), int(num(s, b))
	d := s.Dims
	var dot, na, nb float64
	for j := range d {
		x, y := float64(s.Vectors[a*d+j]), float64(s.Vectors[b*d+j])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func TestVectorsFromBehaviourAndText(t *testing.T) {
	titles := []string{
		"wooden train set with tracks", "wooden train engine and carriages", "electric train set tracks",
		"princess doll with dress", "fashion doll dress set", "doll house furniture",
		"jigsaw puzzle 1000 pieces", "jigsaw puzzle 500 pieces landscape",
	}
	items := make([]Item, len(titles))
	for i, tt := range titles {
		items[i] = Item{ID: fmt.Sprintf("t%d", i), Title: tt}
	}
	// Behaviour links the trains and the dolls; item 7 has no behaviour.
	r := rand.New(rand.NewPCG(1, 2))
	var sessions [][]Interaction
	for range 60 {
		g := [][]int32{{0, 1, 2}, {3, 4, 5}}[r.IntN(2)]
		sessions = append(sessions, views(g[r.IntN(3)], g[r.IntN(3)], g[r.IntN(3)], 6))
	}
	cfg := DefaultConfig()
	cfg.Dims = 8
	s, err := Build(cfg, &Input{Items: items, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	if !(cos(s, 0, 1) > cos(s, 0, 3)) || !(cos(s, 3, 4) > cos(s, 3, 0)) {
		t.Errorf("behaviour ignored: cos(0,1)=%.2f cos(0,3)=%.2f cos(3,4)=%.2f", cos(s, 0, 1), cos(s, 0, 3), cos(s, 3, 4))
	}
	// Cold start: item 7 has only its title, which it shares with item 6.
	if s.Scales[num(s, 7)] == 0 {
		t.Fatal("item with text but no behaviour has no vector")
	}
	if !(cos(s, 7, 6) > cos(s, 7, 0)) || !(cos(s, 7, 6) > cos(s, 7, 3)) {
		t.Errorf("cold item not placed by its text: cos(7,6)=%.2f cos(7,0)=%.2f", cos(s, 7, 6), cos(s, 7, 0))
	}
	if s.Clusters() < 1 || len(s.ClusterLabels) != s.Clusters() {
		t.Errorf("clusters %d, labels %d", s.Clusters(), len(s.ClusterLabels))
	}
}

func TestBuildDeterministicAndValid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	items := shop(300)
	var sessions [][]Interaction
	for range 500 {
		var s []int32
		for range 2 + r.IntN(8) {
			s = append(s, int32(r.IntN(len(items))))
		}
		sessions = append(sessions, views(s...))
	}
	in := &Input{Shop: "s", Region: "r", Items: items, Sessions: sessions}
	var prev []byte
	for i := range 2 {
		s, err := Build(DefaultConfig(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := snapshot.Validate(s); err != nil {
			t.Fatal(err)
		}
		b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && !bytes.Equal(b, prev) {
			t.Fatal("two builds of the same input differ")
		}
		prev = b
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		in   *Input
	}{
		{"no items", nil, &Input{}},
		{"item out of range", nil, &Input{Items: shop(2), Sessions: [][]Interaction{views(0, 5)}}},
		{"negative item", nil, &Input{Items: shop(2), Sessions: [][]Interaction{views(-1)}}},
		{"bad dims", func(c *Config) { c.Dims = 1 }, &Input{Items: shop(2)}},
		{"bad window", func(c *Config) { c.Window = 0 }, &Input{Items: shop(2)}},
		{"negative weight", func(c *Config) { c.Backward = -1 }, &Input{Items: shop(2)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if _, err := Build(cfg, tc.in); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestTokens(t *testing.T) {
	got := fmt.Sprint(Tokens("Argan Oil &amp; Elixir — 16-Ounce (Pack of 2) Crème"))
	if got != "[argan oil amp elixir 16 ounce pack of crème]" {
		t.Fatalf("tokens = %s", got)
	}
}

func TestSegments(t *testing.T) {
	// Two kinds of visitors: toy browsers and book browsers.
	items := make([]Item, 40)
	for i := range items {
		cat := "Toys"
		if i >= 20 {
			cat = "Books"
		}
		items[i] = Item{ID: fmt.Sprintf("i%d", i), Title: fmt.Sprintf("%s item %d", cat, i), Category: cat}
	}
	r := rand.New(rand.NewPCG(7, 8))
	var sessions [][]Interaction
	for range 400 {
		base := int32(20 * r.IntN(2))
		var s []int32
		for range 3 + r.IntN(4) {
			s = append(s, base+int32(r.IntN(20)))
		}
		sessions = append(sessions, views(s...))
	}
	cfg := DefaultConfig()
	cfg.Dims, cfg.Segments = 8, 2
	s, err := Build(cfg, &Input{Items: items, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Section(rank.SegmentsSection)
	if b == nil {
		t.Fatal("no segments section")
	}
	seg, err := rank.UnmarshalSegments(b, s.Len(), s.Dims)
	if err != nil {
		t.Fatal(err)
	}
	labels := fmt.Sprint(seg.Labels)
	if len(seg.Labels) != 2 || !strings.Contains(labels, "Toys") || !strings.Contains(labels, "Books") {
		t.Fatalf("labels %v, want one Toys and one Books segment", seg.Labels)
	}
	for c, items := range seg.Items {
		want := strings.SplitN(seg.Labels[c], " ", 2)[0]
		for _, it := range items {
			if s.Items.Categories[it] != want {
				t.Errorf("segment %q holds %s of %s", seg.Labels[c], s.Items.IDs[it], s.Items.Categories[it])
			}
		}
	}
	// Too few sessions: no segments.
	s, _ = Build(cfg, &Input{Items: items, Sessions: sessions[:50]})
	if s.Section(rank.SegmentsSection) != nil {
		t.Error("segments from 50 sessions")
	}
}

func TestLongTitlesAreClipped(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	items := []Item{{ID: "i0", Title: long, Category: "Toys"}, {ID: "i1", Title: "short"}}
	s, err := Build(DefaultConfig(), &Input{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Items.Titles[num(s, 0)]
	if len(got) > wire.MaxString || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Fatalf("clipped title %d bytes %q…", len(got), got[:20])
	}
	if s.Items.Titles[num(s, 1)] != "short" {
		t.Fatal("short title changed")
	}
	if _, err := Build(DefaultConfig(), &Input{Items: []Item{{ID: strings.Repeat("x", wire.MaxString+1)}}}); err == nil {
		t.Fatal("an id no request can name was accepted")
	}
}
