package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// CSVOptions says how to read a catalog CSV file: a header row names the
// columns, and Map says which column holds which product field.
//
// Fields are the JSON names of catalog.Product: id, title, description,
// brand, category, price, currency, image_url, tags, popularity; plus
// stock (units in the default region), stock_<region> (units in a region)
// and attributes.<name> (one attribute). A column whose header is exactly
// a field name (case-insensitively), stock or stock_<region>, is used for
// that field without a mapping. id and title are required.
type CSVOptions struct {
	// Map maps a field to its column, or for category to one column (a
	// path split by CategorySep) or several (one level each, top first).
	Map map[string][]string
	// CategorySep splits a one-column category path; default ">".
	CategorySep string
	// TagSep splits the tags column; default "|".
	TagSep string
	// Currency is used when a row has a price but no currency column or an
	// empty currency cell. A price written with £ or € needs none.
	Currency string
	// Comma is the column separator; default ','.
	Comma rune
}

// ParseCSVMap parses a column mapping written as
// "field=column,field=column,…", with several category columns joined by
// '+': "id=product_id,title=product_name,category=cat1+cat2+cat3".
func ParseCSVMap(s string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		field, col, ok := strings.Cut(pair, "=")
		field, col = strings.TrimSpace(field), strings.TrimSpace(col)
		if !ok || field == "" || col == "" {
			return nil, fmt.Errorf("ingest: column mapping %q: want field=column", pair)
		}
		if _, dup := m[field]; dup {
			return nil, fmt.Errorf("ingest: column mapping: %s is mapped twice", field)
		}
		cols := []string{col}
		if field == "category" {
			cols = strings.Split(col, "+")
			for i := range cols {
				cols[i] = strings.TrimSpace(cols[i])
			}
		}
		m[field] = cols
	}
	o := CSVOptions{Map: m}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// csvFields are the plain product fields a column can fill.
var csvFields = []string{"id", "title", "description", "brand", "category", "price", "currency", "image_url", "tags", "popularity", "stock"}

func (o *CSVOptions) validate() error {
	for field, cols := range o.Map {
		switch {
		case slices.Contains(csvFields, field):
		case strings.HasPrefix(field, "stock_") && len(field) > len("stock_"):
		case strings.HasPrefix(field, "attributes.") && len(field) > len("attributes."):
		default:
			return fmt.Errorf("ingest: column mapping: unknown field %q; want one of %s, stock_<region> or attributes.<name>", field, strings.Join(csvFields, ", "))
		}
		if len(cols) == 0 || slices.Contains(cols, "") {
			return fmt.Errorf("ingest: column mapping: %s has an empty column name", field)
		}
		if len(cols) > 1 && field != "category" {
			return fmt.Errorf("ingest: column mapping: only category may take several columns, not %s", field)
		}
	}
	if o.Currency != "" {
		p := catalog.Product{ID: "x", Title: "x", Price: 1, Currency: o.Currency}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("ingest: currency %q is not a 3-letter upper-case code such as GBP", o.Currency)
		}
	}
	if o.Comma != 0 && (o.Comma == '"' || o.Comma == '\r' || o.Comma == '\n' || !utf8.ValidRune(o.Comma)) {
		return fmt.Errorf("ingest: %q cannot separate CSV columns", o.Comma)
	}
	return nil
}

// csvColumns is a mapping resolved against a header: field → column
// indexes.
type csvColumns struct {
	cols    map[string][]int
	names   []string // header names, for messages
	perRow  int      // fields the header has
	catSep  string
	tagSep  string
	defCurr string
}

