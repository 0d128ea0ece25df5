package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestQA(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range []string{"a", "b"} {
		if err := st.CreateShop(ctx, s, ""); err != nil {
			t.Fatal(err)
		}
	}
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
