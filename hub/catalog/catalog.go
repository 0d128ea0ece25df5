// Package catalog is the hub's model of a shop's catalog and reviews: the
// Product and Review records, their validation, and bounded JSON-lines codecs
// for reading them from outside (an upload, a file) and writing them back.
//
// The JSON-lines format is one JSON object per line, with the snake_case
// field names of Product and Review. Readers bound every line
// (MaxLineBytes), reject unknown fields, validate every record and collect
// all row errors (up to MaxRowErrors) so a caller can show a shop owner every
// problem at once and write nothing. Writers validate too and emit
// deterministic bytes (fixed field order, sorted map keys, no HTML escaping),
// so a file written twice from the same records is byte-for-byte the same
// and anything written can be read back.
//
// ConvertAmazonUKToys turns the Amazon UK toys CSV (PromptCloud, CC BY-SA
// 4.0) into Products and Reviews; the bundled demo shop in web/demo/shop is
// generated from it by internal/gentoys.
package catalog

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a record's fields. They keep one record far below MaxLineBytes
// once written as JSON (at most 2 bytes of JSON per byte of text, because
// control characters other than tab, newline and carriage return are
// rejected), and bound what a hostile upload can make the hub store.
const (
	MaxIDBytes             = 256      // Product.ID, Review.ID, Review.Item
	MaxTitleBytes          = 1 << 10  // Product.Title, Review.Title
	MaxDescriptionBytes    = 64 << 10 // Product.Description
	MaxReviewTextBytes     = 64 << 10 // Review.Text
	MaxNameBytes           = 256      // Product.Brand, Review.Author, each category level
	MaxCategoryDepth       = 16       // levels in Product.Category
	MaxStockRegions        = 64       // entries in Product.Stock
	MaxRegionBytes         = 64       // a Product.Stock key
	MaxImageURLBytes       = 2048     // Product.ImageURL
	MaxTags                = 64       // entries in Product.Tags
	MaxTagBytes            = 128      // one tag
	MaxAttributes          = 64       // entries in Product.Attributes
	MaxAttributeKeyBytes   = 128      // an attribute key
	MaxAttributeValueBytes = 1 << 10  // an attribute value
	MaxQuestionBytes       = 4 << 10  // QA.Question
	MaxAnswerBytes         = 16 << 10 // QA.Answer
)

// DefaultRegion is the Stock key for a count that is not tied to a region.
const DefaultRegion = "default"

// StockUnknown is the Stock count meaning "the shop did not say": the
// product counts as in stock. It is the only negative count allowed.
const StockUnknown = -1

// Product is one item of a shop's catalog.
type Product struct {
	// ID is the shop's own stable id for the item (required).
	ID string `json:"id"`
	// Title is the name shown to shoppers (required).
	Title string `json:"title"`
	// Description is free text, plain (no HTML is interpreted).
	Description string `json:"description,omitempty"`
	// Brand is the maker or brand name.
	Brand string `json:"brand,omitempty"`
	// Category is the category path, top level first
	// (e.g. ["Hobbies", "Model Trains & Railway Sets"]).
	Category []string `json:"category,omitempty"`
	// Price is the unit price in Currency; 0 means the price is unknown
	// (the product is listed but not priced).
	Price float64 `json:"price"`
	// Currency is an ISO-4217-like code of three upper-case letters
	// ("GBP"); required when Price is above 0.
	Currency string `json:"currency,omitempty"`
	// Stock holds units available per region; the DefaultRegion key is
	// used when the shop does not split stock by region. A nil or empty map,
	// or a count of StockUnknown, means unknown: see InStock.
	Stock map[string]int `json:"stock,omitempty"`
	// ImageURL is an absolute http(s) URL or a path starting with "/".
	ImageURL string `json:"image_url,omitempty"`
	// Tags are free labels used for filters and rules.
	Tags []string `json:"tags,omitempty"`
	// Attributes are extra name/value facts (age range, weight, size…).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Popularity is an external popularity hint such as a review count;
	// 0 when unknown. Only its order across products matters.
	Popularity float64 `json:"popularity,omitempty"`
}

// InStock reports whether the product may be offered: true when its stock is
// unknown (no Stock entries, or any entry is StockUnknown) or any region
// holds at least one unit; false only when every known region holds zero.
func (p *Product) InStock() bool {
	if len(p.Stock) == 0 {
		return true
	}
	for _, n := range p.Stock {
		if n != 0 {
			return true
		}
	}
	return false
}

