package build

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/snapshot"
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
	cfg.Train.Dims, cfg.Embed = 8, false
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

// TestTextModelPlacesColdItems: with enough behaviour the build learns a
// text model, exports it, reads it back through hugot, places the items
// without behaviour by their text, and ships the table for the edge.
func TestTextModelPlacesColdItems(t *testing.T) {
	kinds := []string{"wooden train", "princess doll", "jigsaw puzzle", "racing car"}
	d := &Data{}
	for i := range 120 {
		k := kinds[i%4]
		d.Products = append(d.Products, catalog.Product{ID: fmt.Sprintf("p%d", i), Title: fmt.Sprintf("%s model %d", k, i), Category: []string{"Toys", k}})
	}
	// Behaviour for the first 100 items only, within each kind.
	for s := range 300 {
		k := s % 4
		var ev []store.Event
		for j := range 4 {
			it := (k + 4*((s*7+j*13)%25)) % 100
			ev = append(ev, store.Event{Session: fmt.Sprint(s), Seq: int64(j + 1), Type: wire.View, Item: fmt.Sprintf("p%d", it)})
		}
		d.Sessions = append(d.Sessions, ev)
	}
	pub, _ := publish.Open(t.TempDir())
	cfg := DefaultConfig()
	cfg.Regions, cfg.ModelRoot = []string{"eu"}, t.TempDir()
	cfg.Train.Dims = 16
	sum, err := Run(context.Background(), d, "s", cfg, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Regions[0]
	if r.Text.Source != "trained" || r.Text.Cold != 20 {
		t.Fatalf("text model %+v, want trained and 20 cold items placed", r.Text)
	}
	for _, f := range []string{"model.onnx", "tokenizer.json", "config.json"} {
		if _, err := os.Stat(filepath.Join(r.Text.Dir, f)); err != nil {
			t.Errorf("export lacks %s: %v", f, err)
		}
	}
	v, _ := pub.Pointer("eu")
	b, _ := pub.Get("eu", v)
	snap, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	e, err := embed.Unmarshal(snap.Section(embed.SectionName))
	if err != nil {
		t.Fatalf("embedder section: %v", err)
	}
	// A cold train lands nearer a warm train than a warm doll.
	num := map[string]int{}
	for i, id := range snap.Items.IDs {
		num[id] = i
	}
	cos := func(a, b string) float64 {
		i, j, dd := num[a], num[b], snap.Dims
		var s, na, nb float64
		for k := range dd {
			x, y := float64(snap.Vectors[i*dd+k]), float64(snap.Vectors[j*dd+k])
			s, na, nb = s+x*y, na+x*x, nb+y*y
		}
		return s / math.Sqrt(na*nb)
	}
	if !(cos("p100", "p0") > cos("p100", "p1")) { // p100 and p0 are trains, p1 a doll
		t.Errorf("cold train: cos to a train %.2f, to a doll %.2f", cos("p100", "p0"), cos("p100", "p1"))
	}
	if q := e.Embed("wooden train", nil); len(q) != 16 {
		t.Errorf("edge query vector of %d dims", len(q))
	}
}

// TestTextModelWithoutBehaviour: a new shop with no past sessions still
// gets a text model, learned from the text-derived item vectors, so search
// queries embed; the items keep their vectors.
func TestTextModelWithoutBehaviour(t *testing.T) {
	kinds := []string{"wooden train", "princess doll", "jigsaw puzzle", "racing car"}
	d := &Data{}
	for i := range 120 {
		k := kinds[i%4]
		d.Products = append(d.Products, catalog.Product{ID: fmt.Sprintf("p%d", i), Title: fmt.Sprintf("%s model %d", k, i), Category: []string{"Toys", k}})
	}
	pub, _ := publish.Open(t.TempDir())
	cfg := DefaultConfig()
	cfg.Regions, cfg.ModelRoot, cfg.Evaluate = []string{"eu"}, t.TempDir(), false
	cfg.Train.Dims = 16
	sum, err := Run(context.Background(), d, "s", cfg, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := sum.Regions[0]; r.Text.Source != "trained on text vectors" || r.Text.Cold != 0 {
		t.Fatalf("text model %+v", r.Text)
	}
	v, _ := pub.Pointer("eu")
	b, _ := pub.Get("eu", v)
	snap, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	e, err := embed.Unmarshal(snap.Section(embed.SectionName))
	if err != nil {
		t.Fatalf("embedder section: %v", err)
	}
	// "train" lands nearer a train than a doll.
	q := e.Embed("wooden train", nil)
	dot := func(i int) float64 {
		var s float64
		for j, x := range snap.Vectors[i*snap.Dims : (i+1)*snap.Dims] {
			s += float64(q[j]) * float64(x) * float64(snap.Scales[i])
		}
		return s
	}
	num := map[string]int{}
	for i, id := range snap.Items.IDs {
		num[id] = i
	}
	if dot(num["p0"]) <= dot(num["p1"]) {
		t.Fatalf("query 'wooden train' scores a train %.3f, a doll %.3f", dot(num["p0"]), dot(num["p1"]))
	}
}
