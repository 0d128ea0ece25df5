package snapshot

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"unsafe"

	"compress/flate"
)

// Decode checks and decodes an encoded snapshot under lim (zero fields take
// DefaultLimits values). It returns the whole snapshot or an error wrapping
// ErrCorrupt, ErrTooLarge, ErrVersion or ErrChecksum that says what is wrong
// and where; it never returns part of a snapshot and never panics. Decode
// allocates nothing in proportion to the counts it reads before checking
// them against lim and against the bytes that could hold them. The result
// holds no reference to b; its Version is the hex SHA-256 of b.
func Decode(b []byte, lim Limits) (*Snapshot, error) {
	return DecodeWith(b, DecodeOptions{Limits: lim})
}

// DecodeVersion is Decode for bytes that must hash to version, the hex
// SHA-256 they were fetched under: when they do not, it returns an error
// wrapping ErrMismatch (corruption in transit, or a source serving the wrong
// bytes under a name) before reading anything else. It hashes b once for
// both that check and the trailer's, where checking the version first and
// then calling Decode would hash a large snapshot twice.
func DecodeVersion(b []byte, lim Limits, version string) (*Snapshot, error) {
	if version == "" {
		return nil, &codecError{kind: ErrMismatch, msg: "no version to check the bytes against"}
	}
	return DecodeWith(b, DecodeOptions{Limits: lim, Version: version})
}

// DecodeOptions tune DecodeWith and DecodeReader.
type DecodeOptions struct {
	// Limits bound what is accepted; zero fields take DefaultLimits values.
	Limits Limits
	// Version, when set, is the hex SHA-256 the bytes must have, as for
	// DecodeVersion.
	Version string
	// Inflate, when set, replaces compress/flate's NewReader for deflate
	// bodies: an edge can plug in a faster implementation of the same
	// format. It must read r only as far as the end of the stream and
	// report corrupt input as an error; the decoder still checks the
	// stream's length and that nothing follows it.
	Inflate func(r io.Reader) io.ReadCloser
	// NewHasher, when set, replaces crypto/sha256 (NewHasher): it returns
	// a Hasher for a snapshot of n bytes. A Workers isolate hands the
	// bytes to the runtime's native digest, several times faster than Go
	// under Wasm.
	NewHasher func(n int) Hasher
	// CompactWeights decodes graph weights as their one-byte codes (see
	// Graph): the same weights in a quarter of the memory, for an edge
	// that only ranks with them.
	CompactWeights bool
}

// Hasher computes the two sums a snapshot of a known length n is checked
// with while its bytes go by: the decoder writes all n bytes to it in
// order, in chunks, then asks for the SHA-256 of the first n-32 bytes (the
// trailer's input; of nothing when n < 32) and of all n (the version).
type Hasher interface {
	Write(p []byte)
	Sums() (prefix, whole [sha256.Size]byte, err error)
}

// NewHasher returns a crypto/sha256 Hasher for n bytes.
func NewHasher(n int) Hasher { return &goHasher{h: sha256.New(), cut: max(0, n-trailerLen)} }

type goHasher struct {
	h        hash.Hash
	cut, off int
	prefix   [sha256.Size]byte
}

func (g *goHasher) Write(p []byte) {
	if g.off < g.cut && g.off+len(p) >= g.cut {
		k := g.cut - g.off
		g.h.Write(p[:k])
		g.h.Sum(g.prefix[:0])
		g.off += k
		p = p[k:]
	}
	g.h.Write(p)
	g.off += len(p)
}

func (g *goHasher) Sums() (prefix, whole [sha256.Size]byte, err error) {
	if g.cut == 0 {
		sha256.New().Sum(g.prefix[:0])
	}
	g.h.Sum(whole[:0])
	return g.prefix, whole, nil
}

// DecodeWith is Decode with options.
func DecodeWith(b []byte, opt DecodeOptions) (*Snapshot, error) {
	return decode(bytes.NewReader(b), len(b), b, opt)
}

// Hashes returns the SHA-256 of b[:len(b)-32] (of nothing when b is
// shorter) and of all of b, in one pass over b: what a Hasher computes.
func Hashes(b []byte) (prefix, whole [sha256.Size]byte) {
	h := sha256.New()
	cut := max(0, len(b)-trailerLen)
	h.Write(b[:cut])
	h.Sum(prefix[:0])
	h.Write(b[cut:])
	h.Sum(whole[:0])
	return prefix, whole
}