// Review is one shopper's review of a product.
type Review struct {
	// ID is the review's stable id (required).
	ID string `json:"id"`
	// Item is the reviewed Product's ID (required).
	Item string `json:"item"`
	// Stars is the rating, 1 to 5 (fractions allowed).
	Stars float64 `json:"stars"`
	// Title is the review's headline.
	Title string `json:"title,omitempty"`
	// Text is the review body, plain text.
	Text string `json:"text,omitempty"`
	// Date is the review date as YYYY-MM-DD, or empty when unknown.
	Date string `json:"date,omitempty"`
	// Author is the reviewer's display name, empty when unknown.
	Author string `json:"author,omitempty"`
	// Verified reports a verified purchase; false also means unknown.
	Verified bool `json:"verified,omitempty"`
}

// QA is one question a shopper asked about a product and the answer it got
// (from the shop or another shopper).
type QA struct {
	// ID is the pair's stable id (required).
	ID string `json:"id"`
	// Item is the product's ID (required).
	Item string `json:"item"`
	// Question and Answer are plain text (both required).
	Question string `json:"question"`
	Answer   string `json:"answer"`
	// Date is when it was answered, YYYY-MM-DD, or empty when unknown.
	Date string `json:"date,omitempty"`
}

// Validate reports every problem with q, like Product.Validate.
func (q *QA) Validate() error { return joinFieldErrors(q.check()) }

func (q *QA) check() []*FieldError {
	var c checker
	c.id("id", q.ID)
	c.id("item", q.Item)
	c.text("question", q.Question, MaxQuestionBytes, true, true)
	c.text("answer", q.Answer, MaxAnswerBytes, true, true)
	if q.Date != "" {
		if _, err := time.Parse(DateLayout, q.Date); err != nil {
			c.add("date", "%q is not a date as YYYY-MM-DD", q.Date)
		}
	}
	return c
}

// FieldError is one problem with one field of a record. Validate returns
// them (joined); readers report each one with the file name and line.
type FieldError struct {
	// Field names the field in its JSON spelling, with an index or key
	// where it helps: "price", "category[2]", `stock["eu"]`.
	Field string
	// Problem says what is wrong, e.g. `"EUR1" is not a 3-letter currency code`.
	Problem string
}

// Error returns "catalog: field: problem".
func (e *FieldError) Error() string { return "catalog: " + e.Field + ": " + e.Problem }

// Validate reports every problem with p, each as a *FieldError, joined with
// errors.Join; nil when p is valid.
func (p *Product) Validate() error { return joinFieldErrors(p.check()) }

// Validate reports every problem with r, each as a *FieldError, joined with
// errors.Join; nil when r is valid.
func (r *Review) Validate() error { return joinFieldErrors(r.check()) }

