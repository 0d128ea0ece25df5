// Package snapshot defines the immutable index of one region that the hub
// builds and every edge ranks from, and its bounded binary codec.
//
// A snapshot is content-addressed: its Version is the hex SHA-256 of its
// encoded bytes, so two edges holding the same version hold the same bytes.
// The decoder checks the header (magic, format version, counts, dimensions)
// against hard limits before it allocates anything, verifies the checksum,
// and rejects corrupt, truncated or oversized input whole. The encoded format
// is specified in format.go; Encode, Decode and Validate are the codec, and
// Synthetic builds realistic snapshots for tests and benchmarks.
package snapshot

// Snapshot is the in-memory form of one region's index. Slices indexed by
// item hold exactly Len() entries; item numbers are positions in Items.IDs.
type Snapshot struct {
	Shop   string
	Region string
	// Built is when the hub built the snapshot, Unix milliseconds (given by
	// the builder; the codec reads no clock).
	Built int64
	// Version is the hex SHA-256 of the encoded snapshot. Encode and Decode
	// set it; a builder leaves it empty.
	Version string

	Items Items

	// Dims is the length of every item vector and centroid.
	Dims int
	// Vectors holds Len()*Dims int8 values, item i at [i*Dims:(i+1)*Dims];
	// the real vector is Vectors[i*Dims+j] * Scales[i].
	Vectors []int8
	Scales  []float32

	// CoVisit links items that the same sessions engaged with, strongest first.
	CoVisit Graph
	// BoughtTogether links items purchased together, strongest first. Empty
	// (all rows empty) when the shop has no purchase data.
	BoughtTogether Graph

	// Centroids holds Clusters*Dims float32 values of the item clusters.
	Centroids []float32
	// ClusterLabels has one short label per cluster (may be empty strings).
	ClusterLabels []string

	// Trending lists item numbers by current popularity, highest first, with
	// their scores in TrendingScore.
	Trending      []uint32
	TrendingScore []float32

	// Sections carries later additions (the query embedder, segments) that
	// this package stores and checks but does not interpret. Names are unique
	// and sorted by the encoder.
	Sections []Section

	// checked is set by the decoders once every check of Validate has
	// passed (see Checked).
	checked bool
}

// Checked reports whether s came from Decode, DecodeWith or DecodeReader,
// which ran every check of Validate on it (under the decoder's limits), so
// that a consumer such as the ranking core need not run them again: at
// 100,000 items that is about 20 ms of an edge's cold start under Wasm.
// Decoded snapshots must not be modified; Checked cannot tell if one was,
// and neither can it for a copy of the struct, which carries the mark.
func (s *Snapshot) Checked() bool { return s != nil && s.checked }

// Items is the item table, one entry per item, stored column by column.
type Items struct {
	IDs    []string
	Titles []string
	// Categories holds each item's category path, levels joined by " > ".
	Categories []string
	Prices     []float32
	InStock    []bool
	// Cluster is the item's cluster number (index into Centroids).
	Cluster []uint16
	// Popularity is a non-negative engagement score; larger is more popular.
	Popularity []float32
}

// Graph is a weighted item→item adjacency in compressed-row form: the
// neighbours of item i are Nbr[Offsets[i]:Offsets[i+1]] with weights in the
// same positions of Weight, ordered by weight, highest first.
//
// A compact graph (DecodeOptions.CompactWeights) holds its weights as
// one-byte codes instead, the format's own: Weight is nil, and the weight of
// edge k is Levels[Code[k]]. It takes a quarter of the memory, and its
// weights are exactly those Decode gives.
type Graph struct {
	Offsets []uint32 // Len()+1 entries, Offsets[0] == 0
	Nbr     []uint32
	Weight  []float32
	Code    []uint8       // compact graphs only
	Levels  *[256]float32 // compact graphs only
}

// Compact reports whether g holds its weights as codes.
func (g *Graph) Compact() bool { return g.Levels != nil }

// Row returns item i's neighbours and weights. A compact graph has no
// weight slice to give: its Row returns nil weights (use RowCodes).
func (g *Graph) Row(i uint32) ([]uint32, []float32) {
	if int(i)+1 >= len(g.Offsets) {
		return nil, nil
	}
	a, b := g.Offsets[i], g.Offsets[i+1]
	if g.Compact() {
		return g.Nbr[a:b], nil
	}
	return g.Nbr[a:b], g.Weight[a:b]
}

// RowCodes returns item i's neighbours and weight codes in a compact graph
// (nil codes otherwise); the weights are Levels[code].
func (g *Graph) RowCodes(i uint32) ([]uint32, []uint8) {
	if int(i)+1 >= len(g.Offsets) {
		return nil, nil
	}
	a, b := g.Offsets[i], g.Offsets[i+1]
	if !g.Compact() {
		return g.Nbr[a:b], nil
	}
	return g.Nbr[a:b], g.Code[a:b]
}

// weight returns the weight of edge k.
func (g *Graph) weight(k int) float32 {
	if g.Compact() {
		return g.Levels[g.Code[k]]
	}
	return g.Weight[k]
}

// weights returns the number of weights g holds.
func (g *Graph) weights() int {
	if g.Compact() {
		return len(g.Code)
	}
	return len(g.Weight)
}

// Section is an opaque named block of bytes.
type Section struct {
	Name string
	Data []byte
}

// Len returns the number of items.
func (s *Snapshot) Len() int { return len(s.Items.IDs) }

// Clusters returns the number of item clusters.
func (s *Snapshot) Clusters() int {
	if s.Dims == 0 {
		return 0
	}
	return len(s.Centroids) / s.Dims
}

// Section returns the data of the named section, or nil.
func (s *Snapshot) Section(name string) []byte {
	for _, sec := range s.Sections {
		if sec.Name == name {
			return sec.Data
		}
	}
	return nil
}
