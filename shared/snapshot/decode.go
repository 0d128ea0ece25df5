package snapshot

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Decode checks and decodes an encoded snapshot under lim (zero fields take
// DefaultLimits values). It returns the whole snapshot or an error wrapping
// ErrCorrupt, ErrTooLarge, ErrVersion or ErrChecksum that says what is wrong
// and where; it never returns part of a snapshot and never panics. Decode
// allocates nothing in proportion to the counts it reads before checking
// them against lim and against the bytes that could hold them. The result
// holds no reference to b; its Version is the hex SHA-256 of b.
func Decode(b []byte, lim Limits) (*Snapshot, error) {
	lim = lim.normalized()
	h, err := readHeader(b, lim)
	if err != nil {
		return nil, err
	}

	hash := sha256.New()
	hash.Write(b[:len(b)-trailerLen])
	var sum [sha256.Size]byte
	if !bytes.Equal(hash.Sum(sum[:0]), b[len(b)-trailerLen:]) {
		return nil, &codecError{kind: ErrChecksum, msg: fmt.Sprintf("checksum: the SHA-256 of the first %d bytes does not match the trailer", len(b)-trailerLen)}
	}
	hash.Write(b[len(b)-trailerLen:])
	version := hex.EncodeToString(hash.Sum(sum[:0]))

	body := b[h.bodyStart : len(b)-trailerLen]
	if h.deflate {
		if body, err = inflate(body, h.bodyLen); err != nil {
			return nil, err
		}
	}
	s, err := decodeBody(body, &h, lim)
	if err != nil {
		return nil, err
	}
	if err := validate(s, lim, ErrCorrupt); err != nil {
		return nil, err
	}
	s.Version = version
	return s, nil
}

// header is the parsed fixed part of an encoded snapshot; its counts have
// been checked against the limits and the body size.
type header struct {
	shop, region []byte // in the input
	built        int64
	bodyLen      int // after decompression
	bodyStart    int // offset of the stored body in the input
	deflate      bool

	items, dims, clusters int
	edges1, edges2        int
	trending, sections    int
}

// readHeader checks the magic, version and header of b and the counts the
// header declares; it allocates nothing.
func readHeader(b []byte, lim Limits) (header, error) {
	var h header
	corrupt := func(format string, a ...any) (header, error) {
		return h, &codecError{kind: ErrCorrupt, msg: fmt.Sprintf(format, a...)}
	}
	tooLarge := func(format string, a ...any) (header, error) {
		return h, &codecError{kind: ErrTooLarge, msg: fmt.Sprintf(format, a...)}
	}
	unsupported := func(format string, a ...any) (header, error) {
		return h, &codecError{kind: ErrVersion, msg: fmt.Sprintf(format, a...)}
	}

	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		if len(b) < len(Magic) && string(b) == Magic[:len(b)] {
			return corrupt("truncated: %d bytes, want at least %d", len(b), prefixLen+trailerLen)
		}
		return corrupt("magic: not an Aisle snapshot (want %q at byte 0)", Magic)
	}
	if len(b) < len(Magic)+2 {
		return corrupt("truncated: %d bytes, want at least %d", len(b), prefixLen+trailerLen)
	}
	if v := binary.LittleEndian.Uint16(b[len(Magic):]); v != FormatVersion {
		return unsupported("format version %d at byte %d; this decoder reads version %d", v, len(Magic), FormatVersion)
	}
	if len(b) > lim.MaxTotalBytes {
		return tooLarge("%d bytes exceed limit %d", len(b), lim.MaxTotalBytes)
	}
	if len(b) < prefixLen+trailerLen {
		return corrupt("truncated: %d bytes, want at least %d", len(b), prefixLen+trailerLen)
	}
	hlen := uint64(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
	if room := uint64(len(b) - prefixLen - trailerLen); hlen > room {
		return corrupt("header: length %d at byte %d exceeds the %d bytes before the checksum", hlen, len(Magic)+2, room)
	}
	c := cursor{b: b[:prefixLen+int(hlen)], off: prefixLen}
	str := func(name string, max int) ([]byte, error) {
		at := c.off
		l, ok := c.uvarint()
		if !ok {
			return nil, &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("header %s: truncated length at byte %d", name, at)}
		}
		if l > uint64(max) {
			return nil, &codecError{kind: ErrTooLarge, msg: fmt.Sprintf("header %s: length %d at byte %d exceeds limit %d", name, l, at, max)}
		}
		v, ok := c.take(int(l))
		if !ok {
			return nil, &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("header %s: length %d at byte %d exceeds the header", name, l, at)}
		}
		return v, nil
	}
	var err error
	if h.shop, err = str("shop", lim.MaxStringBytes); err != nil {
		return h, err
	}
	if h.region, err = str("region", lim.MaxStringBytes); err != nil {
		return h, err
	}
	built, ok := c.take(8)
	if !ok {
		return corrupt("header: truncated at byte %d (built)", c.off)
	}
	h.built = int64(binary.LittleEndian.Uint64(built))
	counts, ok := c.take(7 * 4)
	if !ok {
		return corrupt("header: truncated at byte %d (counts)", c.off)
	}
	var n [7]uint64
	for i := range n {
		n[i] = uint64(binary.LittleEndian.Uint32(counts[4*i:]))
	}
	countsAt := c.off - 7*4
	quant, err := str("quantisation", 64)
	if err != nil {
		return h, err
	}
	comp, err := str("compression", 64)
	if err != nil {
		return h, err
	}
	bl, ok := c.take(8)
	if !ok {
		return corrupt("header: truncated at byte %d (body length)", c.off)
	}
	bodyLen := binary.LittleEndian.Uint64(bl)
	if c.off != len(c.b) {
		return corrupt("header: %d unused bytes at byte %d", len(c.b)-c.off, c.off)
	}
	if string(quant) != Quantisation {
		return unsupported("header: quantisation %q; this decoder reads %q", quant, Quantisation)
	}
	switch string(comp) {
	case CompressionNone:
	case CompressionDeflate:
		h.deflate = true
	default:
		return unsupported("header: compression %q; this decoder reads %q and %q", comp, CompressionNone, CompressionDeflate)
	}

	for i, l := range [...]struct {
		name  string
		limit int
	}{
		{"item count", lim.MaxItems},
		{"dims", lim.MaxDims},
		{"cluster count", lim.MaxClusters},
		{"co-visitation edge count", lim.MaxEdges},
		{"bought-together edge count", lim.MaxEdges},
		{"trending count", lim.MaxItems},
		{"section count", lim.MaxSections},
	} {
		if n[i] > uint64(l.limit) {
			return tooLarge("header: %s %d at byte %d exceeds limit %d", l.name, n[i], countsAt+4*i, l.limit)
		}
	}
	if bodyLen > uint64(lim.MaxTotalBytes) {
		return tooLarge("header: body length %d exceeds limit %d", bodyLen, lim.MaxTotalBytes)
	}
	items, dims, clusters, e1, e2, trending, sections := n[0], n[1], n[2], n[3], n[4], n[5], n[6]
	if trending > items {
		return corrupt("header: trending count %d exceeds item count %d", trending, items)
	}
	// The least body these counts need; no term can overflow under the
	// hard caps of Limits.
	need := 1 + items*(1+1+1+4+2+4+4+dims+1+1) + (items+7)/8 + 1 +
		clusters*(1+4*dims) + 2*4 + 2*(e1+e2) + 5*trending + 3*sections
	if need > bodyLen {
		return corrupt("header: %d items, %d dims, %d clusters, %d+%d edges, %d trending and %d sections need at least %d body bytes; the header declares %d",
			items, dims, clusters, e1, e2, trending, sections, need, bodyLen)
	}
	h.bodyStart = prefixLen + int(hlen)
	stored := uint64(len(b) - trailerLen - h.bodyStart)
	if !h.deflate && stored != bodyLen {
		return corrupt("body: %d bytes stored, the header declares %d", stored, bodyLen)
	}
	if h.deflate && bodyLen > stored*deflateMax+deflateSlop {
		return corrupt("body: the header declares %d bytes, more than %d deflated bytes can hold", bodyLen, stored)
	}
	h.items, h.dims, h.clusters = int(items), int(dims), int(clusters)
	h.edges1, h.edges2, h.trending, h.sections = int(e1), int(e2), int(trending), int(sections)
	h.bodyLen = int(bodyLen)
	return h, nil
}