func joinFieldErrors(fes []*FieldError) error {
	if len(fes) == 0 {
		return nil
	}
	errs := make([]error, len(fes))
	for i, fe := range fes {
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// checker accumulates field problems.
type checker []*FieldError

func (c *checker) add(field, format string, args ...any) {
	*c = append(*c, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// id checks a required identifier: non-blank, bounded, valid UTF-8, no
// control characters.
func (c *checker) id(field, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		c.add(field, "is empty")
	case len(s) > MaxIDBytes:
		c.add(field, "is %d bytes long, more than %d", len(s), MaxIDBytes)
	case !utf8.ValidString(s):
		c.add(field, "is not valid UTF-8")
	case hasControl(s, false):
		c.add(field, "%q contains a control character", s)
	}
}

// text checks free text: bounded, valid UTF-8, and no control characters
// except tab, newline and carriage return when multiline.
func (c *checker) text(field, s string, max int, required, multiline bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		c.add(field, "is empty")
	case len(s) > max:
		c.add(field, "is %d bytes long, more than %d", len(s), max)
	case !utf8.ValidString(s):
		c.add(field, "is not valid UTF-8")
	case hasControl(s, multiline):
		c.add(field, "contains a control character")
	}
}

// hasControl reports C0 control characters (and DEL); tab, newline and
// carriage return are allowed when multiline.
func hasControl(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x20 && b != 0x7f {
			continue
		}
		if multiline && (b == '\t' || b == '\n' || b == '\r') {
			continue
		}
		return true
	}
	return false
}

// fmtNum formats a float for a message.
func fmtNum(f float64) string { return fmt.Sprintf("%g", f) }

func (p *Product) check() []*FieldError {
	var c checker
	c.id("id", p.ID)
	c.text("title", p.Title, MaxTitleBytes, true, false)
	c.text("description", p.Description, MaxDescriptionBytes, false, true)
	c.text("brand", p.Brand, MaxNameBytes, false, false)
	if len(p.Category) > MaxCategoryDepth {
		c.add("category", "has %d levels, more than %d", len(p.Category), MaxCategoryDepth)
	} else {
		for i, level := range p.Category {
			c.text(fmt.Sprintf("category[%d]", i), level, MaxNameBytes, true, false)
		}
	}
	switch {
	case math.IsNaN(p.Price) || math.IsInf(p.Price, 0):
		c.add("price", "%s is not a finite number", fmtNum(p.Price))
	case p.Price < 0:
		c.add("price", "%s is negative", fmtNum(p.Price))
	}
	switch {
	case p.Currency != "" && !isCurrency(p.Currency):
		c.add("currency", "%q is not a 3-letter upper-case currency code such as \"GBP\"", p.Currency)
	case p.Currency == "" && p.Price > 0:
		c.add("currency", "is empty but price is %s; give a code such as \"GBP\"", fmtNum(p.Price))
	}
	if len(p.Stock) > MaxStockRegions {
		c.add("stock", "has %d regions, more than %d", len(p.Stock), MaxStockRegions)
	} else {
		for _, region := range sortedKeys(p.Stock) {
			f := fmt.Sprintf("stock[%q]", region)
			switch n := p.Stock[region]; {
			case strings.TrimSpace(region) == "":
				c.add(f, "region name is empty")
			case len(region) > MaxRegionBytes:
				c.add(f, "region name is %d bytes long, more than %d", len(region), MaxRegionBytes)
			case !utf8.ValidString(region) || hasControl(region, false):
				c.add(f, "region name is not printable UTF-8")
			case n < StockUnknown:
				c.add(f, "%d is negative (use %d for unknown)", n, StockUnknown)
			}
		}
	}
	if p.ImageURL != "" {
		c.imageURL(p.ImageURL)
	}
	if len(p.Tags) > MaxTags {
		c.add("tags", "has %d tags, more than %d", len(p.Tags), MaxTags)
	} else {
		for i, tag := range p.Tags {
			c.text(fmt.Sprintf("tags[%d]", i), tag, MaxTagBytes, true, false)
		}
	}
	if len(p.Attributes) > MaxAttributes {
		c.add("attributes", "has %d entries, more than %d", len(p.Attributes), MaxAttributes)
	} else {
		for _, k := range sortedKeys(p.Attributes) {
			f := fmt.Sprintf("attributes[%q]", k)
			if strings.TrimSpace(k) == "" || len(k) > MaxAttributeKeyBytes || !utf8.ValidString(k) || hasControl(k, false) {
				c.add(f, "key must be 1 to %d bytes of printable UTF-8", MaxAttributeKeyBytes)
				continue
			}
			c.text(f, p.Attributes[k], MaxAttributeValueBytes, false, true)
		}
	}
	switch {
	case math.IsNaN(p.Popularity) || math.IsInf(p.Popularity, 0):
		c.add("popularity", "%s is not a finite number", fmtNum(p.Popularity))
	case p.Popularity < 0:
		c.add("popularity", "%s is negative", fmtNum(p.Popularity))
	}
	return c
}

func (c *checker) imageURL(s string) {
	if len(s) > MaxImageURLBytes {
		c.add("image_url", "is %d bytes long, more than %d", len(s), MaxImageURLBytes)
		return
	}
	if !utf8.ValidString(s) || hasControl(s, false) {
		c.add("image_url", "is not printable UTF-8")
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.add("image_url", "%q is not a URL", s)
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(s, "//"):
		// A path on the shop's own site.
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
	default:
		c.add("image_url", "%q is neither an http(s) URL nor a path starting with \"/\"", s)
	}
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// DateLayout is the layout of Review.Date.
const DateLayout = "2006-01-02"

func (r *Review) check() []*FieldError {
	var c checker
	c.id("id", r.ID)
	c.id("item", r.Item)
	switch {
	case math.IsNaN(r.Stars) || math.IsInf(r.Stars, 0):
		c.add("stars", "%s is not a finite number", fmtNum(r.Stars))
	case r.Stars < 1 || r.Stars > 5:
		c.add("stars", "%s is outside 1..5", fmtNum(r.Stars))
	}
	c.text("title", r.Title, MaxTitleBytes, false, false)
	c.text("text", r.Text, MaxReviewTextBytes, false, true)
	if r.Date != "" {
		if _, err := time.Parse(DateLayout, r.Date); err != nil {
			c.add("date", "%q is not a date as YYYY-MM-DD", r.Date)
		}
	}
	c.text("author", r.Author, MaxNameBytes, false, false)
	return c
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
