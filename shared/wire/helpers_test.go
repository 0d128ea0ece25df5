package wire

import (
	"errors"
	"flag"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and seed corpora under testdata/")

// validRequest returns a request that uses every field.
func validRequest() *RecommendRequest {
	return &RecommendRequest{
		Shop:      "acme",
		Region:    "eu-west",
		Placement: Similar,
		Item:      "sku-1",
		Query:     "red shoes",
		Events: []Event{
			{Type: View, Item: "sku-1", Time: 1_700_000_000_000},
			{Type: Search, Query: "shoes", Time: 1_700_000_000_100},
			{Type: AddToCart, Item: "sku-2", Time: 1_700_000_000_200},
			{Type: Purchase, Item: "sku-2", Time: 1_700_000_000_300},
		},
		Filters: Filters{
			Categories: []string{"Shoes > Sneakers", "Shoes > Boots"},
			PriceMin:   10,
			PriceMax:   99.5,
			InStock:    true,
			Exclude:    []string{"sku-1", "sku-9"},
		},
		K:   12,
		Now: 1_700_000_001_000,
	}
}

// validResponse returns a response that uses every field.
func validResponse() *RecommendResponse {
	return &RecommendResponse{
		Items: []Rec{
			{ID: "sku-3", Title: "Trail runner", Category: "Shoes > Sneakers", Price: 79.9, InStock: true, Score: 0.93, Reason: ReasonSimilarTo, Source: "sku-1"},
			{ID: "sku-4", Score: -0.5, Reason: ReasonTrending},
		},
		Index:    "3f2a9c01",
		Fallback: true,
	}
}

// wantFieldError fails unless err is a *FieldError for field.
func wantFieldError(t *testing.T, err error, field string) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *FieldError for %q", err, err, field)
	}
	if fe.Field != field {
		t.Fatalf("field = %q (%v), want %q", fe.Field, err, field)
	}
	if !strings.HasPrefix(err.Error(), "wire: ") {
		t.Errorf("error %q lacks the wire: prefix", err)
	}
	return fe
}

// wantClassified fails unless err is one of the three documented kinds.
func wantClassified(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("unclassified error %v (%T)", err, err)
	}
}

// normRequest makes empty slices nil so that codecs that drop empty
// optional fields compare equal.
func normRequest(r *RecommendRequest) *RecommendRequest {
	c := *r
	if len(c.Events) == 0 {
		c.Events = nil
	}
	if len(c.Filters.Categories) == 0 {
		c.Filters.Categories = nil
	}
	if len(c.Filters.Exclude) == 0 {
		c.Filters.Exclude = nil
	}
	return &c
}

func normResponse(r *RecommendResponse) *RecommendResponse {
	c := *r
	if len(c.Items) == 0 {
		c.Items = nil
	}
	return &c
}

func sameRequest(a, b *RecommendRequest) bool {
	return reflect.DeepEqual(normRequest(a), normRequest(b))
}

func sameResponse(a, b *RecommendResponse) bool {
	return reflect.DeepEqual(normResponse(a), normResponse(b))
}

// allocated returns the bytes f allocates (averaged over runs calls).
func allocated(runs int, f func()) uint64 {
	f() // warm pools and type caches
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// allocBound is the most bytes a decoder may allocate for n input bytes.
func allocBound(n int) uint64 { return 64*uint64(n) + 64<<10 }
