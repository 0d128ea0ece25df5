package build

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
)

// chainShop is a shop whose visitors walk one of a few item chains: item i
// of a chain is usually followed by item i+1, so the last item of a session
// is predictable from the one before, and popularity is no help.
func chainShop(sessions int) *Data {
	const chains, length = 12, 8
	d := &Data{}
	for c := range chains {
		for i := range length {
			d.Products = append(d.Products, catalog.Product{ID: fmt.Sprintf("c%d-%d", c, i), Title: fmt.Sprintf("chain %d toy %d", c, i)})
		}
	}
	for s := range sessions {
		c := s % chains
		from := (s / chains) % (length - 3)
		n := 2 + s%3
		var evs []store.Event
		for i := range n {
			evs = append(evs, store.Event{Session: fmt.Sprintf("s%04d", s), Seq: int64(i + 1), Type: wire.View,
				Item: fmt.Sprintf("c%d-%d", c, from+i), Time: int64(s*1000 + i)})
		}
		if s%4 == 0 {
			evs = append(evs, store.Event{Session: evs[0].Session, Seq: int64(n + 1), Type: wire.Search, Query: "train", Time: int64(s*1000 + n)})
		}
		d.Sessions = append(d.Sessions, evs)
	}
	return d
}

func TestEvaluate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Train.Dims, cfg.Embed, cfg.Now = 8, false, 1_000_000
	ev, err := Evaluate(context.Background(), chainShop(600), "s", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Cases != 600 || ev.Region != "eu" || len(ev.Systems) != 3 || ev.Note != "" {
		t.Fatalf("evaluation: %+v", ev)
	}
	t.Logf("%d cases: %+v", ev.Cases, ev.Systems)
	aisle, pop, last := ev.Systems[0], ev.Systems[1], ev.Systems[2]
	if aisle.System != "Aisle" || pop.System != "most popular items" || last.System != "what followed the last item" {
		t.Errorf("systems %+v", ev.Systems)
	}
	if aisle.Recall10 < 0.3 || aisle.Recall10 <= pop.Recall10 || aisle.NDCG10 <= pop.NDCG10 {
		t.Errorf("Aisle R@10 %.3f N@10 %.3f, popularity %.3f %.3f: the chains are predictable", aisle.Recall10, aisle.NDCG10, pop.Recall10, pop.NDCG10)
	}
	for _, s := range ev.Systems {
		if s.Recall10 < 0 || s.Recall10 > 1 || s.NDCG10 < 0 || s.NDCG10 > s.Recall10 {
			t.Errorf("%s: impossible figures %+v", s.System, s)
		}
	}
}

func TestEvaluateWithoutSessions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Train.Dims, cfg.Embed = 8, false
	d := chainShop(0)
	d.Sessions = [][]store.Event{{{Session: "x", Seq: 1, Type: wire.View, Item: "c0-0"}}}
	ev, err := Evaluate(context.Background(), d, "s", cfg)
	if err != nil || ev.Cases != 0 || ev.Note == "" || len(ev.Systems) != 0 {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestSaveEvaluation(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateShop(ctx, "s", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := LoadEvaluation(ctx, st, "s"); ok || err != nil {
		t.Fatalf("before saving: %v %v", ok, err)
	}
	want := Evaluation{Region: "eu", Cases: 3, Systems: []SystemScore{{System: "Aisle", Recall10: 0.5, NDCG10: 0.25}}}
	if err := SaveEvaluation(ctx, st, "s", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadEvaluation(ctx, st, "s")
	if !ok || err != nil || got.Cases != 3 || got.Systems[0] != want.Systems[0] {
		t.Fatalf("loaded %+v %v %v", got, ok, err)
	}
}
