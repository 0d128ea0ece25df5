package catalog

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func validProduct() Product {
	return Product{
		ID: "p1", Title: "Wooden Train", Description: "A train.\nWith\ttabs.", Brand: "Brio",
		Category: []string{"Hobbies", "Trains"}, Price: 4.99, Currency: "GBP",
		Stock: map[string]int{"default": 3}, ImageURL: "https://shop.example/p1.jpg",
		Tags: []string{"wood"}, Attributes: map[string]string{"age": "3 years and up"}, Popularity: 12,
	}
}

func validReview() Review {
	return Review{ID: "r1", Item: "p1", Stars: 4, Title: "Good", Text: "Works.\nWell.", Date: "2015-07-29", Author: "Ann", Verified: true}
}

// fieldsOf lists the fields named by a Validate error, in order.
func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	return fields
}

func TestProductValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		edit   func(p *Product)
		fields string // comma-separated, "" when valid
	}{
		{"valid", func(p *Product) {}, ""},
		{"minimal", func(p *Product) { *p = Product{ID: "x", Title: "y"} }, ""},
		{"price 0 without currency", func(p *Product) { p.Price, p.Currency = 0, "" }, ""},
		{"unknown stock", func(p *Product) { p.Stock = map[string]int{"default": StockUnknown} }, ""},
		{"image path", func(p *Product) { p.ImageURL = "/img/p1.jpg" }, ""},
		{"id empty", func(p *Product) { p.ID = " " }, "id"},
		{"id long", func(p *Product) { p.ID = long(MaxIDBytes + 1) }, "id"},
		{"id 256", func(p *Product) { p.ID = long(MaxIDBytes) }, ""},
		{"id utf8", func(p *Product) { p.ID = "a\xffb" }, "id"},
		{"id control", func(p *Product) { p.ID = "a\nb" }, "id"},
		{"title empty", func(p *Product) { p.Title = "" }, "title"},
		{"title long", func(p *Product) { p.Title = long(MaxTitleBytes + 1) }, "title"},
		{"title newline", func(p *Product) { p.Title = "a\nb" }, "title"},
		{"description long", func(p *Product) { p.Description = long(MaxDescriptionBytes + 1) }, "description"},
		{"description control", func(p *Product) { p.Description = "a\x00b" }, "description"},
		{"description utf8", func(p *Product) { p.Description = "\xc3" }, "description"},
		{"brand long", func(p *Product) { p.Brand = long(MaxNameBytes + 1) }, "brand"},
		{"category level empty", func(p *Product) { p.Category = []string{"a", ""} }, "category[1]"},
		{"category deep", func(p *Product) { p.Category = make([]string, MaxCategoryDepth+1) }, "category"},
		{"price negative", func(p *Product) { p.Price = -1 }, "price"},
		{"price NaN", func(p *Product) { p.Price = math.NaN() }, "price"},
		{"price Inf", func(p *Product) { p.Price = math.Inf(1) }, "price"},
		{"currency lower", func(p *Product) { p.Currency = "gbp" }, "currency"},
		{"currency long", func(p *Product) { p.Currency = "GBPX" }, "currency"},
		{"currency missing", func(p *Product) { p.Currency = "" }, "currency"},
		{"stock negative", func(p *Product) { p.Stock = map[string]int{"eu": -2} }, `stock["eu"]`},
		{"stock region empty", func(p *Product) { p.Stock = map[string]int{"": 1} }, `stock[""]`},
		{"stock region long", func(p *Product) { p.Stock = map[string]int{long(MaxRegionBytes + 1): 1} }, `stock["` + long(MaxRegionBytes+1) + `"]`},
		{"stock many", func(p *Product) {
			p.Stock = map[string]int{}
			for i := range MaxStockRegions + 1 {
				p.Stock[string(rune('A'+i))] = 1
			}
		}, "stock"},
		{"image scheme", func(p *Product) { p.ImageURL = "javascript:alert(1)" }, "image_url"},
		{"image relative", func(p *Product) { p.ImageURL = "img/p1.jpg" }, "image_url"},
		{"image protocol-relative", func(p *Product) { p.ImageURL = "//cdn.example/p1.jpg" }, "image_url"},
		{"image no host", func(p *Product) { p.ImageURL = "https:///p1.jpg" }, "image_url"},
		{"image long", func(p *Product) { p.ImageURL = "https://a/" + long(MaxImageURLBytes) }, "image_url"},
		{"tag empty", func(p *Product) { p.Tags = []string{"a", " "} }, "tags[1]"},
		{"tags many", func(p *Product) { p.Tags = make([]string, MaxTags+1) }, "tags"},
		{"attribute key empty", func(p *Product) { p.Attributes = map[string]string{"": "x"} }, `attributes[""]`},
		{"attribute value long", func(p *Product) { p.Attributes = map[string]string{"k": long(MaxAttributeValueBytes + 1)} }, `attributes["k"]`},
		{"popularity negative", func(p *Product) { p.Popularity = -1 }, "popularity"},
		{"popularity NaN", func(p *Product) { p.Popularity = math.NaN() }, "popularity"},
		{"several", func(p *Product) { p.ID, p.Price = "", -1 }, "id,price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProduct()
			tt.edit(&p)
			err := p.Validate()
			if got := strings.Join(fieldsOf(err), ","); got != tt.fields {
				t.Errorf("Validate() = %v; fields %q, want %q", err, got, tt.fields)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "catalog: "+strings.Split(tt.fields, ",")[0]+": ") {
				t.Errorf("error %q does not start with the field", err)
			}
		})
	}
}

func TestReviewValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(r *Review)
		fields string
	}{
		{"valid", func(r *Review) {}, ""},
		{"minimal", func(r *Review) { *r = Review{ID: "r", Item: "p", Stars: 1} }, ""},
		{"fractional stars", func(r *Review) { r.Stars = 4.5 }, ""},
		{"id empty", func(r *Review) { r.ID = "" }, "id"},
		{"item empty", func(r *Review) { r.Item = "" }, "item"},
		{"stars 0", func(r *Review) { r.Stars = 0 }, "stars"},
		{"stars 6", func(r *Review) { r.Stars = 5.01 }, "stars"},
		{"stars NaN", func(r *Review) { r.Stars = math.NaN() }, "stars"},
		{"title long", func(r *Review) { r.Title = strings.Repeat("x", MaxTitleBytes+1) }, "title"},
		{"text long", func(r *Review) { r.Text = strings.Repeat("x", MaxReviewTextBytes+1) }, "text"},
		{"text utf8", func(r *Review) { r.Text = "\xff" }, "text"},
		{"date format", func(r *Review) { r.Date = "27 Dec. 2014" }, "date"},
		{"date day", func(r *Review) { r.Date = "2015-02-29" }, "date"},
		{"date short", func(r *Review) { r.Date = "2015-2-9" }, "date"},
		{"date empty", func(r *Review) { r.Date = "" }, ""},
		{"author newline", func(r *Review) { r.Author = "a\nb" }, "author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReview()
			tt.edit(&r)
			err := r.Validate()
			if got := strings.Join(fieldsOf(err), ","); got != tt.fields {
				t.Errorf("Validate() = %v; fields %q, want %q", err, got, tt.fields)
			}
		})
	}
}

func TestInStock(t *testing.T) {
	tests := []struct {
		stock map[string]int
		want  bool
	}{
		{nil, true},
		{map[string]int{}, true},
		{map[string]int{"default": StockUnknown}, true},
		{map[string]int{"default": 2}, true},
		{map[string]int{"default": 0}, false},
		{map[string]int{"eu": 0, "us": 0}, false},
		{map[string]int{"eu": 0, "us": 1}, true},
		{map[string]int{"eu": 0, "us": StockUnknown}, true},
	}
	for _, tt := range tests {
		p := Product{Stock: tt.stock}
		if got := p.InStock(); got != tt.want {
			t.Errorf("InStock(%v) = %v, want %v", tt.stock, got, tt.want)
		}
	}
}