// inflate decompresses src, which must hold exactly n bytes of DEFLATE
// output and nothing after the stream. The buffer grows with the output
// actually produced, never past n.
func inflate(src []byte, n int) ([]byte, error) {
	corrupt := func(format string, a ...any) ([]byte, error) {
		return nil, &codecError{kind: ErrCorrupt, msg: "body: " + fmt.Sprintf(format, a...)}
	}
	r := bytes.NewReader(src)
	fr := flate.NewReader(r)
	buf := make([]byte, min(n, 4*len(src)+64<<10))
	got := 0
	for {
		k, err := io.ReadFull(fr, buf[got:])
		got += k
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return corrupt("inflates to %d bytes, the header declares %d", got, n)
		}
		if err != nil {
			return corrupt("deflate: %v", err)
		}
		if got == n {
			break
		}
		grown := make([]byte, min(n, 2*len(buf)))
		copy(grown, buf)
		buf = grown
	}
	var one [1]byte
	switch k, err := io.ReadFull(fr, one[:]); {
	case k > 0:
		return corrupt("inflates to more than the %d bytes the header declares", n)
	case !errors.Is(err, io.EOF):
		return corrupt("deflate: %v", err)
	case r.Len() > 0:
		return corrupt("%d bytes after the deflate stream", r.Len())
	}
	return buf, nil
}

