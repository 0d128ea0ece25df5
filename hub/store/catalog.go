package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// MaxFAQBodyBytes bounds one FAQ document's markdown body.
const MaxFAQBodyBytes = 256 << 10

// FAQ is one FAQ or policy document of a shop, in markdown.
type FAQ struct {
	// ID is the document's stable id, such as its file name without the
	// extension ("returns").
	ID string `json:"id"`
	// Title is the document's title, such as its first heading.
	Title string `json:"title"`
	// Body is the markdown text.
	Body string `json:"body"`
}

// Validate reports every problem with f, each as a *catalog.FieldError,
// joined with errors.Join; nil when f is valid.
func (f *FAQ) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &catalog.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if p := textProblem(f.ID, catalog.MaxIDBytes, true, false); p != "" {
		add("id", "%s", p)
	}
	if p := textProblem(f.Title, catalog.MaxTitleBytes, true, false); p != "" {
		add("title", "%s", p)
	}
	if p := textProblem(f.Body, MaxFAQBodyBytes, true, true); p != "" {
		add("body", "%s", p)
	}
	return errors.Join(errs...)
}

// textProblem says what is wrong with a string field, or "": required
// non-blank, at most max bytes of valid UTF-8, no control characters
// (tab, newline and carriage return allowed when multiline).
func textProblem(s string, max int, required, multiline bool) string {
	switch {
	case required && strings.TrimSpace(s) == "":
		return "is empty"
	case len(s) > max:
		return fmt.Sprintf("is %d bytes long, more than %d", len(s), max)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x20 && b != 0x7f {
			continue
		}
		if multiline && (b == '\t' || b == '\n' || b == '\r') {
			continue
		}
		return "contains a control character"
	}
	return ""
}

// canonicalJSON encodes v the same way every time (struct field order,
// sorted map keys, no HTML escaping), so equal records give equal bytes
// and an upsert can tell an unchanged row by comparing payloads.
func canonicalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// prepare validates every record of a batch, refuses repeated ids, and
// encodes each as canonical JSON, before any transaction starts.
func prepare[T any](what string, items []T, id func(*T) string, validate func(*T) error) ([][]byte, error) {
	payloads := make([][]byte, len(items))
	seen := make(map[string]int, len(items))
	for i := range items {
		v := &items[i]
		if err := validate(v); err != nil {
			return nil, fmt.Errorf("%w: %s %d (id %q): %v", ErrInvalid, what, i, id(v), err)
		}
		if first, ok := seen[id(v)]; ok {
			return nil, fmt.Errorf("%w: %s %d: id %q repeats %s %d", ErrInvalid, what, i, id(v), what, first)
		}
		seen[id(v)] = i
		b, err := canonicalJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s %d (id %q): %w", what, i, id(v), err)
		}
		payloads[i] = b
	}
	return payloads, nil
}

