package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/privacy"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Limits on an event's fields.
const (
	MaxSessionBytes = 256                // Event.Session
	MaxQueryBytes   = wire.MaxString     // Event.Query, as the wire protocol allows
	MaxItemBytes    = catalog.MaxIDBytes // Event.Item, as a product id
)

// Event is one past visitor action of a session.
type Event struct {
	// Session groups a visitor's events (a session id, or a user id for
	// data that has only users).
	Session string `json:"session"`
	// Seq is the event's position in its session, from 1. The key
	// (shop, Session, Seq) makes AppendEvents idempotent.
	Seq int64 `json:"seq"`
	// Type is what the visitor did.
	Type wire.EventType `json:"type"`
	// Item is the product id; empty for search events.
	Item string `json:"item,omitempty"`
	// Query is the search text of a search event.
	Query string `json:"query,omitempty"`
	// Time is Unix milliseconds, or 0 when only the order is known.
	Time int64 `json:"time"`
}

// Validate reports every problem with e, each as a *catalog.FieldError,
// joined with errors.Join; nil when e is valid. The rules follow the wire
// protocol's events: a known type, an item for every type but search, a
// query for search, bounded printable strings, a time that is not
// negative, and a Seq of at least 1.
func (e *Event) Validate() error { return errors.Join(e.Problems(true)...) }

// Problems lists what is wrong with e as *catalog.FieldError values; with
// seq false a zero Seq is allowed (for a reader that numbers events
// itself).
func (e *Event) Problems(seq bool) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &catalog.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if p := textProblem(e.Session, MaxSessionBytes, true, false); p != "" {
		add("session", "%s", p)
	}
	switch {
	case seq && e.Seq < 1:
		add("seq", "%d is below 1", e.Seq)
	case e.Seq < 0:
		add("seq", "%d is negative", e.Seq)
	}
	switch {
	case e.Type == "":
		add("type", "is missing; want view, click, add_to_cart, remove_from_cart, purchase or search")
	case !e.Type.Valid():
		add("type", "%q is not an event type; want view, click, add_to_cart, remove_from_cart, purchase or search", string(e.Type))
	}
	if p := textProblem(e.Item, MaxItemBytes, false, false); p != "" {
		add("item", "%s", p)
	}
	if p := textProblem(e.Query, MaxQueryBytes, false, false); p != "" {
		add("query", "%s", p)
	}
	if e.Type.Valid() {
		if e.Type == wire.Search && e.Query == "" {
			add("query", "is missing, required for search events")
		} else if e.Type != wire.Search && e.Item == "" {
			add("item", "is missing, required for %s events", e.Type)
		}
	}
	if e.Time < 0 {
		add("time", "%d is negative", e.Time)
	}
	return errs
}

// AppendEvents stores events in one transaction and returns how many rows
// changed. Personal data never reaches the database: search queries are
// stored with e-mail addresses, phone, card and bank numbers redacted, and
// a session id holding such data is stored as a hash of itself. Events are keyed by (shop, session, seq): storing an event
// equal to the stored one with the same key changes nothing, so
// re-ingesting a file is a no-op, and a different event under a stored
// key replaces it. Every event must pass Validate and no key may repeat;
// otherwise nothing is written and the error wraps ErrInvalid. ErrNoShop
// for an unknown shop.
func (s *Store) AppendEvents(ctx context.Context, shop string, events []Event, opts ...BatchOption) (changed int, err error) {
	type key struct {
		session string
		seq     int64
	}
	seen := make(map[key]int, len(events))
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return 0, fmt.Errorf("store: append events: %w: event %d (session %q, seq %d): %v", ErrInvalid, i, e.Session, e.Seq, err)
		}
		k := key{e.Session, e.Seq}
		if first, ok := seen[k]; ok {
			return 0, fmt.Errorf("store: append events: %w: event %d repeats the session and seq of event %d", ErrInvalid, i, first)
		}
		seen[k] = i
	}
	changed, err = s.upsert(ctx, shop, len(events), batchOpts(opts), `
		INSERT INTO events (shop, session, seq, type, item, query, time) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop, session, seq) DO UPDATE SET
			type = excluded.type, item = excluded.item, query = excluded.query, time = excluded.time
		WHERE events.type <> excluded.type OR events.item <> excluded.item
			OR events.query <> excluded.query OR events.time <> excluded.time`,
		func(i int, _ int64) []any {
			e := &events[i]
			return []any{shop, pseudonym(e.Session), e.Seq, string(e.Type), e.Item, privacy.Redact(e.Query), e.Time}
		})
	if err != nil {
		return 0, fmt.Errorf("store: append events: %w", err)
	}
	return changed, nil
}

// pseudonym keeps a session id as it is unless it holds personal data (a
// shop exporting sessions keyed by e-mail address): then it becomes a hash
// of itself, still grouping the session's events but no longer readable.
func pseudonym(session string) string {
	if privacy.Redact(session) == session {
		return session
	}
	h := sha256.Sum256([]byte(session))
	return "pseudonym-" + hex.EncodeToString(h[:12])
}

// ErrStop, returned by a Sessions callback, ends the walk early; Sessions
// then returns nil.
var ErrStop = errors.New("store: stop")

// Sessions calls fn with each of the shop's sessions, ordered by session
// id, and its events ordered by Seq. It streams: only one session is held
// in memory at a time, and events is fn's to keep. The walk reads one
// consistent snapshot of the database even while others write. An error
// from fn stops the walk and is returned (ErrStop stops it quietly).
// ErrNoShop for an unknown shop.
func (s *Store) Sessions(ctx context.Context, shop string, fn func(session string, events []Event) error) error {
	var (
		cur    string
		events []Event
	)
	flush := func() error {
		if len(events) == 0 {
			return nil
		}
		err := fn(cur, events)
		events = nil
		return err
	}
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var e Event
		var typ string
		if err := rows.Scan(&e.Session, &e.Seq, &typ, &e.Item, &e.Query, &e.Time); err != nil {
			return err
		}
		e.Type = wire.EventType(typ)
		if e.Session != cur {
			if err := flush(); err != nil {
				return err
			}
			cur = e.Session
		}
		events = append(events, e)
		return nil
	}, "SELECT session, seq, type, item, query, time FROM events WHERE shop = ? ORDER BY session, seq", shop)
	if err == nil {
		err = flush()
	}
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: sessions of %q: %w", shop, err)
	}
	return nil
}

// QueryCount is a search query and how many search events carried it.
type QueryCount struct {
	Query string `json:"query"`
	Count int    `json:"count"`
}

// TopQueries returns the shop's n most frequent search queries, compared
// after trimming and ASCII lower-casing, most frequent first (ties in
// query order).
func (s *Store) TopQueries(ctx context.Context, shop string, n int) ([]QueryCount, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []QueryCount
	err := readRows(ctx, s.db, shop, func(rows *sql.Rows) error {
		var q QueryCount
		if err := rows.Scan(&q.Query, &q.Count); err != nil {
			return err
		}
		out = append(out, q)
		return nil
	}, `SELECT lower(trim(query)) AS q, count(*) AS c FROM events
		WHERE shop = ? AND type = 'search' AND trim(query) != ''
		GROUP BY q ORDER BY c DESC, q LIMIT ?`, shop, n)
	if err != nil {
		return nil, fmt.Errorf("store: top queries of %q: %w", shop, err)
	}
	return out, nil
}
