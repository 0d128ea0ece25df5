package rank

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SegmentsSection is the snapshot section holding visitor segments.
const SegmentsSection = "segments"

// Segments are groups of past sessions with similar profiles: a centroid in
// the item-vector space, a label, and the items most characteristic of the
// group, for visitors the edge knows little about yet.
type Segments struct {
	Dims      int
	Centroids []float32 // len(Labels)*Dims
	Labels    []string
	Items     [][]uint32 // per segment, most characteristic first
}

// Limits on a segments section.
const (
	maxSegments     = 1024
	maxSegmentItems = 1000
	maxSegmentLabel = 256
)

var errSegments = errors.New("rank: segments section")

// Marshal encodes s: uvarint count, uvarint dims, count*dims float32
// centroids, then per segment a uvarint-length label and a uvarint count of
// uvarint item numbers.
func (s *Segments) Marshal() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(s.Labels)))
	b = binary.AppendUvarint(b, uint64(s.Dims))
	for _, c := range s.Centroids {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(c))
	}
	for i, l := range s.Labels {
		b = binary.AppendUvarint(b, uint64(len(l)))
		b = append(b, l...)
		b = binary.AppendUvarint(b, uint64(len(s.Items[i])))
		for _, it := range s.Items[i] {
			b = binary.AppendUvarint(b, uint64(it))
		}
	}
	return b
}

// UnmarshalSegments decodes a segments section for a snapshot of n items
// with dims-long vectors, checking every count before it allocates.
func UnmarshalSegments(b []byte, n, dims int) (*Segments, error) {
	fail := func(format string, a ...any) (*Segments, error) {
		return nil, fmt.Errorf("%w: %s", errSegments, fmt.Sprintf(format, a...))
	}
	off := 0
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(b[off:])
		if k <= 0 {
			return 0, false
		}
		off += k
		return v, true
	}
	count, ok1 := uv()
	d, ok2 := uv()
	if !ok1 || !ok2 {
		return fail("truncated header")
	}
	if count > maxSegments {
		return fail("%d segments, limit %d", count, maxSegments)
	}
	if int(d) != dims {
		return fail("%d dimensions, the snapshot has %d", d, dims)
	}
	k := int(count)
	if k*dims*4 > len(b)-off {
		return fail("truncated centroids")
	}
	s := &Segments{Dims: dims, Centroids: make([]float32, k*dims), Labels: make([]string, k), Items: make([][]uint32, k)}
	for i := range s.Centroids {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fail("centroid value not finite")
		}
		s.Centroids[i] = f
		off += 4
	}
	for i := range k {
		l, ok := uv()
		if !ok || l > maxSegmentLabel || int(l) > len(b)-off {
			return fail("segment %d: bad label", i)
		}
		s.Labels[i] = string(b[off : off+int(l)])
		off += int(l)
		m, ok := uv()
		if !ok || m > maxSegmentItems || int(m) > len(b)-off {
			return fail("segment %d: bad item count", i)
		}
		items := make([]uint32, m)
		for j := range items {
			v, ok := uv()
			if !ok || v >= uint64(n) {
				return fail("segment %d item %d: outside the catalogue", i, j)
			}
			items[j] = uint32(v)
		}
		s.Items[i] = items
	}
	if off != len(b) {
		return fail("%d trailing bytes", len(b)-off)
	}
	return s, nil
}
