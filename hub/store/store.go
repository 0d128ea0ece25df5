// Package store keeps a hub's shop data in one embedded SQLite database
// (modernc.org/sqlite, pure Go): shops and their admin tokens, catalog
// products, reviews, FAQ and policy documents, past events, and a small
// key/value table of metadata.
//
// Every row belongs to a shop: the shop id leads every primary key and every
// query filters on it, so no method can read or write another shop's rows.
// Every write method applies its whole batch in one transaction: it commits
// all rows or none. Upserts compare what is stored with what is given and
// report how many rows actually changed, so applying the same batch twice
// changes nothing the second time.
//
// The schema is versioned: Open applies, in order and each in its own
// transaction, the migrations a database has not seen yet, and records each
// in the schema_migrations table.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Sentinel errors callers branch on.
var (
	// ErrNoShop is returned for a shop id that has not been created.
	ErrNoShop = errors.New("store: no such shop")
	// ErrShopExists is returned by CreateShop for an id already in use.
	ErrShopExists = errors.New("store: shop already exists")
	// ErrInvalid wraps every rejection of a record or argument that fails
	// validation; nothing of that batch was written.
	ErrInvalid = errors.New("store: invalid input")
	// ErrSchemaTooNew is returned by Open for a database migrated by a newer
	// version of Aisle than this one.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
)

// Limits on shop ids and tokens.
const (
	MaxShopIDBytes = 64  // a shop id: 1..64 bytes of [A-Za-z0-9._-]
	MinTokenBytes  = 16  // an admin token, when one is set
	MaxTokenBytes  = 256 // an admin token
)

// BusyTimeout is how long a connection waits for another writer (another
// process ingesting into the same file) before giving up with SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// Store is an open shop database. It is safe for concurrent use. Close it
// when done.
type Store struct {
	db *sql.DB
	// mu serialises write transactions inside this process; other
	// processes wait on SQLite's lock (BusyTimeout).
	mu   sync.Mutex
	now  func() time.Time
	path string
}

// dsn builds the connection string. Every connection gets:
//
//   - journal_mode(WAL): readers never block the writer nor see a
//     half-applied batch, and a killed process leaves a WAL that the next
//     open rolls forward to the last commit.
//   - synchronous(FULL): each commit fsyncs the WAL, so a batch reported as
//     committed (an HTTP 200, a CLI result) survives power loss, not only a
//     killed process. NORMAL would also survive kill -9 but may lose the last
//     commits on power loss; ingest commits are few and large, so the extra
//     fsync per commit costs almost nothing.
//   - busy_timeout: a second writer (a CLI ingest while the hub serves)
//     waits instead of failing at once.
//   - foreign_keys(1): rows cannot name a shop that does not exist.
//   - _txlock=immediate: write transactions take the write lock at BEGIN,
//     so two writers never deadlock upgrading a read lock (SQLITE_BUSY that
//     busy_timeout cannot resolve). Reads run outside transactions.
func dsn(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=busy_timeout(" + fmt.Sprint(BusyTimeout.Milliseconds()) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// Open opens (creating it if needed) the database at path and migrates it
// to the current schema. The directory must exist.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, migrations)
}

func open(ctx context.Context, path string, migs []string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open: empty path")
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, migs); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now, path: path}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Path returns the database file the store was opened on.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the highest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// IntegrityCheck runs SQLite's integrity_check and returns nil when it
// reports "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("store: integrity check: %s", strings.Join(msgs, "; "))
}

// BatchOption tunes one write batch.
type BatchOption func(*batchOptions)

type batchOptions struct {
	progress func(n int)
}

// OnProgress makes a write call add(n) as rows of the batch are written
// (n rows more each time), for a progress bar such as progress.Bar.Add.
// The rows are not committed until the method returns nil.
func OnProgress(add func(n int)) BatchOption {
	return func(o *batchOptions) { o.progress = add }
}

