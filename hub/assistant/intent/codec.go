package intent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Wire format (little-endian), version 1:
//
//	magic "AISLEINT" | u32 version | u32 bits | u32 k
//	k × (u32 len, bytes) labels
//	dim × f32 idf
//	k × f32 bias
//	u32 n | n × (u32 feature, k × f32 weights)   only features with a nonzero weight
const (
	magic     = "AISLEINT"
	version   = 1
	maxLabels = 1 << 12
	maxLabel  = 1 << 10
)

// ErrFormat is wrapped by Unmarshal errors about malformed input.
var ErrFormat = errors.New("intent: malformed model")

// Marshal encodes the model. Only features with a nonzero weight are
// stored, so the size follows the vocabulary seen in training.
func (m *Model) Marshal() ([]byte, error) {
	k := len(m.labels)
	b := make([]byte, 0, 1<<16)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, version)
	bits := uint32(0)
	for uint32(1)<<bits < m.dim {
		bits++
	}
	b = binary.LittleEndian.AppendUint32(b, bits)
	b = binary.LittleEndian.AppendUint32(b, uint32(k))
	for _, l := range m.labels {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(l)))
		b = append(b, l...)
	}
	for _, v := range m.idf {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range m.bias {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	var rows []uint32
	for f := 0; f < int(m.dim); f++ {
		for _, w := range m.w[f*k : f*k+k] {
			if w != 0 {
				rows = append(rows, uint32(f))
				break
			}
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rows)))
	for _, f := range rows {
		b = binary.LittleEndian.AppendUint32(b, f)
		for _, w := range m.w[int(f)*k : int(f)*k+k] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(w))
		}
	}
	return b, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = fmt.Errorf("%w: truncated at %s", ErrFormat, what)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) f32(what string) float32 {
	v := math.Float32frombits(r.u32(what))
	if r.err == nil && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
		r.err = fmt.Errorf("%w: non-finite %s", ErrFormat, what)
	}
	return v
}

// need fails unless n more bytes remain; it guards every allocation.
func (r *reader) need(n uint64, what string) bool {
	if r.err == nil && uint64(len(r.b)) < n {
		r.err = fmt.Errorf("%w: %s needs %d bytes, %d left", ErrFormat, what, n, len(r.b))
	}
	return r.err == nil
}

// Unmarshal decodes a model written by Marshal. Every count is checked
// against the bytes that remain before anything is allocated.
func Unmarshal(data []byte) (*Model, error) {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	r := &reader{b: data[len(magic):]}
	if v := r.u32("version"); r.err == nil && v != version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, v, version)
	}
	bits := r.u32("bits")
	k := r.u32("label count")
	if r.err != nil {
		return nil, r.err
	}
	if bits < 10 || bits > 24 {
		return nil, fmt.Errorf("%w: bits %d outside 10..24", ErrFormat, bits)
	}
	if k < 1 || k > maxLabels {
		return nil, fmt.Errorf("%w: label count %d outside 1..%d", ErrFormat, k, maxLabels)
	}
	dim := uint32(1) << bits
	m := &Model{dim: dim}
	if !r.need(uint64(k)*4, "labels") {
		return nil, r.err
	}
	m.labels = make([]string, k)
	for i := range m.labels {
		n := r.u32("label length")
		if r.err == nil && n > maxLabel {
			return nil, fmt.Errorf("%w: label length %d > %d", ErrFormat, n, maxLabel)
		}
		if !r.need(uint64(n), "label") {
			return nil, r.err
		}
		m.labels[i] = string(r.b[:n])
		r.b = r.b[n:]
		if i > 0 && m.labels[i] <= m.labels[i-1] {
			return nil, fmt.Errorf("%w: labels not sorted and distinct", ErrFormat)
		}
	}
	if !r.need(uint64(dim)*4+uint64(k)*4+4, "idf and bias") {
		return nil, r.err
	}
	m.idf = make([]float32, dim)
	for i := range m.idf {
		m.idf[i] = r.f32("idf")
	}
	m.bias = make([]float32, k)
	for i := range m.bias {
		m.bias[i] = r.f32("bias")
	}
	n := r.u32("row count")
	if r.err == nil && n > dim {
		return nil, fmt.Errorf("%w: %d rows > %d features", ErrFormat, n, dim)
	}
	if !r.need(uint64(n)*(4+4*uint64(k)), "weights") {
		return nil, r.err
	}
	m.w = make([]float32, uint64(dim)*uint64(k))
	prev := int64(-1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		f := r.u32("feature")
		if r.err == nil && (f >= dim || int64(f) <= prev) {
			return nil, fmt.Errorf("%w: feature %d out of order or range", ErrFormat, f)
		}
		prev = int64(f)
		for c := uint32(0); c < k; c++ {
			m.w[uint64(f)*uint64(k)+uint64(c)] = r.f32("weight")
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrFormat, len(r.b))
	}
	return m, nil
}