// DecodeReader is DecodeWith for the n bytes r yields, decoded while they
// arrive, so that a fetched snapshot is never held whole: the bytes are
// hashed as they are read, the header is checked as soon as it is in, and
// the body is inflated and parsed as it streams. It returns a snapshot only
// once all n bytes have been read and the version and trailer checks have
// passed, and reports errors in the order DecodeWith does (a version
// mismatch, then the header, the checksum, the body): on an error it still
// reads the rest of the n bytes to tell which. If r fails or ends before n
// bytes, the error is r's, wrapped as ErrMismatch when opt.Version is set
// (the bytes asked for did not arrive) and as ErrCorrupt otherwise.
func DecodeReader(r io.Reader, n int, opt DecodeOptions) (*Snapshot, error) {
	return decode(r, n, nil, opt)
}

// decode is DecodeReader. When the input is held whole (whole, the n bytes
// r reads), the body is parsed in place and the inflater reads it as a
// *bytes.Reader, the type it reads fastest.
func decode(r io.Reader, n int, whole []byte, opt DecodeOptions) (*Snapshot, error) {
	lim, want := opt.Limits.normalized(), opt.Version
	if n < 0 {
		return nil, &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("length %d", n)}
	}
	newHasher := opt.NewHasher
	if newHasher == nil {
		newHasher = NewHasher
	}
	in := &streamIn{r: r, n: n, h: newHasher(n)}
	var head []byte // the prefix and header
	// finish reads what is left, checks the sums, and decides which error
	// to report: a version mismatch first, then err from the header, the
	// trailer, then err from the body.
	finish := func(err error, header bool) (string, error) {
		var trailer [trailerLen]byte
		in.end = max(in.pos, in.n-trailerLen)
		in.discard()
		in.end = in.n
		switch {
		case in.n < trailerLen:
			in.discard() // all of a short input is hashed
		case in.pos == in.n: // a short input, read whole as the head
			copy(trailer[:], head[len(head)-trailerLen:])
		case in.err == nil:
			in.full(trailer[:])
		}
		if in.err != nil {
			kind := ErrCorrupt
			if want != "" {
				kind = ErrMismatch
			}
			return "", &codecError{kind: kind, msg: fmt.Sprintf("read: after %d of %d bytes: %v", in.pos, in.n, in.err)}
		}
		prefix, whole, herr := in.h.Sums()
		if herr != nil {
			return "", &codecError{kind: ErrMismatch, msg: fmt.Sprintf("hash: %v", herr)}
		}
		version := hex.EncodeToString(whole[:])
		if want != "" && version != want {
			return "", &codecError{kind: ErrMismatch, msg: fmt.Sprintf("%d bytes hash to %.12s, not to the version %.12s asked for", n, version, want)}
		}
		if err != nil && header {
			return "", err
		}
		if n < trailerLen || !bytes.Equal(prefix[:], trailer[:]) {
			return "", &codecError{kind: ErrChecksum, msg: fmt.Sprintf("checksum: the SHA-256 of the first %d bytes does not match the trailer", n-trailerLen)}
		}
		return version, err
	}

	// The fixed prefix, then as much of the header as the limits let a
	// valid one have.
	head = make([]byte, min(n, prefixLen))
	if n < prefixLen+trailerLen {
		head = make([]byte, n) // too short to be a snapshot: read it whole
	}
	in.end = len(head)
	in.full(head)
	if in.err == nil && len(head) == prefixLen && n >= prefixLen+trailerLen && n <= lim.MaxTotalBytes {
		hlen := uint64(binary.LittleEndian.Uint32(head[len(Magic)+2:]))
		if hlen <= uint64(n-prefixLen-trailerLen) {
			k := min(int(hlen), maxHeaderLen(lim))
			head = append(head, make([]byte, k)...)
			in.end = prefixLen + k
			in.full(head[prefixLen:])
		}
	}
	if in.err != nil {
		_, err := finish(nil, true)
		return nil, err
	}
	h, err := readHeaderPrefix(head, n, lim)
	if err != nil {
		if want == "" || n > lim.MaxTotalBytes {
			return nil, err
		}
		_, err = finish(err, true)
		return nil, err
	}
	in.end = n - trailerLen

	// The body is parsed as it is inflated, so the inflated body is never
	// held whole: only the decoded columns are allocated.
	c := cursor{size: h.bodyLen, r: in}
	var src io.Reader = in
	held := func() int { return in.in() } // stored body bytes not yet read
	if whole != nil {
		// Hash the body now, and read it in place.
		body := whole[in.pos:in.end]
		for off := 0; off < len(body); off += hashChunk {
			in.h.Write(body[off:min(off+hashChunk, len(body))])
		}
		in.pos = in.end
		if _, err := r.(*bytes.Reader).Seek(int64(in.end), io.SeekStart); err != nil {
			return nil, err // cannot happen
		}
		c = cursor{b: body, size: len(body)}
		br := bytes.NewReader(body)
		src, held = br, br.Len
	} else {
		if h.deflate {
			// Inflaters take a *bufio.Reader as their input as it is
			// (klauspost/compress has a loop specialised for it). It
			// reads ahead only as far as the body's end, so what it
			// holds is still stored body.
			br := bufio.NewReaderSize(in, min(h.bodyLen, streamWindow))
			src, held = br, func() int { return in.in() + br.Buffered() }
		}
	}
	var fr io.ReadCloser
	if h.deflate {
		if opt.Inflate != nil {
			fr = opt.Inflate(src)
		} else {
			fr = flate.NewReader(src)
		}
		defer fr.Close()
		c = cursor{size: h.bodyLen, r: io.LimitReader(fr, int64(h.bodyLen))}
	}
	if c.r != nil {
		c.buf = make([]byte, min(h.bodyLen, streamWindow))
	}
	s, err := decodeBody(&c, &h, lim, opt.CompactWeights)
	if err == nil && h.deflate {
		var one [1]byte
		switch k, rerr := io.ReadFull(fr, one[:]); {
		case k > 0:
			err = &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("body: inflates to more than the %d bytes the header declares", h.bodyLen)}
		case !errors.Is(rerr, io.EOF):
			err = &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("body: deflate: %v", rerr)}
		case held() > 0:
			err = &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("body: %d bytes after the deflate stream", held())}
		}
	}
	version, err := finish(err, false)
	if err != nil {
		return nil, err
	}
	if err := validate(s, lim, ErrCorrupt); err != nil {
		return nil, err
	}
	s.Version = version
	s.checked = true
	return s, nil
}