func batchOpts(opts []BatchOption) batchOptions {
	var o batchOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// progressEvery is how many rows a write reports to OnProgress at a time.
const progressEvery = 1000

// counter calls the progress hook every progressEvery rows.
type counter struct {
	add     func(int)
	pending int
}

func (c *counter) tick() {
	if c.add == nil {
		return
	}
	if c.pending++; c.pending >= progressEvery {
		c.add(c.pending)
		c.pending = 0
	}
}

func (c *counter) flush() {
	if c.add != nil && c.pending > 0 {
		c.add(c.pending)
		c.pending = 0
	}
}

// write runs fn in one write transaction on an existing shop, committing
// only when fn returns nil.
func (s *Store) write(ctx context.Context, shop string, fn func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if shop != "" {
		if err := requireShop(ctx, tx, shop); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// requireShop returns ErrNoShop unless shop exists.
func requireShop(ctx context.Context, q querier, shop string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM shops WHERE id = ?", shop).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %q", ErrNoShop, shop)
	}
	return err
}

// ValidShopID reports what is wrong with a shop id, or nil: it must be 1 to
// MaxShopIDBytes bytes of ASCII letters, digits, '.', '_' and '-', so it is
// safe in URL paths, file names and Workers KV keys.
func ValidShopID(id string) error {
	if id == "" || len(id) > MaxShopIDBytes {
		return fmt.Errorf("%w: shop id %q must be 1 to %d bytes", ErrInvalid, id, MaxShopIDBytes)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("%w: shop id %q may hold only letters, digits, '.', '_' and '-'", ErrInvalid, id)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("%w: shop id %q is reserved", ErrInvalid, id)
	}
	return nil
}

func checkToken(token string) error {
	if len(token) < MinTokenBytes || len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: admin token must be %d to %d bytes", ErrInvalid, MinTokenBytes, MaxTokenBytes)
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] >= 0x7f {
			return fmt.Errorf("%w: admin token must be printable ASCII without spaces", ErrInvalid)
		}
	}
	return nil
}

// NewToken returns a fresh random admin token (32 random bytes, base64url).
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// tokenHash is what the database keeps instead of a token. Tokens are long
// random strings, not passwords, so an unsalted SHA-256 is enough: the hash
// is useless for logging in, and it may be looked up by value.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateShop creates a shop with the given admin token. An empty token
// creates it without one: the admin API then refuses every request for it
// until SetToken sets one. It fails with ErrShopExists if the id is taken.
func (s *Store) CreateShop(ctx context.Context, id, token string) error {
	if err := ValidShopID(id); err != nil {
		return fmt.Errorf("store: create shop: %w", err)
	}
	var hash any // NULL when there is no token
	if token != "" {
		if err := checkToken(token); err != nil {
			return fmt.Errorf("store: create shop %q: %w", id, err)
		}
		hash = tokenHash(token)
	}
	err := s.write(ctx, "", func(tx *sql.Tx) error {
		if err := requireShop(ctx, tx, id); err == nil {
			return fmt.Errorf("%w: %q", ErrShopExists, id)
		} else if !errors.Is(err, ErrNoShop) {
			return err
		}
		if hash != nil {
			if err := tokenUnused(ctx, tx, hash.([]byte)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO shops (id, token_hash, created) VALUES (?, ?, ?)", id, hash, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create shop %q: %w", id, err)
	}
	return nil
}

func tokenUnused(ctx context.Context, tx *sql.Tx, hash []byte) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM shops WHERE token_hash = ?", hash).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%w: this admin token is already used by another shop", ErrInvalid)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

// SetToken replaces a shop's admin token (the old one stops working at
// once); an empty token removes it.
func (s *Store) SetToken(ctx context.Context, shop, token string) error {
	var hash any
	if token != "" {
		if err := checkToken(token); err != nil {
			return fmt.Errorf("store: set token of %q: %w", shop, err)
		}
		hash = tokenHash(token)
	}
	err := s.write(ctx, shop, func(tx *sql.Tx) error {
		if hash != nil {
			var owner string
			err := tx.QueryRowContext(ctx, "SELECT id FROM shops WHERE token_hash = ?", hash).Scan(&owner)
			switch {
			case err == nil && owner != shop:
				return fmt.Errorf("%w: this admin token is already used by another shop", ErrInvalid)
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE shops SET token_hash = ? WHERE id = ?", hash, shop)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set token of %q: %w", shop, err)
	}
	return nil
}

// dummyHash is compared against when a shop has no token or does not
// exist, so CheckToken takes the same time either way.
var dummyHash = tokenHash("aisle: no token is set for this shop")

// CheckToken reports whether token is shop's admin token. The comparison
// of the token's hash with the stored one takes constant time; a shop that
// does not exist or has no token, an empty token, and a database error all
// give false.
func (s *Store) CheckToken(ctx context.Context, shop, token string) bool {
	got := tokenHash(token)
	var want []byte
	err := s.db.QueryRowContext(ctx, "SELECT token_hash FROM shops WHERE id = ?", shop).Scan(&want)
	ok := err == nil && len(want) == sha256.Size
	if !ok {
		want = dummyHash
	}
	eq := subtle.ConstantTimeCompare(got, want) == 1
	return eq && ok && token != ""
}

// TokenShop returns the shop whose admin token token is, if any. The admin
// API uses it only after CheckToken failed, to tell a token of another
// shop (403) from no valid token at all (401). It looks the token's
// SHA-256 up in an index, which reveals nothing useful about stored
// tokens to a caller timing it.
func (s *Store) TokenShop(ctx context.Context, token string) (shop string, ok bool, err error) {
	if token == "" {
		return "", false, nil
	}
	err = s.db.QueryRowContext(ctx, "SELECT id FROM shops WHERE token_hash = ?", tokenHash(token)).Scan(&shop)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: token lookup: %w", err)
	}
	return shop, true, nil
}

// HasShop reports whether a shop exists.
func (s *Store) HasShop(ctx context.Context, shop string) (bool, error) {
	err := requireShop(ctx, s.db, shop)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNoShop):
		return false, nil
	}
	return false, fmt.Errorf("store: shop %q: %w", shop, err)
}

