package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/shared/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const goldenDir = "testdata/golden"

// t0 is the golden requests' clock, 2026-01-01T12:00:00Z in Unix ms.
const t0 = 1767268800000

// goldenCase is one golden request. item(i) names the snapshot's item i so
// that the requests follow the snapshot when it is regenerated.
type goldenCase struct {
	name string
	req  func(item func(int) string) *wire.RecommendRequest
}

func ev(typ wire.EventType, id string, minutesAgo int64) wire.Event {
	return wire.Event{Type: typ, Item: id, Time: t0 - minutesAgo*60_000}
}

func search(q string, minutesAgo int64) wire.Event {
	return wire.Event{Type: wire.Search, Query: q, Time: t0 - minutesAgo*60_000}
}

// goldenCases cover every placement, every event type, every filter, k=1
// and k=100, empty sessions and unknown items.
var goldenCases = []goldenCase{
	{"for_you_views", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(0), 9), ev(wire.View, it(150), 5), ev(wire.View, it(151), 1)}}
	}},
	{"for_you_clicks", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(300), 6), ev(wire.Click, it(301), 4), ev(wire.Click, it(450), 2)}}
	}},
	{"for_you_cart", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(600), 8), ev(wire.AddToCart, it(600), 7), ev(wire.View, it(601), 3)}}
	}},
	{"for_you_purchases", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(750), 30), ev(wire.AddToCart, it(750), 28), ev(wire.Purchase, it(750), 20), ev(wire.View, it(760), 2)}}
	}},
	{"for_you_mixed", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Shop: "demo-shop", Region: "eu-west", Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			search("night cream", 40), ev(wire.View, it(900), 38), ev(wire.Click, it(901), 35),
			ev(wire.AddToCart, it(901), 34), ev(wire.RemoveFromCart, it(901), 30), ev(wire.View, it(1050), 20),
			ev(wire.AddToCart, it(1200), 10), ev(wire.Purchase, it(1350), 5), ev(wire.View, it(902), 1)}}
	}},
	{"for_you_long_session", func(it func(int) string) *wire.RecommendRequest {
		req := &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, K: 20}
		for i := range 80 {
			req.Events = append(req.Events, ev(wire.View, it((i*37)%2000), int64(80-i)))
		}
		return req
	}},
	{"for_you_repeated_item", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(1500), 9), ev(wire.View, it(1500), 7), ev(wire.Click, it(1500), 5), ev(wire.View, it(1650), 1)}}
	}},
	{"for_you_empty_session", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0}
	}},
	{"for_you_unknown_items", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, "NOPE-1", 5), ev(wire.AddToCart, "NOPE-2", 3), ev(wire.Purchase, "NOPE-3", 1)}}
	}},
	{"for_you_unknown_and_known", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, "NOPE-1", 5), ev(wire.View, it(1800), 3)}, Filters: wire.Filters{Exclude: []string{"NOPE-9"}}}
	}},
	{"for_you_k1", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, K: 1, Now: t0, Events: []wire.Event{ev(wire.View, it(1950), 1)}}
	}},
	{"for_you_k100", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, K: 100, Now: t0, Events: []wire.Event{
			ev(wire.View, it(10), 3), ev(wire.Click, it(20), 2), ev(wire.View, it(1000), 1)}}
	}},
	{"for_you_categories", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(0), 3), ev(wire.View, it(300), 1)},
			Filters: wire.Filters{Categories: []string{"Beauty > Skin Care", "Home > Bedding"}}}
	}},
	{"for_you_category_top_level", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{ev(wire.View, it(0), 1)},
			Filters: wire.Filters{Categories: []string{"Sports"}}}
	}},
	{"for_you_price_range", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{
			ev(wire.View, it(450), 2), ev(wire.View, it(1350), 1)},
			Filters: wire.Filters{PriceMin: 10, PriceMax: 60}}
	}},
	{"for_you_in_stock", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, K: 30, Now: t0, Events: []wire.Event{ev(wire.View, it(1800), 1)},
			Filters: wire.Filters{InStock: true}}
	}},
	{"for_you_exclude", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{ev(wire.View, it(0), 1)},
			Filters: wire.Filters{Exclude: []string{it(1), it(2), it(3), it(4), it(5), "NOPE-7"}}}
	}},
	{"for_you_all_filters", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, K: 15, Now: t0, Events: []wire.Event{
			ev(wire.View, it(0), 4), ev(wire.Click, it(150), 2)},
			Filters: wire.Filters{Categories: []string{"Beauty"}, PriceMin: 5, PriceMax: 100, InStock: true, Exclude: []string{it(1)}}}
	}},
	{"for_you_nothing_passes", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Now: t0, Events: []wire.Event{ev(wire.View, it(0), 1)},
			Filters: wire.Filters{PriceMin: 100000}}
	}},
	{"for_you_now_zero", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.ForYou, Events: []wire.Event{
			ev(wire.View, it(1100), 600), ev(wire.View, it(1101), 1)}}
	}},
	{"similar", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Similar, Item: it(0), Now: t0}
	}},
	{"similar_with_session", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Similar, Item: it(300), Now: t0, Events: []wire.Event{
			ev(wire.View, it(301), 3), ev(wire.View, it(300), 1)}}
	}},
	{"similar_filtered", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Similar, Item: it(150), K: 5, Now: t0,
			Filters: wire.Filters{Categories: []string{"Beauty > Hair Care"}, PriceMax: 20}}
	}},
	{"similar_unknown_item", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Similar, Item: "NOPE-0", Now: t0}
	}},
	{"bought_together", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.BoughtTogether, Item: it(1709), Now: t0}
	}},
	{"bought_together_k100_in_cart", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.BoughtTogether, Item: it(649), K: 100, Now: t0, Events: []wire.Event{
			ev(wire.AddToCart, it(649), 2), ev(wire.AddToCart, it(863), 1)}}
	}},
	{"cart", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Cart, Now: t0, Events: []wire.Event{
			ev(wire.View, it(1709), 6), ev(wire.AddToCart, it(1709), 5), ev(wire.AddToCart, it(650), 3), ev(wire.View, it(1836), 1)}}
	}},
	{"cart_removed", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Cart, Now: t0, Events: []wire.Event{
			ev(wire.AddToCart, it(1709), 5), ev(wire.RemoveFromCart, it(1709), 3)}}
	}},
	{"cart_empty", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Cart, Now: t0}
	}},
	{"trending", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Trending, Now: t0}
	}},
	{"trending_k100_in_stock", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Trending, K: 100, Now: t0, Filters: wire.Filters{InStock: true}}
	}},
	{"trending_price_max_with_session", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.Trending, Now: t0, Events: []wire.Event{ev(wire.View, it(0), 1)},
			Filters: wire.Filters{PriceMax: 15, Exclude: []string{it(1709)}}}
	}},
	{"search", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.SearchResults, Query: "face serum", Now: t0}
	}},
	{"search_with_session", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.SearchResults, Query: "chef knife", K: 20, Now: t0, Events: []wire.Event{
			search("knife", 4), ev(wire.View, it(300), 3), ev(wire.View, it(450), 1)}}
	}},
	{"search_filtered", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.SearchResults, Query: "Argan", Now: t0,
			Filters: wire.Filters{Categories: []string{"Beauty"}, InStock: true}}
	}},
	{"search_no_match", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.SearchResults, Query: "zzqx", Now: t0}
	}},
	{"search_unicode", func(it func(int) string) *wire.RecommendRequest {
		return &wire.RecommendRequest{Placement: wire.SearchResults, Query: "Crème SÉRUM 日本 yoga-mat", K: 1, Now: t0}
	}},
}