// hashChunk is how much of a body held whole goes to the Hasher at a time.
const hashChunk = 1 << 20

// maxHeaderLen is the longest header lim lets through: two strings, the
// built time, the counts, two short names and the body length.
func maxHeaderLen(lim Limits) int {
	return 2*(binary.MaxVarintLen64+lim.MaxStringBytes) + 8 + 7*4 + 2*(binary.MaxVarintLen64+64) + 8
}

// streamIn reads the input's n bytes from r, hashing them as they go by,
// and hands them on up to end: the header, the body (to the cursor, or to
// the inflater through a bufio.Reader) and the trailer in turn. It holds
// no buffer of its own, so each byte is copied once on its way in.
type streamIn struct {
	r   io.Reader
	n   int // input length
	h   Hasher
	pos int   // bytes read and hashed
	end int   // bytes that may be read now
	err error // r's failure, or io.ErrUnexpectedEOF if r ended early
}

// in returns the bytes left before end.
func (s *streamIn) in() int { return s.end - s.pos }

func (s *streamIn) Read(p []byte) (int, error) {
	if s.pos >= s.end {
		return 0, io.EOF
	}
	if s.err != nil {
		return 0, s.err
	}
	k, err := s.r.Read(p[:min(len(p), s.end-s.pos)])
	k = max(0, min(k, s.end-s.pos)) // however r behaves
	if k > 0 {
		s.h.Write(p[:k])
		s.pos += k
	}
	if err != nil && s.pos < s.n {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		s.err = err
		if k == 0 {
			return 0, err
		}
	}
	return k, nil
}

// full fills p, or sets err.
func (s *streamIn) full(p []byte) {
	if _, err := io.ReadFull(s, p); err != nil && s.err == nil {
		s.err = err
	}
}

// discard skips to end.
func (s *streamIn) discard() {
	if s.in() <= 0 {
		return
	}
	buf := make([]byte, min(s.in(), streamWindow))
	for s.in() > 0 && s.err == nil {
		s.full(buf[:min(len(buf), s.in())])
	}
}

