package build

import (
	"context"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
)

func TestInputPerRegion(t *testing.T) {
	d := &Data{
		Products: []catalog.Product{
			{ID: "a", Title: "kite", Stock: map[string]int{"eu": 0, "us": 3}},
			{ID: "b", Title: "ball"},
			{ID: "c", Title: "yoyo", Stock: map[string]int{"default": 0}},
		},
		Sessions: [][]store.Event{{
			{Type: wire.View, Item: "a"}, {Type: wire.View, Item: "b"},
			{Type: wire.Search, Query: "kite"}, {Type: wire.View, Item: "z"},
		}},
	}
	ids := func(region string) string {
		in := Input(d, "s", region, 1)
		var out []string
		for _, it := range in.Items {
			out = append(out, it.ID)
		}
		var sess []string
		for _, e := range in.Sessions[0] {
			sess = append(sess, in.Items[e.Item].ID)
		}
		return strings.Join(out, ",") + " | " + strings.Join(sess, ",")
	}
	if got := ids("eu"); got != "b,z | b,z" {
		t.Errorf("eu: %s (a is out of stock there, c everywhere, z known only from events)", got)
	}
	if got := ids("us"); got != "a,b,z | a,b,z" {
		t.Errorf("us: %s", got)
	}
}

func TestRunBudgetAndRegions(t *testing.T) {
	d := &Data{}
	for i := range 50 {
		d.Products = append(d.Products, catalog.Product{ID: string(rune('A'+i%26)) + string(rune('a'+i/26)), Title: "toy"})
	}
	pub, err := publish.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Train.Dims = 8
	sum, err := Run(context.Background(), d, "s", cfg, pub, nil)
	if err != nil || len(sum.Regions) != 2 || sum.Regions[0].Items != 50 {
		t.Fatalf("run: %+v %v", sum, err)
	}
	cfg.MaxBytes = 100
	if _, err := Run(context.Background(), d, "s", cfg, pub, nil); err == nil || !strings.Contains(err.Error(), "exceeds the budget") {
		t.Fatalf("over budget: %v", err)
	}
	if v, _ := pub.Pointer("eu"); v != sum.Regions[0].Version {
		t.Fatal("an over-budget build moved the pointer")
	}
}