func (o *CSVOptions) resolve(header []string) (*csvColumns, []string) {
	c := &csvColumns{cols: map[string][]int{}, names: header, perRow: len(header),
		catSep: orDefault(o.CategorySep, ">"), tagSep: orDefault(o.TagSep, "|"), defCurr: o.Currency}
	var problems []string
	find := func(name string) int {
		if i := slices.Index(header, name); i >= 0 {
			return i
		}
		for i, h := range header {
			if strings.EqualFold(h, name) {
				return i
			}
		}
		return -1
	}
	used := map[int]bool{}
	for field, names := range o.Map {
		for _, name := range names {
			i := find(name)
			if i < 0 {
				problems = append(problems, fmt.Sprintf("column %q (for %s) is not in the header", name, field))
				continue
			}
			c.cols[field] = append(c.cols[field], i)
			used[i] = true
		}
	}
	// Columns named like a field fill it unless the mapping says otherwise.
	for i, h := range header {
		if used[i] {
			continue
		}
		name := strings.ToLower(h)
		if _, mapped := c.cols[name]; mapped {
			continue
		}
		if slices.Contains(csvFields, name) || strings.HasPrefix(name, "stock_") && len(name) > len("stock_") {
			c.cols[name] = []int{i}
		}
	}
	for _, f := range []string{"id", "title"} {
		if _, ok := c.cols[f]; !ok && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "(for "+f+")") }) {
			problems = append(problems, fmt.Sprintf("no column for %s: name one with -map %s=COLUMN", f, f))
		}
	}
	slices.Sort(problems)
	return c, problems
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// label names a field and its column(s) in a row error.
func (c *csvColumns) label(field string) string {
	base := field
	if i := strings.IndexAny(base, "[."); i >= 0 && !strings.HasPrefix(field, "attributes.") {
		base = base[:i]
	}
	if strings.HasPrefix(field, "stock[") {
		// stock["eu"] comes from stock_eu, or stock for the default region.
		region := strings.TrimSuffix(strings.TrimPrefix(field, `stock["`), `"]`)
		base = "stock_" + region
		if _, ok := c.cols[base]; !ok {
			base = "stock"
		}
	}
	if strings.HasPrefix(field, "attributes[") {
		key := strings.TrimSuffix(strings.TrimPrefix(field, `attributes["`), `"]`)
		base = "attributes." + key
	}
	idx, ok := c.cols[base]
	if !ok {
		return field
	}
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = strconv.Quote(c.names[j])
	}
	return fmt.Sprintf("%s (column %s)", field, strings.Join(names, "+"))
}

