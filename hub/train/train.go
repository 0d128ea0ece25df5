// Package train builds a region's index snapshot from a shop's catalog and
// past interactions: popularity and trending, the co-visitation and
// bought-together graphs, item vectors from behaviour and text, and item
// clusters. The hub runs it for real shops and `aisle eval` runs the same
// code on public datasets.
package train

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Item is one catalog entry.
type Item struct {
	ID       string
	Title    string
	Category string // levels joined by " > "
	Price    float32
	InStock  bool
	// Text is further words that describe the item (brand, tags); with the
	// title and category it places items that have no behaviour yet.
	Text string
	// Popularity is a prior engagement count from outside the sessions
	// (reviews, sales rank), added to what the sessions show.
	Popularity float64
}

// Interaction is one past event of a session, Item being an index into
// Input.Items. Time is Unix milliseconds, or 0 when only the order is known.
type Interaction struct {
	Item int32
	Type wire.EventType
	Time int64
}

// Input is everything a build reads.
type Input struct {
	Shop, Region string
	// Now is the build time in Unix milliseconds; it stamps the snapshot and
	// anchors trending. Zero means "the latest interaction time".
	Now      int64
	Items    []Item
	Sessions [][]Interaction
}

// Config tunes a build. DefaultConfig holds the values chosen on the
// validation split of the Amazon Beauty benchmark (see RATIONALE.md).
type Config struct {
	// Dims is the item vector length.
	Dims int
	// Neighbors is how many co-visitation neighbours each item keeps.
	Neighbors int
	// Window is how many events apart two events of a session may be and
	// still count as co-visited.
	Window int
	// Backward weights a pair seen in reverse order (b before a counts for
	// a→b) relative to the forward order.
	Backward float64
	// DistancePow discounts a pair d events apart by 1/d^DistancePow.
	DistancePow float64
	// SourcePow and TargetPow normalise a co-visitation count by the source
	// and target item's engagement raised to these powers.
	SourcePow, TargetPow float64
	// TextWeight scales title tokens against behaviour in the item vectors.
	TextWeight float64
	// Clusters is the number of item clusters; 0 picks sqrt(items/4)
	// within [1, 256].
	Clusters int
	// TrendingHalfLife is the half-life in milliseconds of the trending
	// score; 0 ranks trending by all-time popularity.
	TrendingHalfLife int64
	// TrendingSize is how many items the trending list keeps.
	TrendingSize int
	// Segments is the number of visitor segments; 0 picks one per 200
	// past sessions within [2, 24] (none below 100 sessions).
	Segments int
	// Seed makes vectors and clusters reproducible.
	Seed uint64
}

// DefaultConfig returns the tuned defaults.
func DefaultConfig() Config {
	return Config{
		Dims:             128,
		Neighbors:        20,
		Window:           8,
		Backward:         0.25,
		DistancePow:      0.5,
		SourcePow:        0.5,
		TargetPow:        0,
		TextWeight:       0.7,
		TrendingHalfLife: 7 * 24 * 3600 * 1000,
		TrendingSize:     200,
		Seed:             1,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Dims < 2 || c.Dims > 1024:
		return fmt.Errorf("train: dims %d outside [2, 1024]", c.Dims)
	case c.Neighbors < 1 || c.Neighbors > 1000:
		return fmt.Errorf("train: neighbors %d outside [1, 1000]", c.Neighbors)
	case c.Window < 1 || c.Window > 1000:
		return fmt.Errorf("train: window %d outside [1, 1000]", c.Window)
	case c.Backward < 0 || c.DistancePow < 0 || c.SourcePow < 0 || c.TargetPow < 0 || c.TextWeight < 0:
		return errors.New("train: weights and powers must be non-negative")
	case c.Segments < 0 || c.Segments > 1024:
		return fmt.Errorf("train: segments %d outside [0, 1024]", c.Segments)
	case c.Clusters < 0 || c.Clusters > 65535:
		return fmt.Errorf("train: clusters %d outside [0, 65535]", c.Clusters)
	case c.TrendingHalfLife < 0 || c.TrendingSize < 0:
		return errors.New("train: trending half-life and size must be non-negative")
	}
	return nil
}

