// Package wire defines the messages that storefronts, edges and the hub exchange:
// visitor events, recommend requests and recommend responses.
//
// Storefronts speak JSON; the hub and edges speak msgpack. Both decoders are
// bounded: they check sizes and counts before allocating and reject anything
// over the limits below with a *FieldError that names the offending field.
//
// Storefront JSON goes through DecodeRecommendRequestJSON and
// DecodeRecommendResponseJSON; edge–hub msgpack through MarshalRequest,
// UnmarshalRequest, MarshalResponse and UnmarshalResponse; CheckMsgpack
// (and CheckMsgpackLimits) pre-checks any untrusted msgpack, snapshots
// included. A body over MaxBodyBytes fails with ErrTooLarge (HTTP 413);
// bytes that are not one well-formed message with ErrMalformed, and
// everything else with a *FieldError (both HTTP 400).
package wire

// Limits enforced on every decoded message.
const (
	MaxEvents    = 200       // session events per request
	MaxResults   = 100       // k, and items per response
	MaxString    = 512       // bytes in any string field
	MaxList      = 100       // entries in a filter list (categories, exclude)
	MaxBodyBytes = 256 << 10 // encoded request or response, JSON or msgpack
)

// EventType is what a visitor did.
type EventType string

// Event types recorded by the storefront script.
const (
	View           EventType = "view"
	Click          EventType = "click"
	AddToCart      EventType = "add_to_cart"
	RemoveFromCart EventType = "remove_from_cart"
	Purchase       EventType = "purchase"
	Search         EventType = "search"
)

// Valid reports whether t is one of the known event types.
func (t EventType) Valid() bool {
	switch t {
	case View, Click, AddToCart, RemoveFromCart, Purchase, Search:
		return true
	}
	return false
}

// Event is one visitor action. Item is set for every type but Search, which
// carries Query instead. Time is Unix milliseconds.
type Event struct {
	Type  EventType `json:"type" msgpack:"type"`
	Item  string    `json:"item,omitempty" msgpack:"item,omitempty"`
	Query string    `json:"query,omitempty" msgpack:"query,omitempty"`
	Time  int64     `json:"time" msgpack:"time"`
}

// Placement is where on the page the recommendations appear; it selects the
// candidate sources and rules the ranking core applies.
type Placement string

// Placements understood by the ranking core.
const (
	ForYou         Placement = "for_you"
	Similar        Placement = "similar"
	BoughtTogether Placement = "bought_together"
	Trending       Placement = "trending"
	SearchResults  Placement = "search"
	Cart           Placement = "cart"
)

// Valid reports whether p is one of the known placements.
func (p Placement) Valid() bool {
	switch p {
	case ForYou, Similar, BoughtTogether, Trending, SearchResults, Cart:
		return true
	}
	return false
}

// Filters restrict which items may be returned. Zero values mean "no filter".
type Filters struct {
	// Categories keeps items whose category path starts with any of these
	// prefixes ("Toys > Puzzles" matches "Toys > Puzzles > Jigsaw").
	Categories []string `json:"categories,omitempty" msgpack:"categories,omitempty"`
	PriceMin   float64  `json:"price_min,omitempty" msgpack:"price_min,omitempty"`
	PriceMax   float64  `json:"price_max,omitempty" msgpack:"price_max,omitempty"`
	InStock    bool     `json:"in_stock,omitempty" msgpack:"in_stock,omitempty"`
	Exclude    []string `json:"exclude,omitempty" msgpack:"exclude,omitempty"`
}

// RecommendRequest asks an edge for recommendations.
type RecommendRequest struct {
	Shop      string    `json:"shop,omitempty" msgpack:"shop,omitempty"`
	Region    string    `json:"region,omitempty" msgpack:"region,omitempty"`
	Placement Placement `json:"placement" msgpack:"placement"`
	// Item is the context item (the product page being viewed, the item just
	// added to the cart). Required for similar and bought_together.
	Item string `json:"item,omitempty" msgpack:"item,omitempty"`
	// Query is the search text. Required for search.
	Query   string  `json:"query,omitempty" msgpack:"query,omitempty"`
	Events  []Event `json:"events,omitempty" msgpack:"events,omitempty"`
	Filters Filters `json:"filters,omitempty" msgpack:"filters,omitempty"`
	K       int     `json:"k,omitempty" msgpack:"k,omitempty"`
	// Now is the request time in Unix milliseconds, stamped by the edge; the
	// ranking core reads no clock. Zero means "the latest event time".
	Now int64 `json:"now,omitempty" msgpack:"now,omitempty"`
}

// Reason says why an item was recommended.
type Reason string

// Reasons attached to recommended items.
const (
	ReasonViewed           Reason = "viewed"             // related to items the visitor engaged with
	ReasonBoughtWith       Reason = "bought_with"        // bought together with the source item
	ReasonSimilarTo        Reason = "similar_to"         // close to the source item in the embedding space
	ReasonTrending         Reason = "trending"           // popular right now
	ReasonMatchesQuery     Reason = "matches_query"      // matches the visitor's search
	ReasonPopularInSegment Reason = "popular_in_segment" // popular with visitors like this one
)

// Rec is one recommended item.
type Rec struct {
	ID       string  `json:"id" msgpack:"id"`
	Title    string  `json:"title,omitempty" msgpack:"title,omitempty"`
	Category string  `json:"category,omitempty" msgpack:"category,omitempty"`
	Price    float64 `json:"price,omitempty" msgpack:"price,omitempty"`
	InStock  bool    `json:"in_stock" msgpack:"in_stock"`
	Score    float64 `json:"score" msgpack:"score"`
	Reason   Reason  `json:"reason" msgpack:"reason"`
	// Source is the item that caused the recommendation (the viewed item, the
	// cart item); empty for trending and segment reasons.
	Source string `json:"source,omitempty" msgpack:"source,omitempty"`
}

// RecommendResponse is an edge's answer.
type RecommendResponse struct {
	Items []Rec `json:"items" msgpack:"items"`
	// Index is the version (content hash prefix) of the snapshot that ranked.
	Index string `json:"index" msgpack:"index"`
	// Fallback is true when the answer came from popularity alone because the
	// session was empty or nothing personalised passed the filters.
	Fallback bool `json:"fallback" msgpack:"fallback"`
}