// cursor reads a byte slice front to back; every read is bounds-checked.
type cursor struct {
	b   []byte
	off int
}

func (c *cursor) left() int { return len(c.b) - c.off }

// take returns the next n bytes, or false if fewer are left.
func (c *cursor) take(n int) ([]byte, bool) {
	if n < 0 || n > len(c.b)-c.off {
		return nil, false
	}
	v := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return v, true
}

// uvarint reads an unsigned varint.
func (c *cursor) uvarint() (uint64, bool) {
	if c.off < len(c.b) && c.b[c.off] < 0x80 {
		v := c.b[c.off]
		c.off++
		return uint64(v), true
	}
	if c.off >= len(c.b) {
		return 0, false
	}
	v, k := binary.Uvarint(c.b[c.off:])
	if k <= 0 {
		return 0, false
	}
	c.off += k
	return v, true
}

// bodyDecoder decodes a body; its errors say where in the body they are.
type bodyDecoder struct {
	c   cursor
	lim Limits
}

func (d *bodyDecoder) fail(kind error, format string, a ...any) error {
	return &codecError{kind: kind, msg: fmt.Sprintf(format, a...) + fmt.Sprintf(" (body byte %d)", d.c.off)}
}

func (d *bodyDecoder) corrupt(format string, a ...any) error {
	return d.fail(ErrCorrupt, format, a...)
}

// count reads a uvarint that must be below bound.
func (d *bodyDecoder) count(bound int, what string, i int) (int, error) {
	v, ok := d.c.uvarint()
	if !ok {
		return 0, d.corrupt("%s %d: truncated or overlong varint", what, i)
	}
	if v >= uint64(bound) {
		return 0, d.corrupt("%s %d: %d, want below %d", what, i, v, bound)
	}
	return int(v), nil
}

// column returns the next n·size bytes.
func (d *bodyDecoder) column(n, size int, what string) ([]byte, error) {
	v, ok := d.c.take(n * size)
	if !ok {
		return nil, d.corrupt("%s: %d bytes needed, %d left", what, n*size, d.c.left())
	}
	return v, nil
}

