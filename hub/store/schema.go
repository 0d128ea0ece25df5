package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are the schema changes in order: migrations[i] brings a
// database from version i to version i+1. Append new ones; never edit or
// reorder one that has shipped, since databases in the field have applied
// it. Each runs in its own transaction together with its
// schema_migrations row, so a database is always at a whole version.
//
// Tables are STRICT (a value of the wrong type is an error, not silently
// stored) and WITHOUT ROWID, keyed by the shop id first: every lookup and
// every range scan is confined to one shop by the key itself.
var migrations = []string{
	// 1: shops with their admin token hashes, the catalog, and metadata.
	`
CREATE TABLE shops (
	id         TEXT NOT NULL PRIMARY KEY,
	token_hash BLOB,             -- SHA-256 of the admin token; NULL: no token
	created    INTEGER NOT NULL  -- Unix ms
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX shops_token_hash ON shops (token_hash);

CREATE TABLE products (
	shop       TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	title      TEXT NOT NULL,
	category   TEXT NOT NULL,    -- path levels joined by " > "
	price      REAL NOT NULL,
	popularity REAL NOT NULL,
	updated    INTEGER NOT NULL, -- Unix ms of the last change
	payload    BLOB NOT NULL,    -- the catalog.Product as canonical JSON
	PRIMARY KEY (shop, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE reviews (
	shop     TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	id       TEXT NOT NULL,
	item     TEXT NOT NULL,      -- a product id; the product need not exist yet
	stars    REAL NOT NULL,
	date     TEXT NOT NULL,      -- YYYY-MM-DD or ''
	verified INTEGER NOT NULL,
	updated  INTEGER NOT NULL,
	payload  BLOB NOT NULL,      -- the catalog.Review as canonical JSON
	PRIMARY KEY (shop, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX reviews_item ON reviews (shop, item);

CREATE TABLE meta (
	shop    TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	key     TEXT NOT NULL,
	value   TEXT NOT NULL,
	updated INTEGER NOT NULL,
	PRIMARY KEY (shop, key)
) STRICT, WITHOUT ROWID;
`,
	// 2: FAQ and policy documents, and past events. The events primary key
	// (shop, session, seq) is also the (shop, session) index that reading
	// sessions in order needs.
	`
CREATE TABLE faq (
	shop    TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	id      TEXT NOT NULL,
	title   TEXT NOT NULL,
	body    TEXT NOT NULL,       -- markdown
	updated INTEGER NOT NULL,
	PRIMARY KEY (shop, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
	shop    TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	session TEXT NOT NULL,
	seq     INTEGER NOT NULL,    -- position in the session, from 1
	type    TEXT NOT NULL,       -- a wire.EventType
	item    TEXT NOT NULL,       -- '' for search events
	query   TEXT NOT NULL,       -- '' unless search
	time    INTEGER NOT NULL,    -- Unix ms; 0 when only the order is known
	PRIMARY KEY (shop, session, seq)
) STRICT, WITHOUT ROWID;
`,
	// 3: product questions and answers.
	`
CREATE TABLE qa (
	shop    TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
	id      TEXT NOT NULL,
	item    TEXT NOT NULL,       -- a product id; the product need not exist yet
	updated INTEGER NOT NULL,
	payload BLOB NOT NULL,       -- the catalog.QA as canonical JSON
	PRIMARY KEY (shop, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX qa_item ON qa (shop, item);
`,
}

// LatestSchemaVersion returns the version Open migrates a database to.
func LatestSchemaVersion() int { return len(migrations) }

// migrate applies the migrations a database lacks. Each runs in a write
// transaction that first re-reads the version, so two processes opening
// the same new file at once apply each migration exactly once.
func migrate(ctx context.Context, db *sql.DB, migs []string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		applied INTEGER NOT NULL -- Unix ms
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cur > len(migs) {
		return fmt.Errorf("%w: the database is at schema version %d, this program knows up to %d; use a newer aisle", ErrSchemaTooNew, cur, len(migs))
	}
	for v := cur + 1; v <= len(migs); v++ {
		if err := applyMigration(ctx, db, v, migs[v-1]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, v int, script string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return err
	}
	if cur >= v { // another process got here first
		return nil
	}
	if cur != v-1 {
		return fmt.Errorf("database is at version %d, want %d", cur, v-1)
	}
	if _, err := tx.ExecContext(ctx, script); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)", v, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}
