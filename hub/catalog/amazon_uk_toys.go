package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ToysDataPath is where the Amazon UK toys CSV lies inside the shared data
// folder ($AISLE_DATA, or ../shared/data beside the repository).
const ToysDataPath = "amazon_uk_toys/subset_productos_por_categoria_10_total_863_productos.csv"

// ToysCSVName is the input name ConvertAmazonUKToys uses in its errors.
const ToysCSVName = "amazon_uk_toys.csv"

// ToysReviewFieldRunes is where the source cut each product's
// customer_reviews field: 600 characters. A review that ends a field of
// exactly this length probably lost the end of its text.
const ToysReviewFieldRunes = 600

// ToysStats counts what ConvertAmazonUKToysStats kept, guessed and skipped.
type ToysStats struct {
	// Rows counts the CSV data rows read.
	Rows int
	// Products counts the products returned (one per valid row).
	Products int
	// NoPrice counts products whose price was empty: kept with Price 0.
	NoPrice int
	// PriceRanges counts prices given as a range; the low end was kept.
	PriceRanges int
	// UnknownStock counts products whose stock was empty: kept with
	// Stock {"default": StockUnknown}, so they count as in stock.
	UnknownStock int
	// OutOfStock counts products with a stock of 0.
	OutOfStock int
	// ReviewChunks counts the chunks found in customer_reviews.
	ReviewChunks int
	// Reviews counts the reviews returned.
	Reviews int
	// SkippedReviewChunks counts chunks skipped as malformed: fewer than
	// four " // " parts (cut off before the author) or unreadable stars or
	// date.
	SkippedReviewChunks int
	// ReviewsWithoutText counts kept reviews whose text was missing (the
	// source field was cut right after the author part).
	ReviewsWithoutText int
	// ReviewsCutText counts kept reviews that end a customer_reviews field
	// cut at ToysReviewFieldRunes, whose text is probably incomplete.
	ReviewsCutText int
	// ReviewsWithoutAuthor counts kept reviews with no readable author
	// (a "N of M people found this helpful" line, or a cut-off author).
	ReviewsWithoutAuthor int
}

// ConvertAmazonUKToys converts the Amazon UK toys CSV (PromptCloud's
// "subset_productos_por_categoria_10_total_863_productos.csv", CC BY-SA 4.0)
// into products and reviews, in file order. It is
// ConvertAmazonUKToysStats without the counts; see there for the rules.
func ConvertAmazonUKToys(r io.Reader) ([]Product, []Review, error) {
	products, reviews, _, err := ConvertAmazonUKToysStats(r)
	return products, reviews, err
}

