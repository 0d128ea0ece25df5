// Package rank is the ranking core every edge runs: it turns a visitor's
// in-session events and a region snapshot into a ranked, filtered,
// diversified and explained list of items.
//
// It is pure Go — no clock, no I/O, no platform packages — so the same code
// runs natively, inside the wazero-hosted Wasm module, on Cloudflare Workers
// and in tests, and returns byte-identical answers everywhere. A request in
// the steady state allocates nothing: scratch space is reused between requests and the
// response reuses the caller's slice.
package rank

import (
	"errors"
	"fmt"
	"math"
)

// Config tunes the blend. DefaultConfig holds the values chosen on the
// validation split of the Amazon Beauty benchmark (see RATIONALE.md).
type Config struct {
	// Decay is the weight of an event relative to the one after it (the most
	// recent event weighs 1, the one before Decay, then Decay², …).
	Decay float64
	// TimeHalfLife halves an event's weight every so many milliseconds of
	// age; 0 disables time decay.
	TimeHalfLife int64
	// MaxHistory is how many distinct recent session items feed the profile.
	MaxHistory int
	// CoVisit, Bought, Vector and Pop weight the four evidence sources:
	// co-visitation from session items, bought-together from purchased and
	// carted items, cosine between the session profile and the item vector,
	// and (log) popularity.
	CoVisit, Bought, Vector, Pop float64
	// Segment weights the items characteristic of the visitor's nearest
	// segment on for_you while the session holds at most SegmentSession
	// distinct items; 0 disables segments.
	Segment        float64
	SegmentSession int
	// QueryVector weights the semantic match between a search query,
	// embedded with the snapshot's text model, and an item.
	QueryVector float64
	// Trend weights the trending score on personal placements.
	Trend float64
	// Repeat weights the session's own (viewed, not bought) items on the
	// for_you placement.
	Repeat float64
	// ClusterProbe is how many clusters nearest the profile add candidates,
	// and ClusterTake how many of each cluster's most popular items they add.
	ClusterProbe, ClusterTake int
	// TrendingTake is how many trending items join every candidate set.
	TrendingTake int
	// CategoryShare is the largest share of a response (rounded up) that one
	// category may take while enough items of other categories qualify;
	// 0 disables the cap. Items without a category are never capped.
	CategoryShare float64
	// SimilarMix weights the session against the context item on the
	// similar and bought_together placements.
	SimilarMix float64
}

// DefaultConfig returns the tuned defaults.
func DefaultConfig() Config {
	return Config{
		Decay:          0.6,
		TimeHalfLife:   0,
		MaxHistory:     30,
		CoVisit:        1,
		Bought:         0.1,
		Vector:         2,
		Pop:            0.02,
		Repeat:         2,
		Trend:          0,
		Segment:        0.25,
		QueryVector:    1,
		SegmentSession: 3,
		ClusterProbe:   2,
		ClusterTake:    20,
		TrendingTake:   20,
		CategoryShare:  0.5,
		SimilarMix:     0.3,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(c.Decay) || c.Decay > 1:
		return fmt.Errorf("rank: decay %v outside [0, 1]", c.Decay)
	case c.TimeHalfLife < 0:
		return errors.New("rank: time half-life must be non-negative")
	case c.MaxHistory < 1 || c.MaxHistory > 200:
		return fmt.Errorf("rank: max history %d outside [1, 200]", c.MaxHistory)
	case bad(c.CoVisit) || bad(c.Bought) || bad(c.Vector) || bad(c.Pop) || bad(c.Repeat) || bad(c.Trend) || bad(c.Segment) || bad(c.QueryVector) || bad(c.SimilarMix):
		return errors.New("rank: blend weights must be finite and non-negative")
	case bad(c.CategoryShare) || c.CategoryShare > 1:
		return fmt.Errorf("rank: category share %v outside [0, 1]", c.CategoryShare)
	case c.SegmentSession < 0 || c.SegmentSession > 200:
		return fmt.Errorf("rank: segment session %d outside [0, 200]", c.SegmentSession)
	case c.ClusterProbe < 0 || c.ClusterTake < 0 || c.TrendingTake < 0:
		return errors.New("rank: counts must be non-negative")
	case c.ClusterProbe > 64 || c.ClusterTake > 1000 || c.TrendingTake > 1000:
		return errors.New("rank: cluster probe ≤ 64, cluster take ≤ 1000, trending take ≤ 1000")
	}
	return nil
}