func (p *parser) catalogCSV(r io.Reader, name string) error {
	o := p.opts.CSV
	cr := csv.NewReader(r)
	if o.Comma != 0 {
		cr.Comma = o.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		p.errs.add(name, 1, "", "the file is empty; want a header row naming the columns")
		return nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		p.errs.add(name, pe.Line, "", "header: %v", pe.Err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("ingest: %s: read: %w", name, err)
	}
	header = slices.Clone(header)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	cols, problems := o.resolve(header)
	if len(problems) > 0 {
		for _, pr := range problems {
			p.errs.add(name, 1, "", "header: %s; the header has %s", pr, quoteAll(header))
		}
		return nil
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.As(err, &pe) {
			p.errs.add(name, pe.Line, "", "%v", pe.Err)
			continue
		}
		if err != nil {
			return fmt.Errorf("ingest: %s: read: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != cols.perRow {
			p.errs.add(name, line, "", "%d fields, but the header has %d", len(rec), cols.perRow)
			continue
		}
		// Cells that do not parse, then what Validate finds in the others.
		prod, fes := cols.product(rec)
		bad := map[string]bool{}
		for _, fe := range fes {
			bad[fe.Field] = true
		}
		for _, fe := range fieldErrors(prod.Validate()) {
			if !bad[fe.Field] {
				fes = append(fes, fe)
			}
		}
		for _, fe := range fes {
			p.errs.add(name, line, cols.label(fe.Field), "%s", fe.Problem)
		}
		if len(fes) > 0 {
			continue
		}
		p.saw(prod.ID, ref{src: p.src, line: line})
		p.batch.Products = append(p.batch.Products, prod)
	}
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// fieldErrors unpacks the *catalog.FieldError values of a Validate error
// (an errors.Join of them).
func fieldErrors(err error) []*catalog.FieldError {
	var out []*catalog.FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *catalog.FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			out = append(out, &catalog.FieldError{Problem: err.Error()})
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// product builds a product from one row; the problems are those of cells
// that cannot be parsed (Validate checks the rest).
func (c *csvColumns) product(rec []string) (catalog.Product, []*catalog.FieldError) {
	var p catalog.Product
	var fes []*catalog.FieldError
	bad := func(field, format string, args ...any) {
		fes = append(fes, &catalog.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	cell := func(field string) (string, bool) {
		idx, ok := c.cols[field]
		if !ok {
			return "", false
		}
		return strings.TrimSpace(rec[idx[0]]), true
	}
	p.ID, _ = cell("id")
	p.Title, _ = cell("title")
	p.Description, _ = cell("description")
	p.Brand, _ = cell("brand")
	p.ImageURL, _ = cell("image_url")
	if idx, ok := c.cols["category"]; ok {
		if len(idx) == 1 {
			for _, level := range strings.Split(rec[idx[0]], c.catSep) {
				if level = strings.TrimSpace(level); level != "" {
					p.Category = append(p.Category, level)
				}
			}
		} else {
			for _, i := range idx {
				if level := strings.TrimSpace(rec[i]); level != "" {
					p.Category = append(p.Category, level)
				}
			}
		}
	}
	if s, _ := cell("tags"); s != "" {
		for _, tag := range strings.Split(s, c.tagSep) {
			if tag = strings.TrimSpace(tag); tag != "" {
				p.Tags = append(p.Tags, tag)
			}
		}
	}
	currency, _ := cell("currency")
	if s, _ := cell("price"); s != "" {
		price, symCurrency, problem := parsePrice(s)
		if problem != "" {
			bad("price", "%s", problem)
		}
		p.Price = price
		if currency == "" {
			currency = symCurrency
		}
	}
	if currency == "" && p.Price > 0 {
		currency = c.defCurr
	}
	p.Currency = currency
	if s, _ := cell("popularity"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			bad("popularity", "%q is not a number", s)
		}
		p.Popularity = v
	}
	for field, idx := range c.cols {
		region, ok := strings.CutPrefix(field, "stock_")
		if field == "stock" {
			region, ok = catalog.DefaultRegion, true
		}
		if ok {
			s := strings.TrimSpace(rec[idx[0]])
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				bad(fmt.Sprintf("stock[%q]", region), "%q is not a whole number of units", s)
				continue
			}
			if p.Stock == nil {
				p.Stock = map[string]int{}
			}
			p.Stock[region] = n
			continue
		}
		if key, ok := strings.CutPrefix(field, "attributes."); ok {
			if s := strings.TrimSpace(rec[idx[0]]); s != "" {
				if p.Attributes == nil {
					p.Attributes = map[string]string{}
				}
				p.Attributes[key] = s
			}
		}
	}
	slices.SortFunc(fes, func(a, b *catalog.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return p, fes
}

// parsePrice reads a price such as "12.99" or "£1,299.50": an optional
// currency sign before or after the number, and ',' thousands separators
// when '.' is the decimal point. It returns the
// currency the sign implies (£ GBP, € EUR; $ is ambiguous and implies
// none).
func parsePrice(s string) (price float64, currency, problem string) {
	t := strings.TrimSpace(s)
	for _, sym := range []struct{ sign, code string }{{"£", "GBP"}, {"€", "EUR"}, {"$", ""}} {
		if rest, ok := strings.CutPrefix(t, sym.sign); ok {
			t, currency = rest, sym.code
			break
		}
		if rest, ok := strings.CutSuffix(t, sym.sign); ok {
			t, currency = rest, sym.code
			break
		}
	}
	t = strings.TrimSpace(t)
	if strings.Contains(t, ",") {
		if !strings.Contains(t, ".") {
			return 0, "", fmt.Sprintf("%q: write the decimal point as '.' (a ',' is read only as a thousands separator)", s)
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "", fmt.Sprintf("%q is not a price", s)
	}
	return v, currency, ""
}