// ConvertAmazonUKToysStats converts the Amazon UK toys CSV into products and
// reviews and counts what it kept and skipped. Columns are found by header
// name: product_id, product_name, manufacturer, price,
// number_available_in_stock, number_of_reviews, average_review_rating,
// product_information, product_description, customer_reviews, category and
// the optional subcategory_1, subcategory_2, ….
//
// Mapping: ID = product_id; Title = product_name and Brand = manufacturer
// (whitespace collapsed); Category = [category, subcategory_1, …] with empty
// levels and a level repeating its parent left out; Price from "4.99",
// "£4.99", "£1,299.00" or the low end of "£3.99 - £5.99", and 0 when empty;
// Currency "GBP"; Stock {"default": n} from "5" or "5 new", and
// {"default": StockUnknown} when empty; Description = product_description
// (trimmed); Popularity = number_of_reviews (0 when empty); Attributes: the
// average rating and, best effort, a few facts found in
// product_information (recommended_age, item_weight, product_dimensions,
// model_number, asin, date_first_available, …). ImageURL and Tags stay empty.
//
// Reviews: customer_reviews holds chunks joined by " | ", each
// "title // stars // date // By author on date // text". A chunk becomes a
// Review with ID = product id + "-r" + its 1-based position, Date as
// YYYY-MM-DD (from "27 Dec. 2014") and Verified false (unknown). The
// source cut every field at ToysReviewFieldRunes characters, so its last
// chunk is often truncated: a chunk is kept when it has at least the title,
// stars and date parts, each followed by " // " (so none of them is cut);
// the author is kept only when its part is complete; other chunks are
// skipped and counted.
//
// Text is cleaned: invalid UTF-8 becomes U+FFFD and control characters
// other than tab and newline are dropped. A row whose price, stock or
// review count is not a number, or whose product fails Product.Validate or
// repeats an id, is not converted; all such problems are returned together
// as *RowErrors (with no products). A CSV syntax error stops at once.
func ConvertAmazonUKToysStats(r io.Reader) ([]Product, []Review, ToysStats, error) {
	var st ToysStats
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, st, fmt.Errorf("catalog: %s: empty input, want a header row", ToysCSVName)
	}
	if err != nil {
		return nil, nil, st, fmt.Errorf("catalog: %s: %w", ToysCSVName, err)
	}
	col, subcats, err := toysColumns(header)
	if err != nil {
		return nil, nil, st, err
	}
	var (
		products []Product
		reviews  []Review
		rowErrs  RowErrors
		seen     = make(map[string]int)
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				rowErrs.add(&RowError{Name: ToysCSVName, Line: pe.StartLine, Problem: fmt.Sprintf("has %d fields, want %d like the header", len(rec), len(header))})
				continue
			}
			return nil, nil, st, fmt.Errorf("catalog: %s: %w", ToysCSVName, err)
		}
		st.Rows++
		line, _ := cr.FieldPos(0)
		bad := func(field, format string, args ...any) {
			rowErrs.add(&RowError{Name: ToysCSVName, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
		}
		get := func(name string) string { return cleanText(rec[col[name]]) }

		p := Product{
			ID:          strings.TrimSpace(get("product_id")),
			Title:       collapseSpace(get("product_name")),
			Brand:       collapseSpace(get("manufacturer")),
			Description: strings.TrimSpace(get("product_description")),
			Currency:    "GBP",
		}
		for _, name := range append([]string{"category"}, subcats...) {
			level := collapseSpace(get(name))
			if level != "" && (len(p.Category) == 0 || p.Category[len(p.Category)-1] != level) {
				p.Category = append(p.Category, level)
			}
		}
		rowOK := true
		price, isRange, err := parseToysPrice(get("price"))
		switch {
		case err != nil:
			bad("price", "%s", err)
			rowOK = false
		case get("price") == "":
			st.NoPrice++
		case isRange:
			st.PriceRanges++
		}
		p.Price = price
		stock, known, err := parseToysStock(get("number_available_in_stock"))
		switch {
		case err != nil:
			bad("number_available_in_stock", "%s", err)
			rowOK = false
		case !known:
			st.UnknownStock++
		case stock == 0:
			st.OutOfStock++
		}
		p.Stock = map[string]int{DefaultRegion: stock}
		n, err := parseToysCount(get("number_of_reviews"))
		if err != nil {
			bad("number_of_reviews", "%s", err)
			rowOK = false
		}
		p.Popularity = float64(n)
		p.Attributes = toysAttributes(get("product_information"), get("average_review_rating"))
		if !rowOK {
			continue
		}
		if fes := p.check(); len(fes) > 0 {
			for _, fe := range fes {
				bad(toysColumnOf(fe.Field), "%s", fe.Problem)
			}
			continue
		}
		if first, ok := seen[p.ID]; ok {
			bad("product_id", "%q is already used on line %d", p.ID, first)
			continue
		}
		seen[p.ID] = line
		products = append(products, p)
		reviews = appendToysReviews(reviews, p.ID, get("customer_reviews"), &st)
	}
	if rowErrs.Total > 0 {
		return nil, nil, st, &rowErrs
	}
	st.Products = len(products)
	st.Reviews = len(reviews)
	return products, reviews, st, nil
}

// toysColumnOf names the CSV column behind a Product field, for errors.
func toysColumnOf(field string) string {
	switch {
	case field == "id":
		return "product_id"
	case field == "title":
		return "product_name"
	case field == "brand":
		return "manufacturer"
	case field == "description":
		return "product_description"
	case strings.HasPrefix(field, "category"):
		return "category/subcategory"
	case strings.HasPrefix(field, "attributes"):
		return "product_information (" + field + ")"
	}
	return field
}

// toysRequired lists the columns the converter needs.
var toysRequired = []string{
	"product_id", "product_name", "manufacturer", "price", "number_available_in_stock",
	"number_of_reviews", "average_review_rating", "product_information",
	"product_description", "customer_reviews", "category",
}

// toysColumns maps header names to column indexes and lists the
// subcategory columns present, in level order.
func toysColumns(header []string) (map[string]int, []string, error) {
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if _, dup := col[h]; dup {
			return nil, nil, fmt.Errorf("catalog: %s:1: header: column %q appears twice", ToysCSVName, h)
		}
		col[h] = i
	}
	var missing []string
	for _, name := range toysRequired {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("catalog: %s:1: header: missing column(s) %s; is this the Amazon UK toys CSV?", ToysCSVName, strings.Join(missing, ", "))
	}
	var subcats []string
	for level := 1; ; level++ {
		name := "subcategory_" + strconv.Itoa(level)
		if _, ok := col[name]; !ok {
			break
		}
		subcats = append(subcats, name)
	}
	return col, subcats, nil
}