// streamWindow is how much of an inflating body the decoder buffers.
const streamWindow = 64 << 10

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
	return readHeaderPrefix(b, len(b), lim)
}

// readHeaderPrefix is readHeader for an input of total bytes of which b
// holds the start: at least the fixed prefix and the header, or as much of
// the header as maxHeaderLen allows (or all of the input when it is
// shorter than that).
func readHeaderPrefix(b []byte, total int, lim Limits) (header, error) {
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
			return corrupt("truncated: %d bytes, want at least %d", total, prefixLen+trailerLen)
		}
		return corrupt("magic: not an Aisle snapshot (want %q at byte 0)", Magic)
	}
	if total < len(Magic)+2 {
		return corrupt("truncated: %d bytes, want at least %d", total, prefixLen+trailerLen)
	}
	if v := binary.LittleEndian.Uint16(b[len(Magic):]); v != FormatVersion {
		return unsupported("format version %d at byte %d; this decoder reads version %d", v, len(Magic), FormatVersion)
	}
	if total > lim.MaxTotalBytes {
		return tooLarge("%d bytes exceed limit %d", total, lim.MaxTotalBytes)
	}
	if total < prefixLen+trailerLen {
		return corrupt("truncated: %d bytes, want at least %d", total, prefixLen+trailerLen)
	}
	hlen := uint64(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
	if room := uint64(total - prefixLen - trailerLen); hlen > room {
		return corrupt("header: length %d at byte %d exceeds the %d bytes before the checksum", hlen, len(Magic)+2, room)
	}
	c := cursor{b: b[:min(len(b), prefixLen+int(hlen))], off: prefixLen, size: prefixLen + int(hlen)}
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
	if c.off != c.size {
		return corrupt("header: %d unused bytes at byte %d", c.size-c.off, c.off)
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
	stored := uint64(total - trailerLen - h.bodyStart)
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

// cursor reads a body front to back; every read is bounds-checked against
// the declared body length. The body is either all in b (r is nil) or
// streamed from r (the inflater) through the window buf, b being the part
// of buf not yet read.
type cursor struct {
	b    []byte
	off  int       // next byte of b
	pos  int       // body bytes before b[0]
	size int       // declared body length
	r    io.Reader // the rest of the body, or nil
	buf  []byte
	err  error // why r stopped early
}

// at returns the body offset of the next byte.
func (c *cursor) at() int { return c.pos + c.off }

// left returns the body bytes not yet read.
func (c *cursor) left() int { return c.size - c.at() }

// ensure makes the next n ≤ left() bytes available in b[off:], reading
// from r (and growing the window) as needed.
func (c *cursor) ensure(n int) bool {
	have := len(c.b) - c.off
	if n <= have {
		return true
	}
	if c.r == nil || c.err != nil {
		return false
	}
	if n > len(c.buf) {
		c.buf = make([]byte, n)
	}
	copy(c.buf, c.b[c.off:])
	c.pos += c.off
	want := min(len(c.buf), c.size-c.pos)
	k, err := io.ReadAtLeast(c.r, c.buf[have:want], n-have)
	c.b, c.off = c.buf[:have+k], 0
	if err != nil {
		c.err = err
		return false
	}
	return true
}

// take returns the next n bytes, or false if fewer are left. The bytes are
// valid until the next read.
func (c *cursor) take(n int) ([]byte, bool) {
	if n < 0 || n > c.left() || !c.ensure(n) {
		return nil, false
	}
	v := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return v, true
}

// read fills dst with the next len(dst) bytes, or returns false if fewer
// are left. Large columns go straight from the inflater into dst.
func (c *cursor) read(dst []byte) bool {
	if len(dst) > c.left() {
		return false
	}
	k := copy(dst, c.b[c.off:])
	c.off += k
	if k == len(dst) {
		return true
	}
	if c.r == nil || c.err != nil {
		return false
	}
	c.pos += c.off
	c.b, c.off = c.buf[:0], 0
	m, err := io.ReadFull(c.r, dst[k:])
	c.pos += m
	if err != nil {
		c.err = err
		return false
	}
	return true
}

// uvarint reads an unsigned varint.
func (c *cursor) uvarint() (uint64, bool) {
	if c.off+1 < len(c.b) {
		// One or two bytes, the common cases, without a call.
		b0 := c.b[c.off]
		if b0 < 0x80 {
			c.off++
			return uint64(b0), true
		}
		if b1 := c.b[c.off+1]; b1 < 0x80 && b1 != 0 {
			c.off += 2
			return uint64(b0&0x7f) | uint64(b1)<<7, true
		}
	}
	return c.uvarintSlow()
}

func (c *cursor) uvarintSlow() (uint64, bool) {
	if c.off < len(c.b) && c.b[c.off] < 0x80 {
		v := c.b[c.off]
		c.off++
		return uint64(v), true
	}
	if c.left() <= 0 || !c.ensure(min(binary.MaxVarintLen64, c.left())) {
		return 0, false
	}
	v, k := binary.Uvarint(c.b[c.off:min(len(c.b), c.off+binary.MaxVarintLen64)])
	if k <= 0 {
		return 0, false
	}
	c.off += k
	return v, true
}

// bodyDecoder decodes a body; its errors say where in the body they are.
type bodyDecoder struct {
	c       *cursor
	lim     Limits
	compact bool // DecodeOptions.CompactWeights
}

func (d *bodyDecoder) fail(kind error, format string, a ...any) error {
	if err := d.c.err; err != nil {
		// The inflater stopped early: that, not the column being read,
		// is what is wrong.
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("body: inflates to %d bytes, the header declares %d", d.c.at()+len(d.c.b)-d.c.off, d.c.size)}
		}
		return &codecError{kind: ErrCorrupt, msg: fmt.Sprintf("body: deflate: %v", err)}
	}
	return &codecError{kind: kind, msg: fmt.Sprintf(format, a...) + fmt.Sprintf(" (body byte %d)", d.c.at())}
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

// chunks reads the next n values of size bytes each, a window at a time,
// calling f with the raw bytes of values first, first+1, ….
func (d *bodyDecoder) chunks(n, size int, what string, f func(raw []byte, first int) error) error {
	if n*size > d.c.left() {
		return d.corrupt("%s: %d bytes needed, %d left", what, n*size, d.c.left())
	}
	step := max(1, streamWindow/size)
	for i := 0; i < n; i += step {
		k := min(step, n-i)
		raw, ok := d.c.take(k * size)
		if !ok {
			return d.corrupt("%s: %d bytes needed, %d left", what, k*size, d.c.left())
		}
		if err := f(raw, i); err != nil {
			return err
		}
	}
	return nil
}

// floats decodes the next n float32 values.
func (d *bodyDecoder) floats(n int, what string) ([]float32, error) {
	if 4*n > d.c.left() {
		return nil, d.corrupt("%s: %d bytes needed, %d left", what, 4*n, d.c.left())
	}
	v := make([]float32, n)
	err := d.chunks(n, 4, what, func(raw []byte, first int) error {
		for j := range len(raw) / 4 {
			v[first+j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// stringColumn is a column of strings in the body.
type stringColumn struct {
	dst  []string
	what string // "item %d id"
}

// strings decodes the string columns into one shared block, allocated
// once at its declared size and never changed after a string is sliced
// from it.
func (d *bodyDecoder) strings(cols []stringColumn, total int) error {
	block := make([]byte, total)
	all := unsafe.String(unsafe.SliceData(block), len(block))
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
			if l > uint64(d.c.left()) {
				return d.corrupt(col.what+": length %d exceeds the %d bytes left", i, l, d.c.left())
			}
			if int(l) > total-fill {
				return d.corrupt(col.what+": string bytes exceed the %d declared", i, total)
			}
			if !d.c.read(block[fill : fill+int(l)]) {
				return d.corrupt(col.what+": truncated", i)
			}
			col.dst[i] = all[fill : fill+int(l)]
			fill += int(l)
		}
	}
	if fill != total {
		return d.corrupt("strings: %d bytes, %d declared", fill, total)
	}
	return nil
}

// decodeBody decodes a body whose counts h declares.
func decodeBody(c *cursor, h *header, lim Limits, compact bool) (*Snapshot, error) {
	d := &bodyDecoder{c: c, lim: lim, compact: compact}
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
	nb := (n + 7) / 8
	if nb > d.c.left() {
		return nil, d.corrupt("in-stock flags: %d bytes needed, %d left", nb, d.c.left())
	}
	it.InStock = make([]bool, n)
	err = d.chunks(nb, 1, "in-stock flags", func(raw []byte, first int) error {
		for j, b := range raw {
			byteAt := first + j
			if byteAt == nb-1 && n%8 != 0 && b>>(n%8) != 0 {
				return d.corrupt("in-stock flags: padding bits set")
			}
			for bit := range min(8, n-8*byteAt) {
				it.InStock[8*byteAt+bit] = b&(1<<bit) != 0
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if 2*n > d.c.left() {
		return nil, d.corrupt("clusters: %d bytes needed, %d left", 2*n, d.c.left())
	}
	it.Cluster = make([]uint16, n)
	err = d.chunks(n, 2, "clusters", func(raw []byte, first int) error {
		for j := range len(raw) / 2 {
			c := binary.LittleEndian.Uint16(raw[2*j:])
			if int(c) >= k {
				return d.corrupt("item %d cluster: %d, want below %d clusters", first+j, c, k)
			}
			it.Cluster[first+j] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if it.Popularity, err = d.floats(n, "popularity"); err != nil {
		return nil, err
	}
	if s.Scales, err = d.floats(n, "scales"); err != nil {
		return nil, err
	}
	if n*dims > d.c.left() {
		return nil, d.corrupt("vectors: %d bytes needed, %d left", n*dims, d.c.left())
	}
	s.Vectors = make([]int8, n*dims)
	if !d.c.read(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s.Vectors))), len(s.Vectors))) {
		return nil, d.corrupt("vectors: truncated")
	}
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
		if l > uint64(d.c.left()) {
			return nil, d.corrupt("section %q: %d bytes, %d left", sec.Name, l, d.c.left())
		}
		sec.Data = make([]byte, l)
		if !d.c.read(sec.Data) {
			return nil, d.corrupt("section %q: truncated", sec.Name)
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
	c := d.c
	for i := range n {
		base := ref[cluster[i]]
		for k := g.Offsets[i]; k < g.Offsets[i+1]; k++ {
			// cursor.uvarint's one- and two-byte cases inline: under Wasm
			// a call per edge is a large part of decoding the graphs.
			var u uint64
			if off := c.off; off+1 < len(c.b) && c.b[off] < 0x80 {
				u = uint64(c.b[off])
				c.off = off + 1
			} else if off+1 < len(c.b) && c.b[off+1] < 0x80 && c.b[off+1] != 0 {
				u = uint64(c.b[off]&0x7f) | uint64(c.b[off+1])<<7
				c.off = off + 2
			} else {
				var ok bool
				if u, ok = c.uvarint(); !ok {
					return d.corrupt("%s graph: row %d neighbour %d: truncated or overlong varint", name, i, k-g.Offsets[i])
				}
			}
			v := int64(u>>1) ^ -int64(u&1)
			if v < -base || v >= int64(n)-base {
				return d.corrupt("%s graph: row %d neighbour %d: item %d%+d outside [0, %d)", name, i, k-g.Offsets[i], base, v, n)
			}
			g.Nbr[k] = uint32(base + v)
		}
	}
	if e > d.c.left() {
		return d.corrupt("%s graph weights: %d bytes needed, %d left", name, e, d.c.left())
	}
	grid := newWeightGrid(m)
	if d.compact {
		g.Code = make([]uint8, e)
		g.Levels = new([256]float32)
		*g.Levels = grid.value
	} else {
		g.Weight = make([]float32, e)
	}
	top := uint8(0)
	row := 0 // the row of the next edge
	var prev uint8
	err = d.chunks(e, 1, name+" graph weights", func(codes []byte, first int) error {
		for j, q := range codes {
			k := uint32(first + j)
			for k >= g.Offsets[row+1] {
				row++
			}
			if k > g.Offsets[row] {
				if q > prev {
					return d.corrupt("%s graph: row %d neighbour %d: weight drop %d below code %d", name, row, k-g.Offsets[row], q, prev)
				}
				q = prev - q
			}
			top = max(top, q)
			if g.Code != nil {
				g.Code[k] = q
			} else {
				g.Weight[k] = grid.value[q]
			}
			prev = q
		}
		return nil
	})
	if err != nil {
		return err
	}
	if m == 0 && top != 0 {
		return d.corrupt("%s graph: weight code %d with max weight 0", name, top)
	}
	if m != 0 && top != 255 {
		return d.corrupt("%s graph: no edge holds the max weight (top code %d)", name, top)
	}
	return nil
}
