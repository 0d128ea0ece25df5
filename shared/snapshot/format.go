// Encoded format, version 1
//
// This comment is the specification of the bytes Encode writes and Decode
// reads. It is stable: a change to it needs a new FormatVersion, and the
// golden seeds in testdata/fuzz/FuzzDecode pin the current one. All integers
// are little-endian; "uvarint" is encoding/binary's unsigned varint; a
// "string" is a uvarint byte length followed by the bytes.
//
//	offset    size  field
//	0         8     magic "AISLSNAP"
//	8         2     format version, uint16 (1)
//	10        4     header length H, uint32
//	14        H     header (below)
//	14+H      B     body, stored as the header's compression says
//	end-32    32    SHA-256 of every byte before it
//
// Header, in order:
//
//	shop          string
//	region        string
//	built         int64, Unix milliseconds
//	items         uint32  N
//	dims          uint32  D
//	clusters      uint32  C
//	covisit edges uint32  E1
//	bought edges  uint32  E2
//	trending      uint32  T
//	sections      uint32  S
//	quantisation  string, "int8-per-vector-scale"
//	compression   string, "none" or "deflate" (compress/flate, raw DEFLATE)
//	body length   uint64, bytes of the body after decompression
//
// Body, column by column; every count comes from the header except where a
// uvarint says otherwise:
//
//	string bytes    uvarint, the sum of the lengths of all strings in the
//	                four string columns (decoded into one shared block)
//	category count  uvarint K ≤ N
//	ids             N strings
//	titles          N strings
//	categories      K distinct strings, in order of first use
//	cluster labels  C strings
//	category        N uvarints, each item's index into the category table;
//	                decoded items share the table's strings
//	prices          N float32
//	in stock        ⌈N/8⌉ bytes, item i at bit i%8 of byte i/8; unused
//	                bits are zero
//	cluster         N uint16
//	popularity      N float32
//	scales          N float32
//	vectors         N·D int8, item by item
//	centroids       C·D float32, cluster by cluster
//	co-visitation   graph (below) with E1 edges
//	bought together graph (below) with E2 edges
//	trending        T uvarint item numbers, then T float32 scores
//	sections        S times: name string, uvarint length, bytes; names
//	                strictly increasing (byte order)
//
// A graph is stored as:
//
//	max weight  float32 M, the largest weight of the graph (0 if none)
//	row counts  N uvarints, summing to the edge count
//	neighbours  one uvarint per edge, row by row: zigzag(nbr − ref), where
//	            ref is the lowest-numbered item in the row item's cluster
//	            and zigzag(x) = (x << 1) ^ (x >> 63)
//	weights     one byte per edge, row by row: the first edge of a row holds
//	            its weight code q, every later edge the drop (previous q −
//	            q ≥ 0), so a row's codes never increase
//
// Weight codes are logarithmic per graph: q = round(255·log1p(w)/log1p(M))
// and w = expm1(q·log1p(M)/255), except that code 255 decodes to M exactly
// and a graph whose M is below the smallest normal float32 is stored with
// M = 0 and all codes 0. A graph with edges and M > 0 holds at least one
// code 255.
//
// Canonical form. Decode(Encode(x)) is the canonical form of x: weights on
// the code grid above, empty graphs with N+1 zero offsets, sections sorted by
// name, categories interned, Version set. Encode is a fixed point on
// canonical snapshots: Encode(Decode(Encode(x))) equals Encode(x) byte for
// byte under the same EncodeOptions (with deflate, as long as the same
// compress/flate implementation does the compressing). The decoder rejects
// the non-canonical choices that would break this (unsorted sections, a
// weight maximum that no edge reaches, set padding bits); other spellings of
// the same snapshot (overlong varints, another category table order, another
// deflate stream) decode to it, and re-encoding gives the canonical bytes.
//
// Item order. Neighbour numbers are stored relative to the first item of
// the row's cluster, so a snapshot whose items are numbered cluster by
// cluster, most popular first, encodes much smaller (about 194 instead of
// 220 bytes per item deflated for Synthetic(100000, 128, 20, 64, 1)).
// Builders should renumber with Renumber(s, ClusterOrder(s)) before Encode.
//
// Why not msgpack. The header is fixed binary fields rather than a msgpack
// map so that every field is bounds-checked in place with no allocation
// (msgpack decoders can allocate huge buffers for a tiny hostile input),
// and the body is columnar so that deflate sees like next to like.
//
// Checks. Decode checks, in this order and before allocating anything in
// proportion to a count it reads: the magic, the format version, the total length,
// every header count against Limits and against the least body those counts
// need (and, for deflate, against 1032 times the stored body, deflate's
// largest ratio); then the SHA-256 trailer; then it parses the body with a
// bounds-checked cursor, inflating it as it goes (the inflated body is never
// held whole: large columns are inflated straight into their decoded
// arrays), checks that the stream ends exactly at the declared body length,
// and finally runs the same checks as Validate. DecodeVersion first checks
// that the bytes hash to the version asked for, in the same pass over them
// as the trailer.

package snapshot

import (
	"errors"
	"math"
)

// Magic starts every encoded snapshot.
const Magic = "AISLSNAP"