// cleanText makes s valid UTF-8 without control characters other than tab
// and newline (a carriage return before a newline is dropped, a lone one
// becomes a newline).
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !hasControl(s, false) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// collapseSpace trims s and turns every run of white space (newlines and
// no-break spaces included) into one space.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseToysPrice reads "4.99", "£4.99", "£1,299.00" or a range
// "£3.99 - £5.99" (the low end); "" is 0.
func parseToysPrice(s string) (price float64, isRange bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	low, high, isRange := strings.Cut(s, " - ")
	price, ok := parsePounds(low)
	if ok && isRange {
		var hi float64
		hi, ok = parsePounds(high)
		ok = ok && hi >= price
	}
	if !ok {
		return 0, false, fmt.Errorf("%q is not a price such as \"£4.99\" or \"£3.99 - £5.99\"", s)
	}
	return price, isRange, nil
}

// parsePounds reads "£1,299.00" or "4.99": digits with optional thousands
// commas and one decimal point.
func parsePounds(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, "£"))
	s = strings.ReplaceAll(s, ",", "")
	if s == "" || len(s) > 32 {
		return 0, false
	}
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// parseToysStock reads "5" or "5 new" (also "1 used", "1,200 new");
// "" is StockUnknown with known false.
func parseToysStock(s string) (n int, known bool, err error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return StockUnknown, false, nil
	}
	n, err = parseToysCount(f[0])
	if err != nil || len(f) > 2 || (len(f) == 2 && !isLetters(f[1])) {
		return 0, false, fmt.Errorf("%q is not a stock count such as \"5\" or \"5 new\"", s)
	}
	return n, true, nil
}