// snapshotManifest describes the golden snapshot so that other parity tests
// (the Workers build) can regenerate it and check they have the same one.
type snapshotManifest struct {
	Generator string `json:"generator"`
	N         int    `json:"n"`
	Dims      int    `json:"dims"`
	Nbrs      int    `json:"nbrs"`
	Clusters  int    `json:"clusters"`
	Seed      uint64 `json:"seed"`
	Encode    string `json:"encode"`
	Bytes     int    `json:"bytes"`
	Version   string `json:"version"`
}

// goldenFiles renders every golden file: the snapshot manifest, then per
// case the request as storefront JSON and the native response as JSON.
func goldenFiles(t *testing.T, f *fixture) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	a := f.args
	files["snapshot.json"] = mustJSON(t, snapshotManifest{
		Generator: "snapshot.Synthetic", N: a.N, Dims: a.Dims, Nbrs: a.Nbrs, Clusters: a.Clusters, Seed: a.Seed,
		Encode: "snapshot.Encode(s, snapshot.EncodeOptions{Compress: true})", Bytes: len(f.bytes), Version: f.snap.Version,
	})
	item := func(i int) string { return f.snap.Items.IDs[i] }
	for _, c := range goldenCases {
		req := c.req(item)
		resp, err := wire.UnmarshalResponse(f.native(t, req))
		if err != nil {
			t.Fatal(err)
		}
		files[c.name+".request.json"] = mustJSON(t, req)
		files[c.name+".response.json"] = mustJSON(t, resp)
	}
	return files
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "Beauty > Skin Care" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden checks that testdata/golden holds exactly what the native core
// answers today (go test ./wasm -run TestGolden -update rewrites it).
func TestGolden(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	want := goldenFiles(t, f)
	if *update {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("%v: run go test ./wasm -run TestGolden -update", err)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok {
			t.Errorf("%s/%s: no golden case makes it: delete it, or run go test ./wasm -run TestGolden -update", goldenDir, e.Name())
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Errorf("%v: run go test ./wasm -run TestGolden -update", err)
			continue
		}
		if !bytes.Equal(got, want[name]) {
			t.Errorf("%s/%s is stale (the snapshot generator, the ranking core or the case changed): review the change, then run go test ./wasm -run TestGolden -update\n%s",
				goldenDir, name, firstDiff(got, want[name]))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  file: " + a + "\n  now:  " + b
		}
	}
	return ""
}