// FormatVersion is the version of the encoded format that Encode writes and
// the only one Decode reads.
const FormatVersion = 1

// Quantisation is the vector quantisation of format version 1: int8 values
// with one float32 scale per vector.
const Quantisation = "int8-per-vector-scale"

// Body compressions.
const (
	CompressionNone    = "none"
	CompressionDeflate = "deflate"
)

// Sentinel errors. Every error from Decode wraps exactly one of ErrCorrupt,
// ErrTooLarge, ErrVersion and ErrChecksum (DecodeVersion adds ErrMismatch); errors from Validate and Encode
// wrap ErrInvalid or ErrTooLarge. Test with errors.Is.
var (
	// ErrCorrupt: the bytes are not a consistent snapshot.
	ErrCorrupt = errors.New("snapshot: corrupt")
	// ErrTooLarge: a count, length or size exceeds a limit.
	ErrTooLarge = errors.New("snapshot: too large")
	// ErrVersion: the format version, quantisation or compression is not
	// one this package reads.
	ErrVersion = errors.New("snapshot: unsupported format")
	// ErrChecksum: the SHA-256 trailer does not match the bytes.
	ErrChecksum = errors.New("snapshot: checksum mismatch")
	// ErrInvalid: a snapshot given to Validate or Encode is inconsistent.
	ErrInvalid = errors.New("snapshot: invalid")
	// ErrMismatch: bytes given to DecodeVersion do not hash to the version
	// asked for; only DecodeVersion returns it.
	ErrMismatch = errors.New("snapshot: bytes do not match their version")
)

// codecError is an error of this package: a message that says what and
// where, wrapping one of the sentinels.
type codecError struct {
	kind error
	msg  string
}

func (e *codecError) Error() string { return "snapshot: " + e.msg }
func (e *codecError) Unwrap() error { return e.kind }

// Limits bound what Decode accepts (and what Encode produces). A zero field
// takes its DefaultLimits value; a field above the format's hard cap is
// lowered to it.
type Limits struct {
	// MaxItems is the most items (hard cap 2^31).
	MaxItems int
	// MaxDims is the most vector dimensions (hard cap 65536).
	MaxDims int
	// MaxClusters is the most clusters (hard cap 65536: cluster numbers
	// are uint16).
	MaxClusters int
	// MaxEdges is the most edges of each graph (hard cap 2^32-1).
	MaxEdges int
	// MaxSections is the most sections (hard cap 65536).
	MaxSections int
	// MaxSectionBytes is the largest section.
	MaxSectionBytes int
	// MaxStringBytes is the longest string: shop, region, item id, title,
	// category, cluster label, section name (hard cap 1 MiB).
	MaxStringBytes int
	// MaxTotalBytes is the largest encoded snapshot, and separately the
	// largest body after decompression (hard cap 1 TiB).
	MaxTotalBytes int
}

// DefaultLimits returns limits that fit a large shop's region in an edge
// isolate: 2 Mi items, 1024 dimensions, 65536 clusters, 64 Mi edges per
// graph, 64 sections of at most 64 MiB, 4 KiB strings, 256 MiB in all.
func DefaultLimits() Limits {
	return Limits{
		MaxItems:        1 << 21,
		MaxDims:         1024,
		MaxClusters:     1 << 16,
		MaxEdges:        1 << 26,
		MaxSections:     64,
		MaxSectionBytes: 64 << 20,
		MaxStringBytes:  4096,
		MaxTotalBytes:   256 << 20,
	}
}

// normalized fills zero fields from DefaultLimits and lowers every field to
// its hard cap, so that products of limits cannot overflow.
func (l Limits) normalized() Limits {
	d := DefaultLimits()
	fix := func(v *int, def, hard int) {
		if *v <= 0 {
			*v = def
		}
		*v = min(*v, hard)
	}
	fix(&l.MaxItems, d.MaxItems, min(1<<31, math.MaxInt))
	fix(&l.MaxDims, d.MaxDims, 1<<16)
	fix(&l.MaxClusters, d.MaxClusters, 1<<16)
	fix(&l.MaxEdges, d.MaxEdges, min(math.MaxUint32, math.MaxInt))
	fix(&l.MaxSections, d.MaxSections, 1<<16)
	fix(&l.MaxTotalBytes, d.MaxTotalBytes, min(1<<40, math.MaxInt))
	fix(&l.MaxSectionBytes, d.MaxSectionBytes, l.MaxTotalBytes)
	fix(&l.MaxStringBytes, d.MaxStringBytes, 1<<20)
	return l
}

// EncodeOptions choose how Encode stores a snapshot.
type EncodeOptions struct {
	// Compress deflates the body (compress/flate).
	Compress bool
	// Level is the flate compression level when Compress is set, 1 to 9;
	// 0 means flate.BestCompression.
	Level int
	// Limits the snapshot must satisfy, so that a decoder with the same
	// limits accepts the output; zero fields take DefaultLimits values.
	Limits Limits
}

// Fixed sizes of the format.
const (
	prefixLen   = len(Magic) + 2 + 4 // magic, version, header length
	trailerLen  = 32                 // SHA-256
	deflateMax  = 1032               // largest DEFLATE expansion ratio
	deflateSlop = 1024
)