// parseToysCount reads a non-negative whole number with optional thousands
// commas; "" is 0.
func parseToysCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	digits := strings.ReplaceAll(s, ",", "")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || digits[0] == '+' || digits[0] == '-' {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// toysInfoFacts are the facts picked out of product_information: the key
// of the attribute and a pattern whose first group is the value. The text
// runs labels and values together ("Item Weight998 g Product Dimensions…"),
// so each pattern says what its value looks like.
var toysInfoFacts = []struct {
	key string
	re  *regexp.Regexp
}{
	{"recommended_age", regexp.MustCompile(`Manufacturer recommended age:\s*(\d+ (?:months?|years?) and up|\d+(?: months?| years?)? - \d+ (?:months?|years?)|\d+ (?:months?|years?))`)},
	{"item_weight", regexp.MustCompile(`Item Weight\s*(\d[\d.,]* ?(?:g|Kg|kg|mg))\b`)},
	{"shipping_weight", regexp.MustCompile(`Shipping Weight\s*(\d[\d.,]* ?(?:g|Kg|kg|mg))\b`)},
	{"product_dimensions", regexp.MustCompile(`Product Dimensions\s*(\d[\d.,]*(?: x \d[\d.,]*){1,2} (?:cm|mm|m))\b`)},
	{"model_number", regexp.MustCompile(`Item model number\s*(\S+)`)},
	{"asin", regexp.MustCompile(`ASIN\s*([0-9A-Z]{10})\b`)},
	{"date_first_available", regexp.MustCompile(`Date First Available\s*(\d{1,2} [A-Za-z]+\.? \d{4})`)},
	{"batteries_required", regexp.MustCompile(`Batteries Required\?\s*(Yes|No)`)},
	{"batteries_included", regexp.MustCompile(`Batteries Included\?\s*(Yes|No)`)},
	{"puzzle_pieces", regexp.MustCompile(`Number of Puzzle Pieces\s*(\d+)`)},
	{"game_players", regexp.MustCompile(`Number of Game Players\s*(\d+(?: ?- ?\d+)?)`)},
}

// toysAttributes picks facts out of the free-text product information and
// adds the average rating; best effort, it never fails.
func toysAttributes(info, rating string) map[string]string {
	attrs := make(map[string]string)
	info = collapseSpace(info)
	for _, f := range toysInfoFacts {
		m := f.re.FindStringSubmatch(info)
		if m == nil {
			continue
		}
		v := m[1]
		switch f.key {
		case "date_first_available":
			d, ok := parseToysDate(v)
			if !ok {
				continue
			}
			v = d
		case "batteries_required", "batteries_included":
			v = strings.ToLower(v)
		}
		if len(v) <= MaxAttributeValueBytes {
			attrs[f.key] = v
		}
	}
	// "4.5" or "4.5 out of 5 stars".
	if f := strings.Fields(rating); len(f) > 0 {
		if v, err := strconv.ParseFloat(f[0], 64); err == nil && v >= 1 && v <= 5 {
			attrs["average_rating"] = strconv.FormatFloat(v, 'f', 1, 64)
		}
	}
	if len(attrs) == 0 {
		return nil
	}
	return attrs
}

// appendToysReviews parses one customer_reviews field.
func appendToysReviews(reviews []Review, item, field string, st *ToysStats) []Review {
	if strings.TrimSpace(field) == "" {
		return reviews
	}
	cut := utf8.RuneCountInString(field) == ToysReviewFieldRunes
	chunks := strings.Split(field, " | ")
	st.ReviewChunks += len(chunks)
	for i, chunk := range chunks {
		r, ok := parseToysReview(chunk)
		if !ok {
			st.SkippedReviewChunks++
			continue
		}
		r.ID = item + "-r" + strconv.Itoa(i+1)
		r.Item = item
		if len(r.check()) > 0 {
			st.SkippedReviewChunks++
			continue
		}
		switch {
		case r.Text == "":
			st.ReviewsWithoutText++
		case cut && i == len(chunks)-1:
			st.ReviewsCutText++
			// Say so instead of ending mid-word: drop the partial last word
			// and mark the cut.
			if sp := strings.LastIndexAny(r.Text, " \n"); sp > 0 {
				r.Text = strings.TrimRight(r.Text[:sp], " \n.,;:") + "…"
			}
		}
		if r.Author == "" {
			st.ReviewsWithoutAuthor++
		}
		reviews = append(reviews, r)
	}
	return reviews
}

// parseToysReview reads "title // stars // date // By author on date // text"
// (the text may itself contain " // ").
func parseToysReview(chunk string) (Review, bool) {
	parts := strings.Split(chunk, " // ")
	if len(parts) < 4 {
		return Review{}, false
	}
	stars, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err != nil || !(stars >= 1 && stars <= 5) {
		return Review{}, false
	}
	date, ok := parseToysDate(parts[2])
	if !ok {
		return Review{}, false
	}
	return Review{
		Stars:  stars,
		Title:  collapseSpace(parts[0]),
		Date:   date,
		Author: parseToysAuthor(parts[3]),
		Text:   strings.TrimSpace(strings.Join(parts[4:], " // ")),
	}, true
}

// parseToysAuthor reads "By\n   name\n on 27 Dec. 2014" (or "A Kid's Review
// on 4 Mar. 2010"); anything not ending in " on <date>" — a helpfulness
// line, a cut-off part — gives "".
func parseToysAuthor(s string) string {
	s = collapseSpace(s)
	i := strings.LastIndex(s, " on ")
	if i < 0 {
		return ""
	}
	if _, ok := parseToysDate(s[i+len(" on "):]); !ok {
		return ""
	}
	name := s[:i]
	if name == "By" {
		return ""
	}
	name = strings.TrimPrefix(name, "By ")
	if len(name) > MaxNameBytes {
		return ""
	}
	return name
}

var toysMonths = map[string]time.Month{
	"jan": time.January, "january": time.January,
	"feb": time.February, "february": time.February,
	"mar": time.March, "march": time.March,
	"apr": time.April, "april": time.April,
	"may": time.May,
	"jun": time.June, "june": time.June,
	"jul": time.July, "july": time.July,
	"aug": time.August, "august": time.August,
	"sep": time.September, "sept": time.September, "september": time.September,
	"oct": time.October, "october": time.October,
	"nov": time.November, "november": time.November,
	"dec": time.December, "december": time.December,
}

// parseToysDate reads "27 Dec. 2014", "5 Jan. 2016", "29 July 2015" or
// "1 Sept. 2015" into YYYY-MM-DD.
func parseToysDate(s string) (string, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || len(f[0]) > 2 || len(f[2]) != 4 {
		return "", false
	}
	day, err1 := strconv.Atoi(f[0])
	year, err2 := strconv.Atoi(f[2])
	month, ok := toysMonths[strings.ToLower(strings.TrimSuffix(f[1], "."))]
	if err1 != nil || err2 != nil || !ok || day < 1 || year < 1000 {
		return "", false
	}
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return "", false // 31 Feb.
	}
	return t.Format(DateLayout), true
}