// floats decodes the next n float32 values.
func (d *bodyDecoder) floats(n int, what string) ([]float32, error) {
	raw, err := d.column(n, 4, what)
	if err != nil {
		return nil, err
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

// stringColumn is a column of strings in the body.
type stringColumn struct {
	dst  []string
	what string // "item %d id"
}

// strings decodes the string columns into one shared block. The first pass
// checks lengths and copies the bytes; the second slices the block, which
// no longer changes.
func (d *bodyDecoder) strings(cols []stringColumn, total int) error {
	block := make([]byte, total)
	start := d.c.off
	fill := 0
	for _, col := range cols {
		for i := range col.dst {
			l, ok := d.c.uvarint()
			if !ok {
				return d.corrupt(col.what+": truncated length", i)
			}
			if l > uint64(d.lim.MaxStringBytes) {
				return d.fail(ErrTooLarge, col.what+": length %d exceeds limit %d", i, l, d.lim.MaxStringBytes)
			}
			v, ok := d.c.take(int(l))
			if !ok {
				return d.corrupt(col.what+": length %d exceeds the %d bytes left", i, l, d.c.left())
			}
			if len(v) > total-fill {
				return d.corrupt(col.what+": string bytes exceed the %d declared", i, total)
			}
			fill += copy(block[fill:], v)
		}
	}
	if fill != total {
		return d.corrupt("strings: %d bytes, %d declared", fill, total)
	}
	all := unsafe.String(unsafe.SliceData(block), len(block))
	d.c.off = start
	fill = 0
	for _, col := range cols {
		for i := range col.dst {
			l, _ := d.c.uvarint()
			d.c.off += int(l)
			col.dst[i] = all[fill : fill+int(l)]
			fill += int(l)
		}
	}
	return nil
}

// decodeBody decodes a body whose counts h declares.
func decodeBody(body []byte, h *header, lim Limits) (*Snapshot, error) {
	d := &bodyDecoder{c: cursor{b: body}, lim: lim}
	n, dims, k := h.items, h.dims, h.clusters
	s := &Snapshot{Shop: string(h.shop), Region: string(h.region), Built: h.built, Dims: dims}
	it := &s.Items

	total, ok := d.c.uvarint()
	if !ok {
		return nil, d.corrupt("string bytes: truncated")
	}
	if total > uint64(d.c.left()) {
		return nil, d.corrupt("string bytes: %d declared, %d bytes left", total, d.c.left())
	}
	ncat, ok := d.c.uvarint()
	if !ok {
		return nil, d.corrupt("category count: truncated")
	}
	if ncat > uint64(n) {
		return nil, d.corrupt("category count: %d exceeds the %d items", ncat, n)
	}
	it.IDs = make([]string, n)
	it.Titles = make([]string, n)
	cats := make([]string, ncat)
	s.ClusterLabels = make([]string, k)
	if err := d.strings([]stringColumn{
		{it.IDs, "item %d id"},
		{it.Titles, "item %d title"},
		{cats, "category %d"},
		{s.ClusterLabels, "cluster %d label"},
	}, int(total)); err != nil {
		return nil, err
	}

	it.Categories = make([]string, n)
	for i := range n {
		j, err := d.count(len(cats), "item category", i)
		if err != nil {
			return nil, err
		}
		it.Categories[i] = cats[j]
	}
	var err error
	if it.Prices, err = d.floats(n, "prices"); err != nil {
		return nil, err
	}
	stock, err := d.column((n+7)/8, 1, "in-stock flags")
	if err != nil {
		return nil, err
	}
	if n%8 != 0 && stock[len(stock)-1]>>(n%8) != 0 {
		return nil, d.corrupt("in-stock flags: padding bits set")
	}
	it.InStock = make([]bool, n)
	for i := range it.InStock {
		it.InStock[i] = stock[i/8]&(1<<(i%8)) != 0
	}
	raw, err := d.column(n, 2, "clusters")
	if err != nil {
		return nil, err
	}
	it.Cluster = make([]uint16, n)
	for i := range it.Cluster {
		c := binary.LittleEndian.Uint16(raw[2*i:])
		if int(c) >= k {
			return nil, d.corrupt("item %d cluster: %d, want below %d clusters", i, c, k)
		}
		it.Cluster[i] = c
	}
	if it.Popularity, err = d.floats(n, "popularity"); err != nil {
		return nil, err
	}
	if s.Scales, err = d.floats(n, "scales"); err != nil {
		return nil, err
	}
	if raw, err = d.column(n, dims, "vectors"); err != nil {
		return nil, err
	}
	s.Vectors = make([]int8, len(raw))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s.Vectors))), len(s.Vectors)), raw)
	if s.Centroids, err = d.floats(k*dims, "centroids"); err != nil {
		return nil, err
	}
	ref := clusterRefs(it.Cluster, k)
	if err := d.graph(&s.CoVisit, "co-visitation", it.Cluster, ref, h.edges1); err != nil {
		return nil, err
	}
	if err := d.graph(&s.BoughtTogether, "bought-together", it.Cluster, ref, h.edges2); err != nil {
		return nil, err
	}

	s.Trending = make([]uint32, h.trending)
	for j := range s.Trending {
		v, err := d.count(n, "trending", j)
		if err != nil {
			return nil, err
		}
		s.Trending[j] = uint32(v)
	}
	if s.TrendingScore, err = d.floats(h.trending, "trending scores"); err != nil {
		return nil, err
	}

	s.Sections = make([]Section, h.sections)
	for j := range s.Sections {
		sec := &s.Sections[j]
		l, ok := d.c.uvarint()
		if !ok {
			return nil, d.corrupt("section %d name: truncated length", j)
		}
		if l > uint64(lim.MaxStringBytes) {
			return nil, d.fail(ErrTooLarge, "section %d name: length %d exceeds limit %d", j, l, lim.MaxStringBytes)
		}
		name, ok := d.c.take(int(l))
		if !ok {
			return nil, d.corrupt("section %d name: length %d exceeds the %d bytes left", j, l, d.c.left())
		}
		if j > 0 && string(name) <= s.Sections[j-1].Name {
			return nil, d.corrupt("section %d: name %q not after %q (want sorted, unique)", j, name, s.Sections[j-1].Name)
		}
		sec.Name = string(name)
		if l, ok = d.c.uvarint(); !ok {
			return nil, d.corrupt("section %q: truncated length", sec.Name)
		}
		if l > uint64(lim.MaxSectionBytes) {
			return nil, d.fail(ErrTooLarge, "section %q: %d bytes exceed limit %d", sec.Name, l, lim.MaxSectionBytes)
		}
		data, ok := d.c.take(int(l))
		if !ok {
			return nil, d.corrupt("section %q: %d bytes, %d left", sec.Name, l, d.c.left())
		}
		sec.Data = bytes.Clone(data)
		if sec.Data == nil {
			sec.Data = []byte{}
		}
	}
	if d.c.left() != 0 {
		return nil, d.corrupt("%d bytes after the last section", d.c.left())
	}
	return s, nil
}

