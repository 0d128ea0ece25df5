package embed

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Binary form of an Embedder, the snapshot section SectionName. All
// integers are unsigned varints unless noted; floats are IEEE-754 binary32,
// little-endian.
//
//	magic      "AEMB"
//	version    1 byte (formatVersion)
//	dims, maxTokens, vocab
//	vocab × (length, UTF-8 bytes)    the vocabulary in id order
//	vocab × float32                  row scales
//	vocab × dims int8                the table, row-major
//
// Every count is checked against its limit and against the bytes left
// before anything is allocated, and trailing bytes are an error.
const (
	// SectionName is the snapshot section that carries the embedder.
	SectionName = "embedder"
	magic       = "AEMB"
	// formatVersion is the binary layout version.
	formatVersion = 1
)

// Marshal returns the binary form of e.
func (e *Embedder) Marshal() []byte {
	size := len(magic) + 1 + 3*binary.MaxVarintLen64 + len(e.scales)*4 + len(e.table)
	for _, t := range e.vocab {
		size += binary.MaxVarintLen64 + len(t)
	}
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = append(b, formatVersion)
	b = binary.AppendUvarint(b, uint64(e.dims))
	b = binary.AppendUvarint(b, uint64(e.maxTokens))
	b = binary.AppendUvarint(b, uint64(len(e.vocab)))
	for _, t := range e.vocab {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	for _, s := range e.scales {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
	}
	for _, q := range e.table {
		b = append(b, byte(q))
	}
	return b
}

// decoder reads the binary form with bounds checks.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) uvarint(what string, limit uint64) (int, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: %s at byte %d: truncated or overlong varint", ErrInvalid, what, d.off)
	}
	if v > limit {
		return 0, fmt.Errorf("%w: %s %d at byte %d exceeds %d", ErrInvalid, what, v, d.off, limit)
	}
	d.off += n
	return int(v), nil
}

func (d *decoder) left() int { return len(d.b) - d.off }

// Unmarshal decodes the binary form written by Marshal. It never panics
// and allocates no more than the input's size justifies.
func Unmarshal(b []byte) (*Embedder, error) {
	if len(b) < len(magic)+1 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: missing %q header", ErrInvalid, magic)
	}
	if v := b[len(magic)]; v != formatVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrInvalid, v, formatVersion)
	}
	d := &decoder{b: b, off: len(magic) + 1}
	dims, err := d.uvarint("dims", MaxDims)
	if err != nil {
		return nil, err
	}
	maxTokens, err := d.uvarint("max tokens", MaxTokensLimit)
	if err != nil {
		return nil, err
	}
	n, err := d.uvarint("vocabulary size", MaxVocab)
	if err != nil {
		return nil, err
	}
	if dims < 1 || n < 2 {
		return nil, fmt.Errorf("%w: dims %d, vocabulary %d", ErrInvalid, dims, n)
	}
	// Each entry needs at least a length byte, a content byte, a scale and
	// a row: check before allocating anything sized by n.
	if need := int64(n) * int64(2+4+dims); need > int64(d.left()) {
		return nil, fmt.Errorf("%w: %d entries of %d dims need at least %d bytes, %d left", ErrInvalid, n, dims, need, d.left())
	}
	if int64(n)*int64(dims) > MaxTableBytes {
		return nil, fmt.Errorf("%w: table of %d×%d exceeds %d bytes", ErrInvalid, n, dims, MaxTableBytes)
	}
	vocab := make([]string, n)
	for i := range vocab {
		l, err := d.uvarint("entry length", uint64(MaxTokenBytes))
		if err != nil {
			return nil, err
		}
		if l > d.left() {
			return nil, fmt.Errorf("%w: entry %d of %d bytes at byte %d, %d left", ErrInvalid, i, l, d.off, d.left())
		}
		vocab[i] = string(d.b[d.off : d.off+l])
		d.off += l
	}
	if want := n*4 + n*dims; d.left() != want {
		return nil, fmt.Errorf("%w: %d bytes after the vocabulary, want %d (scales and table)", ErrInvalid, d.left(), want)
	}
	scales := make([]float32, n)
	for i := range scales {
		scales[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[d.off:]))
		d.off += 4
	}
	table := make([]int8, n*dims)
	for i, c := range d.b[d.off:] {
		table[i] = int8(c)
	}
	return New(vocab, dims, table, scales, maxTokens)
}
