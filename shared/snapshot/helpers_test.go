package snapshot

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// smallSnapshot is a hand-made snapshot that touches every field: shared
// categories, an empty title, a zero scale, a tie in a graph row, an empty
// graph, an empty label, unsorted sections and an empty section.
func smallSnapshot() *Snapshot {
	return &Snapshot{
		Shop:   "acme",
		Region: "eu-west",
		Built:  1767225600000,
		Items: Items{
			IDs:        []string{"SKU-0000001", "SKU-0000002", "SKU-0000003", "SKU-0000004", "SKU-0000005"},
			Titles:     []string{"Red mug", "Blue mug", "Tea pot 1 l", "", "Espresso cup – 90 ml"},
			Categories: []string{"Kitchen > Mugs", "Kitchen > Mugs", "Kitchen > Tea", "Kitchen > Mugs", "Kitchen > Coffee"},
			Prices:     []float32{9.99, 9.99, 24.5, 0, 4.25},
			InStock:    []bool{true, false, true, true, false},
			Cluster:    []uint16{0, 0, 1, 0, 1},
			Popularity: []float32{10, 3.5, 0, 7, 1},
		},
		Dims: 4,
		Vectors: []int8{
			127, 0, -5, 3,
			100, -127, 7, 7,
			-1, 2, -3, 127,
			0, 0, 0, 0,
			-128, 64, 32, 16,
		},
		Scales: []float32{0.01, 0.02, 0.005, 0, 0.1},
		CoVisit: Graph{
			Offsets: []uint32{0, 2, 3, 3, 5, 6},
			Nbr:     []uint32{1, 3, 0, 0, 1, 2},
			Weight:  []float32{5, 2.5, 1, 3, 3, 0.25},
		},
		Centroids:     []float32{0.5, -0.25, 0, 1, -1, 0.125, 0.75, 0},
		ClusterLabels: []string{"Mugs", ""},
		Trending:      []uint32{0, 3, 4},
		TrendingScore: []float32{9, 4, 4},
		Sections: []Section{
			{Name: "segments", Data: []byte{1, 2, 3}},
			{Name: "embedder", Data: []byte("model bytes")},
			{Name: "empty", Data: nil},
		},
	}
}

// canonical returns what Decode(Encode(s)) must equal: weights on the
// code grid, empty graphs expanded, sections sorted, Version as given.
func canonical(s *Snapshot) *Snapshot {
	c := *s
	c.CoVisit = canonicalGraph(s.CoVisit, s.Len())
	c.BoughtTogether = canonicalGraph(s.BoughtTogether, s.Len())
	c.Sections = slices.Clone(s.Sections)
	slices.SortFunc(c.Sections, func(a, b Section) int { return cmp.Compare(a.Name, b.Name) })
	return &c
}

func canonicalGraph(g Graph, n int) Graph {
	if len(g.Offsets) == 0 {
		return Graph{Offsets: make([]uint32, n+1)}
	}
	var m float32
	for _, w := range g.Weight {
		m = max(m, w)
	}
	grid := newWeightGrid(m)
	out := Graph{Offsets: g.Offsets, Nbr: g.Nbr, Weight: make([]float32, len(g.Weight))}
	for k, w := range g.Weight {
		out.Weight[k] = grid.value[grid.code(w)]
	}
	return out
}