// typeWeight is how much one event of each type says about interest.
func typeWeight(t wire.EventType) float64 {
	switch t {
	case wire.Purchase:
		return 1
	case wire.AddToCart:
		return 0.8
	case wire.Click:
		return 0.6
	case wire.View:
		return 0.5
	}
	return 0
}

// Build computes the snapshot for in. It never reads a clock.
func Build(cfg Config, in *Input) (*snapshot.Snapshot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := len(in.Items)
	if n == 0 {
		return nil, errors.New("train: no items")
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("train: %d items is too many", n)
	}
	now := in.Now
	for si, s := range in.Sessions {
		for ei, e := range s {
			if e.Item < 0 || int(e.Item) >= n {
				return nil, fmt.Errorf("train: session %d event %d: item %d outside the catalog of %d", si, ei, e.Item, n)
			}
			if in.Now == 0 && e.Time > now {
				now = e.Time
			}
		}
	}

	s := &snapshot.Snapshot{Shop: in.Shop, Region: in.Region, Built: now, Dims: cfg.Dims}
	it := &s.Items
	it.IDs = make([]string, n)
	it.Titles = make([]string, n)
	it.Categories = make([]string, n)
	it.Prices = make([]float32, n)
	it.InStock = make([]bool, n)
	for i, x := range in.Items {
		if x.ID == "" || len(x.ID) > wire.MaxString {
			return nil, fmt.Errorf("train: item %d: id of %d bytes, want 1 to %d", i, len(x.ID), wire.MaxString)
		}
		// Titles and categories travel in every answer, where the wire
		// contract allows wire.MaxString bytes: cut longer ones (the full
		// text still shapes the item's vector).
		it.IDs[i], it.Titles[i], it.Categories[i] = x.ID, clip(x.Title), clip(x.Category)
		it.Prices[i], it.InStock[i] = x.Price, x.InStock
	}

	pop, trend := popularity(in.Items, in.Sessions, now, cfg.TrendingHalfLife)
	it.Popularity = make([]float32, n)
	for i, p := range pop {
		it.Popularity[i] = float32(p)
	}
	s.Trending, s.TrendingScore = topItems(trend, cfg.TrendingSize)

	s.CoVisit = coVisit(cfg, in.Sessions, n, pop)
	s.BoughtTogether = boughtTogether(cfg, in.Sessions, n)

	vecs := itemVectors(cfg, in, s.CoVisit, pop)
	s.Vectors, s.Scales = quantize(vecs, n, cfg.Dims)

	k := cfg.Clusters
	if k == 0 {
		k = int(math.Sqrt(float64(n) / 4))
		k = max(1, min(k, 256))
	}
	k = min(k, n)
	cent, assign := kmeans(vecs, n, cfg.Dims, k, cfg.Seed)
	s.Centroids = cent
	it.Cluster = assign
	s.ClusterLabels = clusterLabels(in.Items, assign, k)
	// Number items cluster by cluster, most popular first: neighbours then
	// sit close in number and the snapshot stores them in fewer bytes.
	s, err := snapshot.Renumber(s, snapshot.ClusterOrder(s))
	if err != nil {
		return nil, err
	}
	if seg := buildSegments(cfg, in, s); seg != nil {
		s.Sections = append(s.Sections, snapshot.Section{Name: rank.SegmentsSection, Data: seg.Marshal()})
	}
	return s, nil
}

// clip shortens s to at most wire.MaxString bytes at a character boundary,
// ending it with "…" when it cuts.
func clip(s string) string {
	if len(s) <= wire.MaxString {
		return s
	}
	const ellipsis = "…"
	cut := wire.MaxString - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
