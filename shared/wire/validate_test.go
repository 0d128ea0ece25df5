package wire

import (
	"math"
	"strings"
	"testing"
)

func TestValidateRequest(t *testing.T) {
	long := strings.Repeat("x", MaxString+1)
	many := func(n int, s string) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = s
		}
		return l
	}
	events := func(n int) []Event {
		e := make([]Event, n)
		for i := range e {
			e[i] = Event{Type: View, Item: "a", Time: int64(i)}
		}
		return e
	}
	tests := []struct {
		name    string
		edit    func(r *RecommendRequest)
		field   string // "" means valid
		problem string // checked when set
	}{
		{"valid", func(r *RecommendRequest) {}, "", ""},
		{"minimal", func(r *RecommendRequest) { *r = RecommendRequest{Placement: ForYou} }, "", ""},
		{"string at limit", func(r *RecommendRequest) { r.Shop = long[:MaxString] }, "", ""},
		{"list at limit", func(r *RecommendRequest) { r.Filters.Exclude = many(MaxList, "a") }, "", ""},
		{"events at limit", func(r *RecommendRequest) { r.Events = events(MaxEvents) }, "", ""},
		{"k max", func(r *RecommendRequest) { r.K = MaxResults }, "", ""},
		{"price max zero means none", func(r *RecommendRequest) { r.Filters.PriceMin, r.Filters.PriceMax = 50, 0 }, "", ""},
		{"min equals max", func(r *RecommendRequest) { r.Filters.PriceMin, r.Filters.PriceMax = 5, 5 }, "", ""},
		{"search with query", func(r *RecommendRequest) { r.Placement, r.Item = SearchResults, "" }, "", ""},

		{"placement missing", func(r *RecommendRequest) { r.Placement = "" }, "placement", "missing"},
		{"placement unknown", func(r *RecommendRequest) { r.Placement = "home" }, "placement", ""},
		{"shop long", func(r *RecommendRequest) { r.Shop = long }, "shop", "513 bytes, limit 512"},
		{"region long", func(r *RecommendRequest) { r.Region = long }, "region", "513 bytes, limit 512"},
		{"item long", func(r *RecommendRequest) { r.Item = long }, "item", "513 bytes, limit 512"},
		{"query long", func(r *RecommendRequest) { r.Query = long }, "query", "513 bytes, limit 512"},
		{"shop invalid UTF-8", func(r *RecommendRequest) { r.Shop = "a\xffb" }, "shop", "invalid UTF-8"},
		{"query invalid UTF-8", func(r *RecommendRequest) { r.Query = "\xc3" }, "query", "invalid UTF-8"},
		{"similar needs item", func(r *RecommendRequest) { r.Item = "" }, "item", `missing, required for placement "similar"`},
		{"bought_together needs item", func(r *RecommendRequest) { r.Placement, r.Item = BoughtTogether, "" }, "item", ""},
		{"search needs query", func(r *RecommendRequest) { r.Placement, r.Query = SearchResults, "" }, "query", ""},
		{"search events do not replace query", func(r *RecommendRequest) {
			r.Placement, r.Query = SearchResults, ""
			r.Events = []Event{{Type: Search, Query: "shoes"}}
		}, "query", ""},
		{"events over limit", func(r *RecommendRequest) { r.Events = events(MaxEvents + 1) }, "events", "201 entries, limit 200"},
		{"event type missing", func(r *RecommendRequest) { r.Events[3].Type = "" }, "events[3].type", "missing"},
		{"event type unknown", func(r *RecommendRequest) { r.Events[3].Type = "wishlist" }, "events[3].type", ""},
		{"event item long", func(r *RecommendRequest) { r.Events[3].Item = strings.Repeat("x", 600) }, "events[3].item", "600 bytes, limit 512"},
		{"event item invalid UTF-8", func(r *RecommendRequest) { r.Events[0].Item = "\xff" }, "events[0].item", "invalid UTF-8"},
		{"event item missing", func(r *RecommendRequest) { r.Events[2].Item = "" }, "events[2].item", "missing, required for add_to_cart events"},
		{"search event query missing", func(r *RecommendRequest) { r.Events[1].Query = "" }, "events[1].query", ""},
		{"search event query long", func(r *RecommendRequest) { r.Events[1].Query = long }, "events[1].query", "513 bytes, limit 512"},
		{"event time negative", func(r *RecommendRequest) { r.Events[0].Time = -1 }, "events[0].time", "negative (-1)"},
		{"categories over limit", func(r *RecommendRequest) { r.Filters.Categories = many(MaxList+1, "c") }, "filters.categories", "101 entries, limit 100"},
		{"category long", func(r *RecommendRequest) { r.Filters.Categories[1] = long }, "filters.categories[1]", "513 bytes, limit 512"},
		{"category empty", func(r *RecommendRequest) { r.Filters.Categories[0] = "" }, "filters.categories[0]", "empty"},
		{"category invalid UTF-8", func(r *RecommendRequest) { r.Filters.Categories[0] = "\xed\xa0\x80" }, "filters.categories[0]", "invalid UTF-8"},
		{"exclude over limit", func(r *RecommendRequest) { r.Filters.Exclude = many(MaxList+1, "x") }, "filters.exclude", "101 entries, limit 100"},
		{"exclude long", func(r *RecommendRequest) {
			r.Filters.Exclude = many(8, "x")
			r.Filters.Exclude[7] = long
		}, "filters.exclude[7]", "513 bytes, limit 512"},
		{"price_min NaN", func(r *RecommendRequest) { r.Filters.PriceMin = math.NaN() }, "filters.price_min", "NaN, want a finite number"},
		{"price_min negative", func(r *RecommendRequest) { r.Filters.PriceMin = -1 }, "filters.price_min", "negative (-1)"},
		{"price_max +Inf", func(r *RecommendRequest) { r.Filters.PriceMax = math.Inf(1) }, "filters.price_max", "+Inf, want a finite number"},
		{"price_max negative", func(r *RecommendRequest) { r.Filters.PriceMax = -0.5 }, "filters.price_max", "negative (-0.5)"},
		{"price min above max", func(r *RecommendRequest) { r.Filters.PriceMin, r.Filters.PriceMax = 50, 10 }, "filters.price_min", "50 is above price_max 10"},
		{"k negative", func(r *RecommendRequest) { r.K = -1 }, "k", "-1, want 0..100"},
		{"k over limit", func(r *RecommendRequest) { r.K = MaxResults + 1 }, "k", "101, want 0..100"},
		{"now negative", func(r *RecommendRequest) { r.Now = -5 }, "now", "negative (-5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.edit(r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			fe := wantFieldError(t, err, tt.field)
			if tt.problem != "" && fe.Problem != tt.problem {
				t.Errorf("problem = %q, want %q", fe.Problem, tt.problem)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	r := validRequest()
	r.Events[3].Item = strings.Repeat("x", 600)
	if got, want := r.Validate().Error(), "wire: events[3].item: 600 bytes, limit 512"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	r = validRequest()
	r.Placement = Placement(strings.Repeat("\xff", 1000))
	if msg := r.Validate().Error(); len(msg) > 200 {
		t.Errorf("message echoes too much of the value (%d bytes): %q", len(msg), msg)
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct{ k, want int }{
		{0, DefaultK}, {1, 1}, {37, 37}, {MaxResults, MaxResults}, {-3, DefaultK}, {MaxResults + 1, MaxResults},
	} {
		r := RecommendRequest{K: tt.k}
		if got := r.Limit(); got != tt.want {
			t.Errorf("K=%d: Limit() = %d, want %d", tt.k, got, tt.want)
		}
	}
}

func TestReasonValid(t *testing.T) {
	for _, r := range []Reason{ReasonViewed, ReasonBoughtWith, ReasonSimilarTo, ReasonTrending, ReasonMatchesQuery, ReasonPopularInSegment} {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range []Reason{"", "Viewed", "because"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

func TestValidateResponse(t *testing.T) {
	long := strings.Repeat("x", MaxString+1)
	tests := []struct {
		name    string
		edit    func(r *RecommendResponse)
		field   string
		problem string
	}{
		{"valid", func(r *RecommendResponse) {}, "", ""},
		{"empty", func(r *RecommendResponse) { *r = RecommendResponse{} }, "", ""},
		{"items at limit", func(r *RecommendResponse) { r.Items = make([]Rec, MaxResults); fillRecs(r.Items) }, "", ""},
		{"items over limit", func(r *RecommendResponse) { r.Items = make([]Rec, MaxResults+1); fillRecs(r.Items) }, "items", "101 entries, limit 100"},
		{"id missing", func(r *RecommendResponse) { r.Items[1].ID = "" }, "items[1].id", "missing"},
		{"id long", func(r *RecommendResponse) { r.Items[1].ID = long }, "items[1].id", "513 bytes, limit 512"},
		{"title long", func(r *RecommendResponse) { r.Items[0].Title = long }, "items[0].title", "513 bytes, limit 512"},
		{"title invalid UTF-8", func(r *RecommendResponse) { r.Items[0].Title = "\xff" }, "items[0].title", "invalid UTF-8"},
		{"category long", func(r *RecommendResponse) { r.Items[0].Category = long }, "items[0].category", ""},
		{"source long", func(r *RecommendResponse) { r.Items[0].Source = long }, "items[0].source", ""},
		{"price NaN", func(r *RecommendResponse) { r.Items[0].Price = math.NaN() }, "items[0].price", "NaN, want a finite number"},
		{"price negative", func(r *RecommendResponse) { r.Items[0].Price = -2 }, "items[0].price", "negative (-2)"},
		{"score NaN", func(r *RecommendResponse) { r.Items[1].Score = math.NaN() }, "items[1].score", "NaN, want a finite number"},
		{"score -Inf", func(r *RecommendResponse) { r.Items[1].Score = math.Inf(-1) }, "items[1].score", "-Inf, want a finite number"},
		{"reason missing", func(r *RecommendResponse) { r.Items[1].Reason = "" }, "items[1].reason", "missing"},
		{"reason unknown", func(r *RecommendResponse) { r.Items[1].Reason = "magic" }, "items[1].reason", ""},
		{"index long", func(r *RecommendResponse) { r.Index = long }, "index", "513 bytes, limit 512"},
		{"index invalid UTF-8", func(r *RecommendResponse) { r.Index = "\xff" }, "index", "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validResponse()
			tt.edit(r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			fe := wantFieldError(t, err, tt.field)
			if tt.problem != "" && fe.Problem != tt.problem {
				t.Errorf("problem = %q, want %q", fe.Problem, tt.problem)
			}
		})
	}
}

func fillRecs(items []Rec) {
	for i := range items {
		items[i] = Rec{ID: "i", Reason: ReasonTrending}
	}
}

func TestValidateDoesNotAllocate(t *testing.T) {
	req, resp := validRequest(), validResponse()
	if n := testing.AllocsPerRun(100, func() {
		_ = req.Validate()
		_ = resp.Validate()
	}); n != 0 {
		t.Errorf("Validate allocates %v times per call on valid input, want 0", n)
	}
}
