package wire

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// DefaultK is the number of results returned when a request leaves K zero.
const DefaultK = 10

// Valid reports whether r is one of the known reasons.
func (r Reason) Valid() bool {
	switch r {
	case ReasonViewed, ReasonBoughtWith, ReasonSimilarTo, ReasonTrending, ReasonMatchesQuery, ReasonPopularInSegment:
		return true
	}
	return false
}

// Limit returns the number of results to rank: K, or DefaultK when K is
// zero, clamped to 1..MaxResults so that it is usable even on a request
// that has not been validated.
func (r *RecommendRequest) Limit() int {
	switch {
	case r.K <= 0:
		return DefaultK
	case r.K > MaxResults:
		return MaxResults
	}
	return r.K
}

// Validate checks r against the limits and rules of the protocol and
// returns the first problem found as a *FieldError, or nil.
//
// Rules: placement is required and known; similar and bought_together need
// item; search needs query (the search page always knows its query, and
// falling back to an older search event would silently rank for stale text,
// so search events alone do not satisfy it); at most MaxEvents events, each
// of a known type, search events with a query and all others with an item,
// times ≥ 0; every string at most MaxString bytes of valid UTF-8; filter
// lists at most MaxList non-empty entries; prices finite and ≥ 0 with
// price_min ≤ price_max when price_max > 0; k in 0..MaxResults (0 means
// DefaultK, see Limit); now ≥ 0.
func (r *RecommendRequest) Validate() error {
	if r.Placement == "" {
		return fieldErr("placement", "missing")
	}
	if !r.Placement.Valid() {
		return fieldErr("placement", "unknown placement "+quote(string(r.Placement))+
			"; want for_you, similar, bought_together, trending, search or cart")
	}
	if p := checkString(r.Shop); p != "" {
		return fieldErr("shop", p)
	}
	if p := checkString(r.Region); p != "" {
		return fieldErr("region", p)
	}
	if p := checkString(r.Item); p != "" {
		return fieldErr("item", p)
	}
	if p := checkString(r.Query); p != "" {
		return fieldErr("query", p)
	}
	switch r.Placement {
	case Similar, BoughtTogether:
		if r.Item == "" {
			return fieldErr("item", "missing, required for placement "+quote(string(r.Placement)))
		}
	case SearchResults:
		if r.Query == "" {
			return fieldErr("query", "missing, required for placement "+quote(string(r.Placement)))
		}
	}
	if len(r.Events) > MaxEvents {
		return fieldErr("events", countProblem(len(r.Events), MaxEvents))
	}
	for i := range r.Events {
		if err := r.Events[i].validate(i); err != nil {
			return err
		}
	}
	if err := r.Filters.validate(); err != nil {
		return err
	}
	if r.K < 0 || r.K > MaxResults {
		return fieldErr("k", strconv.Itoa(r.K)+", want 0.."+strconv.Itoa(MaxResults))
	}
	if r.Now < 0 {
		return fieldErr("now", "negative ("+strconv.FormatInt(r.Now, 10)+")")
	}
	return nil
}

func (e *Event) validate(i int) error {
	path := func(name string) string { return "events[" + strconv.Itoa(i) + "]." + name }
	if e.Type == "" {
		return fieldErr(path("type"), "missing")
	}
	if !e.Type.Valid() {
		return fieldErr(path("type"), "unknown event type "+quote(string(e.Type))+
			"; want view, click, add_to_cart, remove_from_cart, purchase or search")
	}
	if p := checkString(e.Item); p != "" {
		return fieldErr(path("item"), p)
	}
	if p := checkString(e.Query); p != "" {
		return fieldErr(path("query"), p)
	}
	if e.Type == Search {
		if e.Query == "" {
			return fieldErr(path("query"), "missing, required for search events")
		}
	} else if e.Item == "" {
		return fieldErr(path("item"), "missing, required for "+string(e.Type)+" events")
	}
	if e.Time < 0 {
		return fieldErr(path("time"), "negative ("+strconv.FormatInt(e.Time, 10)+")")
	}
	return nil
}

func (f *Filters) validate() error {
	if err := checkList("filters.categories", f.Categories); err != nil {
		return err
	}
	if p := checkPrice(f.PriceMin); p != "" {
		return fieldErr("filters.price_min", p)
	}
	if p := checkPrice(f.PriceMax); p != "" {
		return fieldErr("filters.price_max", p)
	}
	if f.PriceMax > 0 && f.PriceMin > f.PriceMax {
		return fieldErr("filters.price_min", formatFloat(f.PriceMin)+" is above price_max "+formatFloat(f.PriceMax))
	}
	return checkList("filters.exclude", f.Exclude)
}

// Validate checks r against the limits of the protocol and returns the first
// problem found as a *FieldError, or nil: at most MaxResults items, each with
// a non-empty id, a known reason, a finite score and a finite price ≥ 0;
// every string at most MaxString bytes of valid UTF-8.
func (r *RecommendResponse) Validate() error {
	if len(r.Items) > MaxResults {
		return fieldErr("items", countProblem(len(r.Items), MaxResults))
	}
	for i := range r.Items {
		if err := r.Items[i].validate(i); err != nil {
			return err
		}
	}
	if p := checkString(r.Index); p != "" {
		return fieldErr("index", p)
	}
	return nil
}

func (x *Rec) validate(i int) error {
	path := func(name string) string { return "items[" + strconv.Itoa(i) + "]." + name }
	if x.ID == "" {
		return fieldErr(path("id"), "missing")
	}
	for _, f := range [...]struct{ name, v string }{
		{"id", x.ID}, {"title", x.Title}, {"category", x.Category}, {"source", x.Source},
	} {
		if p := checkString(f.v); p != "" {
			return fieldErr(path(f.name), p)
		}
	}
	if p := checkPrice(x.Price); p != "" {
		return fieldErr(path("price"), p)
	}
	if math.IsNaN(x.Score) || math.IsInf(x.Score, 0) {
		return fieldErr(path("score"), formatFloat(x.Score)+", want a finite number")
	}
	if x.Reason == "" {
		return fieldErr(path("reason"), "missing")
	}
	if !x.Reason.Valid() {
		return fieldErr(path("reason"), "unknown reason "+quote(string(x.Reason))+
			"; want viewed, bought_with, similar_to, trending, matches_query or popular_in_segment")
	}
	return nil
}

// checkString returns what is wrong with s, or "".
func checkString(s string) string {
	if len(s) > MaxString {
		return strconv.Itoa(len(s)) + " bytes, limit " + strconv.Itoa(MaxString)
	}
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	return ""
}

func checkList(name string, list []string) error {
	if len(list) > MaxList {
		return fieldErr(name, countProblem(len(list), MaxList))
	}
	for i, s := range list {
		p := checkString(s)
		if p == "" && s == "" {
			p = "empty"
		}
		if p != "" {
			return fieldErr(name+"["+strconv.Itoa(i)+"]", p)
		}
	}
	return nil
}

// checkPrice returns what is wrong with a price, or "".
func checkPrice(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatFloat(v) + ", want a finite number"
	}
	if v < 0 {
		return "negative (" + formatFloat(v) + ")"
	}
	return ""
}

func countProblem(n, limit int) string {
	return strconv.Itoa(n) + " entries, limit " + strconv.Itoa(limit)
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