// Shops returns every shop id, sorted.
func (s *Store) Shops(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM shops ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: shops: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: shops: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: shops: %w", err)
	}
	return ids, nil
}

// Counts is how many rows a shop holds in each table.
type Counts struct {
	Products int `json:"products"`
	Reviews  int `json:"reviews"`
	QA       int `json:"qa"`
	FAQ      int `json:"faq"`
	Events   int `json:"events"`
	Sessions int `json:"sessions"`
	Meta     int `json:"meta"`
}

// Counts returns the shop's row counts, read in one statement so they are
// consistent with each other; ErrNoShop for an unknown shop.
func (s *Store) Counts(ctx context.Context, shop string) (Counts, error) {
	var c Counts
	var exists int
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM shops WHERE id = ?1),
		(SELECT count(*) FROM products WHERE shop = ?1),
		(SELECT count(*) FROM reviews WHERE shop = ?1),
		(SELECT count(*) FROM qa WHERE shop = ?1),
		(SELECT count(*) FROM faq WHERE shop = ?1),
		(SELECT count(*) FROM events WHERE shop = ?1),
		(SELECT count(DISTINCT session) FROM events WHERE shop = ?1),
		(SELECT count(*) FROM meta WHERE shop = ?1)`, shop).
		Scan(&exists, &c.Products, &c.Reviews, &c.QA, &c.FAQ, &c.Events, &c.Sessions, &c.Meta)
	if err == nil && exists == 0 {
		err = fmt.Errorf("%w: %q", ErrNoShop, shop)
	}
	if err != nil {
		return Counts{}, fmt.Errorf("store: counts of %q: %w", shop, err)
	}
	return c, nil
}

// DataVersion returns a string that changes whenever the shop's catalog,
// reviews, questions and answers or FAQ change (rows added, changed or
// removed): their counts and the sum and maximum of their change times,
// read in one statement without decoding a row. Readers that cache what
// they built from those rows compare it instead of reloading them.
func (s *Store) DataVersion(ctx context.Context, shop string) (string, error) {
	var exists int
	var v [4][3]int64
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM shops WHERE id = ?1),
		(SELECT count(*) FROM products WHERE shop = ?1), (SELECT coalesce(sum(updated), 0) FROM products WHERE shop = ?1), (SELECT coalesce(max(updated), 0) FROM products WHERE shop = ?1),
		(SELECT count(*) FROM reviews WHERE shop = ?1), (SELECT coalesce(sum(updated), 0) FROM reviews WHERE shop = ?1), (SELECT coalesce(max(updated), 0) FROM reviews WHERE shop = ?1),
		(SELECT count(*) FROM qa WHERE shop = ?1), (SELECT coalesce(sum(updated), 0) FROM qa WHERE shop = ?1), (SELECT coalesce(max(updated), 0) FROM qa WHERE shop = ?1),
		(SELECT count(*) FROM faq WHERE shop = ?1), (SELECT coalesce(sum(updated), 0) FROM faq WHERE shop = ?1), (SELECT coalesce(max(updated), 0) FROM faq WHERE shop = ?1)`, shop).
		Scan(&exists, &v[0][0], &v[0][1], &v[0][2], &v[1][0], &v[1][1], &v[1][2], &v[2][0], &v[2][1], &v[2][2], &v[3][0], &v[3][1], &v[3][2])
	if err == nil && exists == 0 {
		err = fmt.Errorf("%w: %q", ErrNoShop, shop)
	}
	if err != nil {
		return "", fmt.Errorf("store: data version of %q: %w", shop, err)
	}
	return fmt.Sprint(v), nil
}

// SetMeta stores value under key for shop, replacing any earlier value.
func (s *Store) SetMeta(ctx context.Context, shop, key, value string) error {
	if key == "" || len(key) > 256 {
		return fmt.Errorf("store: set meta: %w: key must be 1 to 256 bytes", ErrInvalid)
	}
	err := s.write(ctx, shop, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (shop, key, value, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop, key) DO UPDATE SET value = excluded.value, updated = excluded.updated
			WHERE meta.value IS NOT excluded.value`, shop, key, value, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set meta %q of %q: %w", key, shop, err)
	}
	return nil
}

// Meta returns the value stored under key for shop, and whether there is
// one.
func (s *Store) Meta(ctx context.Context, shop, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE shop = ? AND key = ?", shop, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: meta %q of %q: %w", key, shop, err)
	}
	return v, true, nil
}