// upsert runs one prepared statement per row in one transaction and
// returns the rows it actually inserted or changed.
func (s *Store) upsert(ctx context.Context, shop string, n int, o batchOptions, query string, args func(i int, now int64) []any) (int, error) {
	changed := 0
	err := s.write(ctx, shop, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := s.now().UnixMilli()
		c := counter{add: o.progress}
		for i := 0; i < n; i++ {
			res, err := stmt.ExecContext(ctx, args(i, now)...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			changed += int(k)
			c.tick()
		}
		c.flush()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// UpsertProducts inserts the products, or replaces the stored ones with
// the same ids, in one transaction, and returns how many rows changed: a
// product equal to the stored one is left alone and not counted. Every
// product must pass Validate and the ids must differ; otherwise nothing is
// written and the error wraps ErrInvalid. ErrNoShop for an unknown shop.
func (s *Store) UpsertProducts(ctx context.Context, shop string, ps []catalog.Product, opts ...BatchOption) (changed int, err error) {
	payloads, err := prepare("product", ps, func(p *catalog.Product) string { return p.ID }, (*catalog.Product).Validate)
	if err != nil {
		return 0, fmt.Errorf("store: upsert products: %w", err)
	}
	changed, err = s.upsert(ctx, shop, len(ps), batchOpts(opts), `
		INSERT INTO products (shop, id, title, category, price, popularity, updated, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop, id) DO UPDATE SET
			title = excluded.title, category = excluded.category, price = excluded.price,
			popularity = excluded.popularity, updated = excluded.updated, payload = excluded.payload
		WHERE products.payload IS NOT excluded.payload`,
		func(i int, now int64) []any {
			p := &ps[i]
			return []any{shop, p.ID, p.Title, strings.Join(p.Category, " > "), p.Price, p.Popularity, now, payloads[i]}
		})
	if err != nil {
		return 0, fmt.Errorf("store: upsert products: %w", err)
	}
	return changed, nil
}

// UpsertReviews inserts or replaces reviews like UpsertProducts. A review
// may name an item that is not (yet) in the catalog.
func (s *Store) UpsertReviews(ctx context.Context, shop string, rs []catalog.Review, opts ...BatchOption) (changed int, err error) {
	payloads, err := prepare("review", rs, func(r *catalog.Review) string { return r.ID }, (*catalog.Review).Validate)
	if err != nil {
		return 0, fmt.Errorf("store: upsert reviews: %w", err)
	}
	changed, err = s.upsert(ctx, shop, len(rs), batchOpts(opts), `
		INSERT INTO reviews (shop, id, item, stars, date, verified, updated, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop, id) DO UPDATE SET
			item = excluded.item, stars = excluded.stars, date = excluded.date,
			verified = excluded.verified, updated = excluded.updated, payload = excluded.payload
		WHERE reviews.payload IS NOT excluded.payload`,
		func(i int, now int64) []any {
			r := &rs[i]
			return []any{shop, r.ID, r.Item, r.Stars, r.Date, r.Verified, now, payloads[i]}
		})
	if err != nil {
		return 0, fmt.Errorf("store: upsert reviews: %w", err)
	}
	return changed, nil
}

// UpsertQA inserts or replaces question-and-answer pairs like
// UpsertProducts.
func (s *Store) UpsertQA(ctx context.Context, shop string, qs []catalog.QA, opts ...BatchOption) (changed int, err error) {
	payloads, err := prepare("qa", qs, func(q *catalog.QA) string { return q.ID }, (*catalog.QA).Validate)
	if err != nil {
		return 0, fmt.Errorf("store: upsert qa: %w", err)
	}
	changed, err = s.upsert(ctx, shop, len(qs), batchOpts(opts), `
		INSERT INTO qa (shop, id, item, updated, payload)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop, id) DO UPDATE SET
			item = excluded.item, updated = excluded.updated, payload = excluded.payload
		WHERE qa.payload IS NOT excluded.payload`,
		func(i int, now int64) []any {
			q := &qs[i]
			return []any{shop, q.ID, q.Item, now, payloads[i]}
		})
	if err != nil {
		return 0, fmt.Errorf("store: upsert qa: %w", err)
	}
	return changed, nil
}

// UpsertFAQ inserts or replaces FAQ documents like UpsertProducts.
func (s *Store) UpsertFAQ(ctx context.Context, shop string, docs []FAQ, opts ...BatchOption) (changed int, err error) {
	if _, err := prepare("faq", docs, func(f *FAQ) string { return f.ID }, (*FAQ).Validate); err != nil {
		return 0, fmt.Errorf("store: upsert faq: %w", err)
	}
	changed, err = s.upsert(ctx, shop, len(docs), batchOpts(opts), `
		INSERT INTO faq (shop, id, title, body, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop, id) DO UPDATE SET
			title = excluded.title, body = excluded.body, updated = excluded.updated
		WHERE faq.title IS NOT excluded.title OR faq.body IS NOT excluded.body`,
		func(i int, now int64) []any {
			d := &docs[i]
			return []any{shop, d.ID, d.Title, d.Body, now}
		})
	if err != nil {
		return 0, fmt.Errorf("store: upsert faq: %w", err)
	}
	return changed, nil
}

// readRows runs a query of one shop and decodes each row with scan.
func readRows(ctx context.Context, db *sql.DB, shop string, scan func(*sql.Rows) error, query string, args ...any) error {
	if err := requireShop(ctx, db, shop); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Products returns the shop's products ordered by id; ErrNoShop for an
// unknown shop.
func (s *Store) Products(ctx context.Context, shop string) ([]catalog.Product, error) {
	var ps []catalog.Product
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		var p catalog.Product
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("decode stored product: %w", err)
		}
		ps = append(ps, p)
		return nil
	}, "SELECT payload FROM products WHERE shop = ? ORDER BY id", shop)
	if err != nil {
		return nil, fmt.Errorf("store: products of %q: %w", shop, err)
	}
	return ps, nil
}

// Reviews returns the shop's reviews of item ordered by id, or all the
// shop's reviews ordered by item and id when item is empty; ErrNoShop for
// an unknown shop.
func (s *Store) Reviews(ctx context.Context, shop, item string) ([]catalog.Review, error) {
	query, args := "SELECT payload FROM reviews WHERE shop = ? AND item = ? ORDER BY id", []any{shop, item}
	if item == "" {
		query, args = "SELECT payload FROM reviews WHERE shop = ? ORDER BY item, id", []any{shop}
	}
	var rs []catalog.Review
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		var r catalog.Review
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("decode stored review: %w", err)
		}
		rs = append(rs, r)
		return nil
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reviews of %q: %w", shop, err)
	}
	return rs, nil
}

// QA returns the shop's question-and-answer pairs about item ordered by id,
// or all of them ordered by item and id when item is empty; ErrNoShop for
// an unknown shop.
func (s *Store) QA(ctx context.Context, shop, item string) ([]catalog.QA, error) {
	query, args := "SELECT payload FROM qa WHERE shop = ? AND item = ? ORDER BY id", []any{shop, item}
	if item == "" {
		query, args = "SELECT payload FROM qa WHERE shop = ? ORDER BY item, id", []any{shop}
	}
	var qs []catalog.QA
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		var q catalog.QA
		if err := json.Unmarshal(b, &q); err != nil {
			return fmt.Errorf("decode stored qa: %w", err)
		}
		qs = append(qs, q)
		return nil
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: qa of %q: %w", shop, err)
	}
	return qs, nil
}

// FAQ returns the shop's FAQ documents ordered by id; ErrNoShop for an
// unknown shop.
func (s *Store) FAQ(ctx context.Context, shop string) ([]FAQ, error) {
	var docs []FAQ
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var d FAQ
		if err := rows.Scan(&d.ID, &d.Title, &d.Body); err != nil {
			return err
		}
		docs = append(docs, d)
		return nil
	}, "SELECT id, title, body FROM faq WHERE shop = ? ORDER BY id", shop)
	if err != nil {
		return nil, fmt.Errorf("store: faq of %q: %w", shop, err)
	}
	return docs, nil
}
