package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/shared/wire"
)

func TestQA(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	qs := []catalog.QA{
		{ID: "q1", Item: "kite", Question: "Does it fly in light wind?", Answer: "Yes, easily.", Date: "2024-03-01"},
		{ID: "q2", Item: "kite", Question: "How long is the line?", Answer: "30 metres."},
		{ID: "q3", Item: "train", Question: "Batteries?", Answer: "None needed."},
	}
	if n, err := st.UpsertQA(ctx, "a", qs); err != nil || n != 3 {
		t.Fatalf("upsert: %d %v", n, err)
	}
	if n, _ := st.UpsertQA(ctx, "a", qs); n != 0 {
		t.Fatalf("the same pairs again changed %d rows", n)
	}
	qs[1].Answer = "Thirty metres."
	if n, _ := st.UpsertQA(ctx, "a", qs); n != 1 {
		t.Fatalf("one changed answer changed %d rows", n)
	}
	got, err := st.QA(ctx, "a", "kite")
	if err != nil || len(got) != 2 || got[1].Answer != "Thirty metres." {
		t.Fatalf("kite: %+v %v", got, err)
	}
	if all, _ := st.QA(ctx, "a", ""); len(all) != 3 {
		t.Fatalf("all: %d", len(all))
	}
	if other, _ := st.QA(ctx, "b", ""); len(other) != 0 {
		t.Fatalf("shop b sees shop a's pairs: %+v", other)
	}
	if c, _ := st.Counts(ctx, "a"); c.QA != 3 {
		t.Fatalf("counts %+v", c)
	}
	if _, err := st.UpsertQA(ctx, "a", []catalog.QA{{ID: "q4", Item: "kite", Question: "?"}}); err == nil {
		t.Fatal("a pair without an answer was stored")
	}
	if _, err := st.QA(ctx, "nope", ""); !errors.Is(err, ErrNoShop) {
		t.Fatalf("unknown shop: %v", err)
	}
}

func TestPlantedPIINeverStored(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	planted := []string{"jane.doe@example.org", "+44 7700 900461", "4111 1111 1111 1111"}
	events := []Event{
		{Session: "jane.doe@example.org", Seq: 1, Type: wire.Search, Query: "kite for jane.doe@example.org"},
		{Session: "jane.doe@example.org", Seq: 2, Type: wire.View, Item: "kite"},
		{Session: "s2", Seq: 1, Type: wire.Search, Query: "call +44 7700 900461 about kites"},
		{Session: "s2", Seq: 2, Type: wire.Search, Query: "card 4111 1111 1111 1111"},
	}
	if _, err := st.AppendEvents(ctx, "a", events); err != nil {
		t.Fatal(err)
	}
	var sessions, stored []string
	err := st.Sessions(ctx, "a", func(s string, es []Event) error {
		sessions = append(sessions, s)
		stored = append(stored, s)
		for _, e := range es {
			stored = append(stored, e.Query)
		}
		if len(es) != 2 {
			t.Errorf("session %s has %d events, want 2 (kept together)", s, len(es))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(stored, "\n")
	found := 0
	for _, p := range planted {
		if strings.Contains(all, p) {
			found++
			t.Errorf("planted %q stored", p)
		}
	}
	if !strings.Contains(all, "kite for [email]") || len(sessions) != 2 {
		t.Errorf("stored: %q", all)
	}
	t.Logf("planted PII found in the store: %d of %d", found, len(planted))
}

func TestDataVersion(t *testing.T) {
	ctx := context.Background()
	st := twoShops(t)
	v0, err := st.DataVersion(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	changed := func(what string, f func()) {
		t.Helper()
		before, _ := st.DataVersion(ctx, "a")
		f()
		after, _ := st.DataVersion(ctx, "a")
		if after == before {
			t.Errorf("%s: version unchanged (%s)", what, after)
		}
	}
	changed("product added", func() { st.UpsertProducts(ctx, "a", []catalog.Product{{ID: "p", Title: "Kite"}}) })
	time.Sleep(2 * time.Millisecond) // change times are in milliseconds
	changed("product changed", func() { st.UpsertProducts(ctx, "a", []catalog.Product{{ID: "p", Title: "Red kite"}}) })
	changed("review added", func() { st.UpsertReviews(ctx, "a", []catalog.Review{{ID: "r", Item: "p", Stars: 4}}) })
	changed("qa added", func() { st.UpsertQA(ctx, "a", []catalog.QA{{ID: "q", Item: "p", Question: "?", Answer: "!"}}) })
	changed("faq added", func() { st.UpsertFAQ(ctx, "a", []FAQ{{ID: "f", Title: "T", Body: "b"}}) })
	same, _ := st.DataVersion(ctx, "a")
	st.UpsertProducts(ctx, "a", []catalog.Product{{ID: "p", Title: "Red kite"}}) // no change
	st.UpsertProducts(ctx, "b", []catalog.Product{{ID: "x", Title: "Other shop"}})
	if again, _ := st.DataVersion(ctx, "a"); again != same || again == v0 {
		t.Errorf("version moved without a change to shop a: %s → %s", same, again)
	}
	if _, err := st.DataVersion(ctx, "nope"); !errors.Is(err, ErrNoShop) {
		t.Errorf("unknown shop: %v", err)
	}
}