// graph decodes one graph with e edges into g, for items in the given
// clusters, with ref from clusterRefs.
func (d *bodyDecoder) graph(g *Graph, name string, cluster []uint16, ref []int64, e int) error {
	n := len(cluster)
	raw, err := d.column(1, 4, name+" graph max weight")
	if err != nil {
		return err
	}
	m := math.Float32frombits(binary.LittleEndian.Uint32(raw))
	switch {
	case m != 0 && !(m >= minWeightMax && finite(m)):
		return d.corrupt("%s graph: max weight %v is neither 0 nor a finite normal positive number", name, m)
	case m != 0 && e == 0:
		return d.corrupt("%s graph: max weight %v with no edges", name, m)
	}
	g.Offsets = make([]uint32, n+1)
	sum := 0
	for i := range n {
		c, ok := d.c.uvarint()
		if !ok {
			return d.corrupt("%s graph: row %d: truncated count", name, i)
		}
		if c > uint64(e-sum) {
			return d.corrupt("%s graph: row %d: %d neighbours exceed the %d edges left of %d", name, i, c, e-sum, e)
		}
		sum += int(c)
		g.Offsets[i+1] = uint32(sum)
	}
	if sum != e {
		return d.corrupt("%s graph: rows hold %d edges, the header declares %d", name, sum, e)
	}
	g.Nbr = make([]uint32, e)
	for i := range n {
		for k := g.Offsets[i]; k < g.Offsets[i+1]; k++ {
			u, ok := d.c.uvarint()
			if !ok {
				return d.corrupt("%s graph: row %d neighbour %d: truncated or overlong varint", name, i, k-g.Offsets[i])
			}
			base := ref[cluster[i]]
			v := int64(u>>1) ^ -int64(u&1)
			if v < -base || v >= int64(n)-base {
				return d.corrupt("%s graph: row %d neighbour %d: item %d%+d outside [0, %d)", name, i, k-g.Offsets[i], base, v, n)
			}
			g.Nbr[k] = uint32(base + v)
		}
	}
	codes, err := d.column(e, 1, name+" graph weights")
	if err != nil {
		return err
	}
	grid := newWeightGrid(m)
	g.Weight = make([]float32, e)
	top := uint8(0)
	for i := range n {
		var prev uint8
		for k := g.Offsets[i]; k < g.Offsets[i+1]; k++ {
			q := codes[k]
			if k > g.Offsets[i] {
				if q > prev {
					return d.corrupt("%s graph: row %d neighbour %d: weight drop %d below code %d", name, i, k-g.Offsets[i], q, prev)
				}
				q = prev - q
			}
			top = max(top, q)
			g.Weight[k] = grid.value[q]
			prev = q
		}
	}
	if m == 0 && top != 0 {
		return d.corrupt("%s graph: weight code %d with max weight 0", name, top)
	}
	if m != 0 && top != 255 {
		return d.corrupt("%s graph: no edge holds the max weight (top code %d)", name, top)
	}
	return nil
}
