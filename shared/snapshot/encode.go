package snapshot

import (
	"bytes"
	"cmp"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
)

// Encode validates s and returns its encoded bytes (see format.go). It sets
// s.Version to the hex SHA-256 of the result and changes nothing else in s.
// The same snapshot and options always give the same bytes.
func Encode(s *Snapshot, opt EncodeOptions) ([]byte, error) {
	lim := opt.Limits.normalized()
	if err := validate(s, lim, ErrInvalid); err != nil {
		return nil, err
	}
	level := opt.Level
	if level == 0 {
		level = flate.BestCompression
	}
	if opt.Compress && (level < flate.BestSpeed || level > flate.BestCompression) {
		return nil, &codecError{kind: ErrInvalid, msg: fmt.Sprintf("encode: compression level %d outside [1, 9]", opt.Level)}
	}

	compression := CompressionNone
	if opt.Compress {
		compression = CompressionDeflate
	}
	// Prefix and header first; the body length is patched in below.
	out := make([]byte, 0, 256+len(s.Shop)+len(s.Region))
	out = append(out, Magic...)
	out = binary.LittleEndian.AppendUint16(out, FormatVersion)
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = appendString(out, s.Shop)
	out = appendString(out, s.Region)
	out = binary.LittleEndian.AppendUint64(out, uint64(s.Built))
	for _, v := range [...]int{s.Len(), s.Dims, s.Clusters(), len(s.CoVisit.Nbr), len(s.BoughtTogether.Nbr), len(s.Trending), len(s.Sections)} {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	out = appendString(out, Quantisation)
	out = appendString(out, compression)
	out = binary.LittleEndian.AppendUint64(out, 0)
	hdrEnd := len(out)
	binary.LittleEndian.PutUint32(out[len(Magic)+2:], uint32(hdrEnd-prefixLen))

	hint := bodySizeHint(s)
	var bodyLen int
	if opt.Compress {
		body := appendBody(make([]byte, 0, hint), s)
		bodyLen = len(body)
		buf := bytes.NewBuffer(append(make([]byte, 0, hdrEnd+hint/2), out...))
		w, err := flate.NewWriter(buf, level)
		if err != nil {
			return nil, fmt.Errorf("snapshot: encode: %w", err)
		}
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("snapshot: encode: deflate: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("snapshot: encode: deflate: %w", err)
		}
		out = buf.Bytes()
	} else {
		out = appendBody(append(make([]byte, 0, hdrEnd+hint+trailerLen), out...), s)
		bodyLen = len(out) - hdrEnd
	}
	binary.LittleEndian.PutUint64(out[hdrEnd-8:], uint64(bodyLen))
	if bodyLen > lim.MaxTotalBytes {
		return nil, &codecError{kind: ErrTooLarge, msg: fmt.Sprintf("encode: body of %d bytes exceeds limit %d", bodyLen, lim.MaxTotalBytes)}
	}
	if total := len(out) + trailerLen; total > lim.MaxTotalBytes {
		return nil, &codecError{kind: ErrTooLarge, msg: fmt.Sprintf("encode: %d bytes exceed limit %d", total, lim.MaxTotalBytes)}
	}
	h := sha256.New()
	h.Write(out)
	out = h.Sum(out)
	h.Write(out[len(out)-trailerLen:])
	s.Version = hex.EncodeToString(h.Sum(nil))
	return out, nil
}

// bodySizeHint estimates the body length of s, to size its buffer once.
func bodySizeHint(s *Snapshot) int {
	n := s.Len()
	size := 64 + n*(3+4+1+2+4+4+2+s.Dims) + 4*len(s.Centroids) +
		4*(len(s.CoVisit.Nbr)+len(s.BoughtTogether.Nbr)) + 9*len(s.Trending)
	for i := range n {
		size += 2 + len(s.Items.IDs[i]) + len(s.Items.Titles[i])
	}
	for _, sec := range s.Sections {
		size += 8 + len(sec.Name) + len(sec.Data)
	}
	return size
}

// appendBody appends the body of a valid snapshot s.
func appendBody(b []byte, s *Snapshot) []byte {
	it := &s.Items
	n := s.Len()

	// Intern categories in order of first use.
	index := make(map[string]uint32)
	var cats []string
	catOf := make([]uint32, n)
	for i, c := range it.Categories {
		j, ok := index[c]
		if !ok {
			j = uint32(len(cats))
			index[c] = j
			cats = append(cats, c)
		}
		catOf[i] = j
	}

	strBytes := 0
	for _, col := range [...][]string{it.IDs, it.Titles, cats, s.ClusterLabels} {
		for _, v := range col {
			strBytes += len(v)
		}
	}
	b = binary.AppendUvarint(b, uint64(strBytes))
	b = binary.AppendUvarint(b, uint64(len(cats)))
	for _, v := range it.IDs {
		b = appendString(b, v)
	}
	for _, v := range it.Titles {
		b = appendString(b, v)
	}
	for _, v := range cats {
		b = appendString(b, v)
	}
	for _, v := range s.ClusterLabels {
		b = appendString(b, v)
	}
	for _, v := range catOf {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = appendFloats(b, it.Prices)
	var bits byte
	for i, v := range it.InStock {
		if v {
			bits |= 1 << (i % 8)
		}
		if i%8 == 7 || i == n-1 {
			b = append(b, bits)
			bits = 0
		}
	}
	for _, v := range it.Cluster {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	b = appendFloats(b, it.Popularity)
	b = appendFloats(b, s.Scales)
	for _, v := range s.Vectors {
		b = append(b, byte(v))
	}
	b = appendFloats(b, s.Centroids)
	ref := clusterRefs(it.Cluster, s.Clusters())
	b = appendGraph(b, &s.CoVisit, it.Cluster, ref)
	b = appendGraph(b, &s.BoughtTogether, it.Cluster, ref)
	for _, v := range s.Trending {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = appendFloats(b, s.TrendingScore)

	secs := make([]int, len(s.Sections))
	for i := range secs {
		secs[i] = i
	}
	slices.SortFunc(secs, func(x, y int) int { return cmp.Compare(s.Sections[x].Name, s.Sections[y].Name) })
	for _, i := range secs {
		sec := &s.Sections[i]
		b = appendString(b, sec.Name)
		b = binary.AppendUvarint(b, uint64(len(sec.Data)))
		b = append(b, sec.Data...)
	}
	return b
}

// clusterRefs returns the lowest-numbered item of each of k clusters, the
// reference that neighbour numbers are stored relative to.
func clusterRefs(cluster []uint16, k int) []int64 {
	ref := make([]int64, k)
	for i := len(cluster) - 1; i >= 0; i-- {
		ref[cluster[i]] = int64(i)
	}
	return ref
}

// appendGraph appends graph g of a valid snapshot whose items are in the
// given clusters, with ref from clusterRefs.
func appendGraph(b []byte, g *Graph, cluster []uint16, ref []int64) []byte {
	n := len(cluster)
	var m float32
	for k := range g.weights() {
		m = max(m, g.weight(k))
	}
	grid := newWeightGrid(m)
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(grid.max))
	if len(g.Offsets) == 0 {
		for range n {
			b = append(b, 0)
		}
		return b
	}
	for i := range n {
		b = binary.AppendUvarint(b, uint64(g.Offsets[i+1]-g.Offsets[i]))
	}
	for i := range n {
		for _, v := range g.Nbr[g.Offsets[i]:g.Offsets[i+1]] {
			b = binary.AppendUvarint(b, zigzag(int64(v)-ref[cluster[i]]))
		}
	}
	for i := range n {
		var prev uint8
		for k := g.Offsets[i]; k < g.Offsets[i+1]; k++ {
			q := grid.code(g.weight(int(k)))
			if k == g.Offsets[i] {
				b = append(b, q)
			} else {
				b = append(b, prev-q)
			}
			prev = q
		}
	}
	return b
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloats(b []byte, v []float32) []byte {
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}