// TestParity ranks every golden request natively and through the wazero
// hosted module and requires byte-identical msgpack answers, equal to the
// golden response; the golden request files must also decode (as the
// storefront's JSON) to the very request that was ranked.
func TestParity(t *testing.T) {
	f := synth(t, goldenSnapshotArgs)
	r := newRuntime(t, 2, f)
	ctx := context.Background()
	if r.Version() != f.snap.Version {
		t.Fatalf("runtime version %q, want %q", r.Version(), f.snap.Version)
	}
	item := func(i int) string { return f.snap.Items.IDs[i] }
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req(item)
			reqMP := marshalRequest(t, req)
			native := f.native(t, req)

			got, err := r.RankMsgpack(ctx, reqMP)
			if err != nil {
				t.Fatalf("RankMsgpack: %v", err)
			}
			if !bytes.Equal(got, native) {
				t.Fatalf("wasm answer differs from native:\nwasm   %s\nnative %s", summary(t, got), summary(t, native))
			}
			typed, err := r.Rank(ctx, req)
			if err != nil {
				t.Fatalf("Rank: %v", err)
			}
			nresp, err := wire.UnmarshalResponse(native)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(typed, nresp) {
				t.Fatalf("Rank = %+v, want %+v", typed, nresp)
			}
			if nresp.Index != f.snap.Version {
				t.Fatalf("answer from index %q, want %q", nresp.Index, f.snap.Version)
			}

			// The golden files are what other implementations check against.
			gotReq, err := os.ReadFile(filepath.Join(goldenDir, c.name+".request.json"))
			if err != nil {
				t.Fatalf("%v: run go test ./wasm -run TestGolden -update", err)
			}
			greq, err := wire.DecodeRecommendRequestJSON(gotReq)
			if err != nil {
				t.Fatalf("golden request: %v", err)
			}
			if !bytes.Equal(marshalRequest(t, greq), reqMP) {
				t.Fatalf("golden request file is stale: run go test ./wasm -run TestGolden -update")
			}
			gotResp, err := os.ReadFile(filepath.Join(goldenDir, c.name+".response.json"))
			if err != nil {
				t.Fatal(err)
			}
			gresp, err := wire.DecodeRecommendResponseJSON(gotResp)
			if err != nil {
				t.Fatalf("golden response: %v", err)
			}
			gmp, err := wire.MarshalResponse(gresp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gmp, got) {
				t.Fatalf("golden response file differs from the answer: run go test ./wasm -run TestGolden -update")
			}
		})
	}
}

// summary renders an encoded response briefly for a failure message.
func summary(t *testing.T, b []byte) string {
	sum := sha256.Sum256(b)
	resp, err := wire.UnmarshalResponse(b)
	if err != nil {
		return "undecodable: " + err.Error()
	}
	return hex.EncodeToString(sum[:6]) + " " + string(mustJSON(t, resp))
}