// diff describes the first difference between two snapshots, treating nil
// and empty slices alike; "" if they are equal.
func diff(a, b *Snapshot) string {
	type field struct {
		name string
		eq   bool
	}
	eqs := func(x, y []string) bool { return slices.Equal(x, y) }
	eqf := func(x, y []float32) bool { return slices.Equal(x, y) }
	eqg := func(x, y Graph) bool {
		return slices.Equal(x.Offsets, y.Offsets) && slices.Equal(x.Nbr, y.Nbr) && eqf(x.Weight, y.Weight)
	}
	secs := len(a.Sections) == len(b.Sections)
	for i := 0; secs && i < len(a.Sections); i++ {
		secs = a.Sections[i].Name == b.Sections[i].Name && bytes.Equal(a.Sections[i].Data, b.Sections[i].Data)
	}
	for _, f := range []field{
		{"Shop", a.Shop == b.Shop},
		{"Region", a.Region == b.Region},
		{"Built", a.Built == b.Built},
		{"Version", a.Version == b.Version},
		{"IDs", eqs(a.Items.IDs, b.Items.IDs)},
		{"Titles", eqs(a.Items.Titles, b.Items.Titles)},
		{"Categories", eqs(a.Items.Categories, b.Items.Categories)},
		{"Prices", eqf(a.Items.Prices, b.Items.Prices)},
		{"InStock", slices.Equal(a.Items.InStock, b.Items.InStock)},
		{"Cluster", slices.Equal(a.Items.Cluster, b.Items.Cluster)},
		{"Popularity", eqf(a.Items.Popularity, b.Items.Popularity)},
		{"Dims", a.Dims == b.Dims},
		{"Vectors", slices.Equal(a.Vectors, b.Vectors)},
		{"Scales", eqf(a.Scales, b.Scales)},
		{"CoVisit", eqg(a.CoVisit, b.CoVisit)},
		{"BoughtTogether", eqg(a.BoughtTogether, b.BoughtTogether)},
		{"Centroids", eqf(a.Centroids, b.Centroids)},
		{"ClusterLabels", eqs(a.ClusterLabels, b.ClusterLabels)},
		{"Trending", slices.Equal(a.Trending, b.Trending)},
		{"TrendingScore", eqf(a.TrendingScore, b.TrendingScore)},
		{"Sections", secs},
	} {
		if !f.eq {
			return f.name + " differs"
		}
	}
	return ""
}

// resign replaces the trailer of an encoded snapshot with the checksum of
// the bytes before it.
func resign(b []byte) []byte {
	if len(b) < trailerLen {
		return b
	}
	out := slices.Clone(b)
	sum := sha256.Sum256(out[:len(out)-trailerLen])
	copy(out[len(out)-trailerLen:], sum[:])
	return out
}

// rawHeader is a header to craft, field by field.
type rawHeader struct {
	version                                                   uint16
	shop, region                                              string
	built                                                     int64
	items, dims, clusters, edges1, edges2, trending, sections uint32
	quant, comp                                               string
	bodyLen                                                   uint64
}

func validHeader() rawHeader {
	return rawHeader{version: FormatVersion, shop: "s", region: "r", quant: Quantisation, comp: CompressionNone}
}

// craft assembles a signed snapshot from a header and a stored body.
func craft(h rawHeader, body []byte) []byte {
	hdr := appendString(nil, h.shop)
	hdr = appendString(hdr, h.region)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(h.built))
	for _, v := range []uint32{h.items, h.dims, h.clusters, h.edges1, h.edges2, h.trending, h.sections} {
		hdr = binary.LittleEndian.AppendUint32(hdr, v)
	}
	hdr = appendString(hdr, h.quant)
	hdr = appendString(hdr, h.comp)
	hdr = binary.LittleEndian.AppendUint64(hdr, h.bodyLen)
	out := append([]byte(Magic), 0, 0)
	binary.LittleEndian.PutUint16(out[len(Magic):], h.version)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	out = append(out, body...)
	out = append(out, make([]byte, trailerLen)...)
	return resign(out)
}

// allocated returns the bytes f allocates, averaged over runs.
func allocated(runs int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

func mustEncode(t testing.TB, s *Snapshot, opt EncodeOptions) []byte {
	t.Helper()
	b, err := Encode(s, opt)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func optName(o EncodeOptions) string {
	if o.Compress {
		return fmt.Sprintf("deflate%d", o.Level)
	}
	return "none"
}
