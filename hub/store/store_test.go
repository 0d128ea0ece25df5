package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/shared/wire"
)

const (
	tokenA = "token-of-shop-a-0123456789"
	tokenB = "token-of-shop-b-0123456789"
)

// openTest opens a fresh store in a temp dir and closes it at the end.
func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// twoShops returns a store with shops "a" and "b".
func twoShops(t *testing.T) *Store {
	t.Helper()
	st := openTest(t)
	ctx := context.Background()
	if err := st.CreateShop(ctx, "a", tokenA); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateShop(ctx, "b", tokenB); err != nil {
		t.Fatal(err)
	}
	return st
}

func product(id, title string, price float64) catalog.Product {
	p := catalog.Product{ID: id, Title: title, Price: price, Category: []string{"Toys", "Trains"}, Stock: map[string]int{"eu": 3, "us": 0}}
	if price > 0 {
		p.Currency = "GBP"
	}
	return p
}

func products(prefix string, n int) []catalog.Product {
	ps := make([]catalog.Product, n)
	for i := range ps {
		ps[i] = product(fmt.Sprintf("%s%05d", prefix, i), fmt.Sprintf("Product %d", i), float64(i%50)+0.99)
	}
	return ps
}

// checksum hashes everything a shop holds, through the public readers.
func checksum(t *testing.T, st *Store, shop string) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	enc := json.NewEncoder(h)
	ps, err := st.Products(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := st.Reviews(ctx, shop, "")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := st.FAQ(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode(ps)
	enc.Encode(rs)
	enc.Encode(docs)
	err = st.Sessions(ctx, shop, func(s string, es []Event) error { return enc.Encode(es) })
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestOpenFreshAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := st.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() {
		t.Fatalf("version %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds())},
	} {
		var got string
		if err := st.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	applied := func(st *Store) string {
		rows, err := st.db.QueryContext(ctx, "SELECT version, applied FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var v, at int64
			rows.Scan(&v, &at)
			fmt.Fprintf(&b, "%d@%d ", v, at)
		}
		return b.String()
	}
	before := applied(st)
	st.Close()
	st2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if after := applied(st2); after != before {
		t.Errorf("reopening re-applied migrations: %s, then %s", before, after)
	}
	if err := st2.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestMigrateOlderDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	// A database written by a program that knew only migration 1.
	old, err := open(ctx, path, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CreateShop(ctx, "a", tokenA); err != nil {
		t.Fatal(err)
	}
	if _, err := old.UpsertProducts(ctx, "a", products("p", 10)); err != nil {
		t.Fatal(err)
	}
	var n int
	old.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events', 'faq')").Scan(&n)
	if n != 0 {
		t.Fatalf("version 1 database already has events/faq tables")
	}
	old.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.SchemaVersion(ctx); v != LatestSchemaVersion() {
		t.Fatalf("version %d after migration, want %d", v, LatestSchemaVersion())
	}
	c, err := st.Counts(ctx, "a")
	if err != nil || c.Products != 10 {
		t.Fatalf("counts %+v, %v: products lost in migration", c, err)
	}
	if !st.CheckToken(ctx, "a", tokenA) {
		t.Error("token lost in migration")
	}
	if _, err := st.AppendEvents(ctx, "a", []Event{{Session: "s", Seq: 1, Type: wire.View, Item: "p00001"}}); err != nil {
		t.Errorf("new table unusable after migration: %v", err)
	}
	if _, err := st.UpsertFAQ(ctx, "a", []FAQ{{ID: "returns", Title: "Returns", Body: "# Returns\n30 days."}}); err != nil {
		t.Errorf("new table unusable after migration: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (99, 0)"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := Open(ctx, path); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestUpsertChangedCounts(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	ps := products("p", 50)
	steps := []struct {
		name string
		edit func([]catalog.Product) []catalog.Product
		want int
	}{
		{"insert", func(ps []catalog.Product) []catalog.Product { return ps }, 50},
		{"same again", func(ps []catalog.Product) []catalog.Product { return ps }, 0},
		{"one price", func(ps []catalog.Product) []catalog.Product { ps[3].Price = 123; return ps }, 1},
		{"stock map", func(ps []catalog.Product) []catalog.Product {
			ps[4].Stock = map[string]int{"us": 0, "eu": 3}
			return ps
		}, 0},
		{"two new", func(ps []catalog.Product) []catalog.Product { return append(ps, products("q", 2)...) }, 2},
		{"subset", func(ps []catalog.Product) []catalog.Product { return ps[:5] }, 0},
		{"empty", func(ps []catalog.Product) []catalog.Product { return nil }, 0},
	}
	for _, s := range steps {
		ps = s.edit(ps)
		got, err := st.UpsertProducts(ctx, "a", ps)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: changed %d, want %d", s.name, got, s.want)
		}
	}
	c, _ := st.Counts(ctx, "a")
	if c.Products != 52 {
		t.Errorf("products %d, want 52", c.Products)
	}
	got, _ := st.Products(ctx, "a")
	if got[3].Price != 123 || got[3].Currency != "GBP" || got[3].Stock["eu"] != 3 {
		t.Errorf("product read back: %+v", got[3])
	}

	rs := []catalog.Review{{ID: "r1", Item: "p00001", Stars: 5, Text: "Great"}, {ID: "r2", Item: "p00002", Stars: 2, Date: "2020-01-02", Verified: true}}
	for i, want := range []int{2, 0} {
		if got, err := st.UpsertReviews(ctx, "a", rs); err != nil || got != want {
			t.Errorf("reviews round %d: changed %d, %v; want %d", i, got, err, want)
		}
	}
	rs[0].Stars = 4
	if got, _ := st.UpsertReviews(ctx, "a", rs); got != 1 {
		t.Errorf("edited review: changed %d, want 1", got)
	}
	if got, _ := st.Reviews(ctx, "a", "p00001"); len(got) != 1 || got[0].Stars != 4 {
		t.Errorf("reviews of p00001: %+v", got)
	}

	docs := []FAQ{{ID: "returns", Title: "Returns", Body: "30 days"}, {ID: "shipping", Title: "Shipping", Body: "Free over £20"}}
	for i, want := range []int{2, 0} {
		if got, err := st.UpsertFAQ(ctx, "a", docs); err != nil || got != want {
			t.Errorf("faq round %d: changed %d, %v; want %d", i, got, err, want)
		}
	}
}

func TestInvalidBatchWritesNothing(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	if _, err := st.UpsertProducts(ctx, "a", products("p", 5)); err != nil {
		t.Fatal(err)
	}
	before := checksum(t, st, "a")
	bad := products("p", 5)
	bad[0].Title = "changed"
	cases := []struct {
		name string
		run  func() error
	}{
		{"bad product", func() error {
			ps := append(bad[:1:1], catalog.Product{ID: "x", Price: -1})
			_, err := st.UpsertProducts(ctx, "a", ps)
			return err
		}},
		{"repeated id", func() error {
			_, err := st.UpsertProducts(ctx, "a", append(bad[:1:1], bad[0]))
			return err
		}},
		{"bad review", func() error {
			_, err := st.UpsertReviews(ctx, "a", []catalog.Review{{ID: "r", Item: "p00000", Stars: 5}, {ID: "r2", Item: "p", Stars: 9}})
			return err
		}},
		{"bad faq", func() error {
			_, err := st.UpsertFAQ(ctx, "a", []FAQ{{ID: "x", Title: "X", Body: "ok"}, {ID: "y", Body: "no title"}})
			return err
		}},
		{"bad event", func() error {
			_, err := st.AppendEvents(ctx, "a", []Event{{Session: "s", Seq: 1, Type: wire.View, Item: "p"}, {Session: "s", Seq: 2, Type: "look"}})
			return err
		}},
		{"repeated event key", func() error {
			_, err := st.AppendEvents(ctx, "a", []Event{{Session: "s", Seq: 1, Type: wire.View, Item: "p"}, {Session: "s", Seq: 1, Type: wire.View, Item: "q"}})
			return err
		}},
		{"search without query", func() error {
			_, err := st.AppendEvents(ctx, "a", []Event{{Session: "s", Seq: 1, Type: wire.Search}})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			if after := checksum(t, st, "a"); after != before {
				t.Fatal("store changed by a rejected batch")
			}
		})
	}
}

// TestFailedTransactionRollsBack cancels a batch half-way through its
// transaction and checks that none of it stayed.
func TestFailedTransactionRollsBack(t *testing.T) {
	st := twoShops(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	written := 0
	_, err := st.UpsertProducts(ctx, "a", products("p", 5000), OnProgress(func(n int) {
		written += n
		if written >= 2000 {
			cancel()
		}
	}))
	if err == nil {
		t.Fatal("cancelled batch succeeded")
	}
	if written < 2000 {
		t.Fatalf("only %d rows written before the cancel", written)
	}
	c, err := st.Counts(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if c.Products != 0 {
		t.Fatalf("%d products of a cancelled batch were kept", c.Products)
	}
}

func TestUnknownShop(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	calls := map[string]func() error{
		"UpsertProducts": func() error { _, err := st.UpsertProducts(ctx, "nope", products("p", 1)); return err },
		"UpsertReviews": func() error {
			_, err := st.UpsertReviews(ctx, "nope", []catalog.Review{{ID: "r", Item: "p", Stars: 1}})
			return err
		},
		"UpsertFAQ": func() error { _, err := st.UpsertFAQ(ctx, "nope", []FAQ{{ID: "f", Title: "F", Body: "b"}}); return err },
		"AppendEvents": func() error {
			_, err := st.AppendEvents(ctx, "nope", []Event{{Session: "s", Seq: 1, Type: wire.View, Item: "p"}})
			return err
		},
		"Products": func() error { _, err := st.Products(ctx, "nope"); return err },
		"Reviews":  func() error { _, err := st.Reviews(ctx, "nope", ""); return err },
		"FAQ":      func() error { _, err := st.FAQ(ctx, "nope"); return err },
		"Sessions": func() error { return st.Sessions(ctx, "nope", func(string, []Event) error { return nil }) },
		"Counts":   func() error { _, err := st.Counts(ctx, "nope"); return err },
		"SetMeta":  func() error { return st.SetMeta(ctx, "nope", "k", "v") },
		"SetToken": func() error { return st.SetToken(ctx, "nope", tokenA+"x") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrNoShop) {
			t.Errorf("%s: %v, want ErrNoShop", name, err)
		}
	}
	if ok, err := st.HasShop(ctx, "nope"); ok || err != nil {
		t.Errorf("HasShop(nope) = %v, %v", ok, err)
	}
	if ids, _ := st.Shops(ctx); strings.Join(ids, ",") != "a,b" {
		t.Errorf("Shops = %v", ids)
	}
}

func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	// The same ids in both shops, with different content.
	pa, pb := products("p", 20), products("p", 20)
	for i := range pb {
		pb[i].Title = "B " + pb[i].Title
	}
	if _, err := st.UpsertProducts(ctx, "a", pa); err != nil {
		t.Fatal(err)
	}
	if n, err := st.UpsertProducts(ctx, "b", pb); err != nil || n != 20 {
		t.Fatalf("shop b insert of ids shop a holds: changed %d, %v; want 20", n, err)
	}
	review := func(shop string) []catalog.Review {
		return []catalog.Review{{ID: "r1", Item: "p00001", Stars: 5, Title: shop}}
	}
	event := func(shop string) []Event {
		return []Event{{Session: "s1", Seq: 1, Type: wire.View, Item: "p00001", Time: 1}, {Session: "s1", Seq: 2, Type: wire.Search, Query: shop, Time: 2}}
	}
	faq := func(shop string) []FAQ { return []FAQ{{ID: "returns", Title: "Returns " + shop, Body: shop}} }
	for _, shop := range []string{"a", "b"} {
		if _, err := st.UpsertReviews(ctx, shop, review(shop)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendEvents(ctx, shop, event(shop)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertFAQ(ctx, shop, faq(shop)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMeta(ctx, shop, "built", shop); err != nil {
			t.Fatal(err)
		}
	}
	sumB := checksum(t, st, "b")

	// Writes to a never touch b.
	pa[0].Title = "A changed"
	if n, _ := st.UpsertProducts(ctx, "a", pa); n != 1 {
		t.Errorf("changed %d, want 1", n)
	}
	st.UpsertReviews(ctx, "a", []catalog.Review{{ID: "r1", Item: "p00001", Stars: 1}})
	st.AppendEvents(ctx, "a", []Event{{Session: "s1", Seq: 1, Type: wire.Purchase, Item: "p00002", Time: 5}})
	st.UpsertFAQ(ctx, "a", []FAQ{{ID: "returns", Title: "A", Body: "a2"}})
	st.SetMeta(ctx, "a", "built", "a2")
	if got := checksum(t, st, "b"); got != sumB {
		t.Fatal("writes to shop a changed shop b")
	}

	// Reads of each shop return only its rows.
	for _, shop := range []string{"a", "b"} {
		ps, _ := st.Products(ctx, shop)
		if len(ps) != 20 {
			t.Errorf("%s: %d products", shop, len(ps))
		}
		for _, p := range ps {
			if isB := strings.HasPrefix(p.Title, "B "); isB != (shop == "b") {
				t.Errorf("%s: read product %q", shop, p.Title)
			}
		}
		rs, _ := st.Reviews(ctx, shop, "p00001")
		if len(rs) != 1 || (shop == "b" && rs[0].Title != "b") {
			t.Errorf("%s: reviews %+v", shop, rs)
		}
		docs, _ := st.FAQ(ctx, shop)
		if len(docs) != 1 || (shop == "b" && docs[0].Body != "b") {
			t.Errorf("%s: faq %+v", shop, docs)
		}
		var sessions int
		st.Sessions(ctx, shop, func(s string, es []Event) error {
			sessions++
			if len(es) != 2 || (shop == "b" && es[1].Query != "b") {
				t.Errorf("%s: session %s %+v", shop, s, es)
			}
			return nil
		})
		if sessions != 1 {
			t.Errorf("%s: %d sessions", shop, sessions)
		}
		if v, ok, _ := st.Meta(ctx, shop, "built"); !ok || v != map[string]string{"a": "a2", "b": "b"}[shop] {
			t.Errorf("%s: meta %q", shop, v)
		}
		c, _ := st.Counts(ctx, shop)
		if c != (Counts{Products: 20, Reviews: 1, FAQ: 1, Events: 2, Sessions: 1, Meta: 1}) {
			t.Errorf("%s: counts %+v", shop, c)
		}
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	if err := st.CreateShop(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		shop, token string
		want        bool
	}{
		{"a", tokenA, true},
		{"b", tokenB, true},
		{"a", tokenB, false},
		{"b", tokenA, false},
		{"a", "", false},
		{"a", tokenA + "x", false},
		{"a", tokenA[:len(tokenA)-1], false},
		{"c", "", false},
		{"nope", tokenA, false},
	}
	for _, c := range checks {
		if got := st.CheckToken(ctx, c.shop, c.token); got != c.want {
			t.Errorf("CheckToken(%q, %q) = %v", c.shop, c.token, got)
		}
	}
	if shop, ok, err := st.TokenShop(ctx, tokenB); shop != "b" || !ok || err != nil {
		t.Errorf("TokenShop(tokenB) = %q, %v, %v", shop, ok, err)
	}
	if _, ok, _ := st.TokenShop(ctx, "unknown-token-0123456789"); ok {
		t.Error("TokenShop found an unknown token")
	}
	// Only the hash is stored.
	var stored []byte
	st.db.QueryRowContext(ctx, "SELECT token_hash FROM shops WHERE id = 'a'").Scan(&stored)
	if h := sha256.Sum256([]byte(tokenA)); string(stored) != string(h[:]) {
		t.Errorf("stored %x, want the SHA-256 of the token", stored)
	}
	// Rotation, and errors.
	if err := st.SetToken(ctx, "c", tokenA); !errors.Is(err, ErrInvalid) {
		t.Errorf("reusing shop a's token for c: %v", err)
	}
	newTok, err := NewToken()
	if err != nil || len(newTok) < MinTokenBytes {
		t.Fatalf("NewToken: %q, %v", newTok, err)
	}
	if err := st.SetToken(ctx, "a", newTok); err != nil {
		t.Fatal(err)
	}
	if st.CheckToken(ctx, "a", tokenA) || !st.CheckToken(ctx, "a", newTok) {
		t.Error("token rotation did not take")
	}
	for _, tc := range []struct {
		id, token string
		want      error
	}{
		{"a", "another-token-0123456789", ErrShopExists},
		{"", "another-token-0123456789", ErrInvalid},
		{"a/b", "another-token-0123456789", ErrInvalid},
		{"..", "", ErrInvalid},
		{"d", "short", ErrInvalid},
		{"d", "has a space in it 0123456789", ErrInvalid},
		{"d", tokenB, ErrInvalid},
	} {
		if err := st.CreateShop(ctx, tc.id, tc.token); !errors.Is(err, tc.want) {
			t.Errorf("CreateShop(%q, %q): %v, want %v", tc.id, tc.token, err, tc.want)
		}
	}
}

func TestEventsAndSessions(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	var events []Event
	for s := 0; s < 30; s++ {
		for q := 1; q <= 1+s%4; q++ {
			events = append(events, Event{Session: fmt.Sprintf("s%02d", s), Seq: int64(q), Type: wire.View, Item: fmt.Sprintf("p%d", q), Time: int64(1000 * q)})
		}
	}
	n, err := st.AppendEvents(ctx, "a", events)
	if err != nil || n != len(events) {
		t.Fatalf("append: %d, %v", n, err)
	}
	if n, _ := st.AppendEvents(ctx, "a", events); n != 0 {
		t.Errorf("re-append changed %d", n)
	}
	events[0].Type = wire.Purchase
	if n, _ := st.AppendEvents(ctx, "a", events[:1]); n != 1 {
		t.Errorf("changed event: %d", n)
	}
	var got []string
	total := 0
	err = st.Sessions(ctx, "a", func(s string, es []Event) error {
		got = append(got, s)
		for i, e := range es {
			if e.Session != s || e.Seq != int64(i+1) {
				t.Errorf("session %s event %d: %+v", s, i, e)
			}
		}
		total += len(es)
		return nil
	})
	if err != nil || len(got) != 30 || total != len(events) || got[0] != "s00" || got[29] != "s29" {
		t.Errorf("sessions %v (%d events), %v", got, total, err)
	}
	seen := 0
	err = st.Sessions(ctx, "a", func(string, []Event) error {
		if seen++; seen == 3 {
			return ErrStop
		}
		return nil
	})
	if err != nil || seen != 3 {
		t.Errorf("ErrStop: %v after %d", err, seen)
	}
	boom := errors.New("boom")
	if err := st.Sessions(ctx, "a", func(string, []Event) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("callback error: %v", err)
	}
}

// TestConcurrentStores writes from two Store values on one file, as two
// processes would, while a third reads: SQLite's locking with
// busy_timeout serialises the writers and nothing is lost.
func TestConcurrentStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	var stores [3]*Store
	for i := range stores {
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	if err := stores[0].CreateShop(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 10; b++ {
				if _, err := stores[w].UpsertProducts(ctx, "a", products(fmt.Sprintf("w%d-b%d-", w, b), 200)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			c, err := stores[2].Counts(ctx, "a")
			if err != nil {
				errs <- err
			}
			if c.Products%200 != 0 {
				errs <- fmt.Errorf("read a partial batch: %d products", c.Products)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c, _ := stores[2].Counts(ctx, "a"); c.Products != 4000 {
		t.Errorf("%d products, want 4000", c.Products)
	}
}
