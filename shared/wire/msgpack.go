package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Structural limits for msgpack messages, checked by CheckMsgpack before
// the msgpack library sees a byte.
const (
	// MaxMsgpackDepth is the deepest nesting of arrays and maps accepted in
	// a request or response (they need 3).
	MaxMsgpackDepth = 16
	// MaxMsgpackElements is the most array entries plus map keys and values
	// in one message: a full request has about 2,030 and a full response
	// about 1,710, so this leaves room for fields added later. (Slice
	// lengths are further held to their field limits before decoding, see
	// UnmarshalRequest.)
	MaxMsgpackElements = 1 << 14
)

// MsgpackLimits bounds CheckMsgpackLimits.
type MsgpackLimits struct {
	MaxBytes    int // longest input; longer is ErrTooLarge
	MaxDepth    int // deepest nesting of arrays and maps; a flat map is 1
	MaxElements int // most array entries plus map keys and values in total
}

// CheckMsgpack checks that b is exactly one well-formed msgpack value of at
// most MaxBodyBytes, nested at most maxDepth arrays and maps deep, with at
// most MaxMsgpackElements elements; see CheckMsgpackLimits.
func CheckMsgpack(b []byte, maxDepth int) error {
	return CheckMsgpackLimits(b, MsgpackLimits{
		MaxBytes:    MaxBodyBytes,
		MaxDepth:    maxDepth,
		MaxElements: MaxMsgpackElements,
	})
}

// CheckMsgpackLimits walks the msgpack encoding in b, allocating nothing
// unless it fails, and checks that it is exactly one value (no trailing bytes) using only
// defined formats (every format but the reserved 0xc1), that every declared
// length fits in the bytes that remain (an array of n entries needs at
// least n more bytes, a map 2n, a string, bin or ext its payload, counting
// the elements its enclosing containers still owe), and that the limits in
// lim hold. Run it on untrusted bytes before msgpack.Unmarshal, which
// otherwise trusts declared lengths and can allocate gigabytes for a
// five-byte input such as dd ff ff ff ff.
//
// It returns an error wrapping ErrTooLarge when len(b) > lim.MaxBytes and
// one wrapping ErrMalformed for anything else. It does not look at string
// contents, ext payloads or timestamps (ext type -1); the typed decoder
// checks those. Use it with a larger MaxBytes for messages bigger than
// MaxBodyBytes, such as snapshots.
func CheckMsgpackLimits(b []byte, lim MsgpackLimits) error {
	if len(b) > lim.MaxBytes {
		return fmt.Errorf("wire: msgpack: %d bytes, limit %d: %w", len(b), lim.MaxBytes, ErrTooLarge)
	}
	// stack holds, per open container, the elements it still owes after the
	// one being read; owed is their sum plus the one being read.
	var stackBuf [MaxMsgpackDepth]int
	stack := stackBuf[:0]
	pending, owed, elements := 1, 1, 0
	pos := 0
	for {
		for pending == 0 {
			if len(stack) == 0 {
				if pos != len(b) {
					return mpErr(pos, fmt.Sprintf("%d bytes after the value", len(b)-pos))
				}
				return nil
			}
			pending = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		h, problem := readHeader(b, pos)
		if problem != "" {
			return mpErr(pos, problem)
		}
		pending--
		owed--
		remain := len(b) - h.next
		if h.kind != mpArray && h.kind != mpMap {
			if h.n > remain-owed {
				return mpErr(pos, fmt.Sprintf("%d payload bytes declared, %d remain", h.n, remain))
			}
			pos = h.next + h.n
			continue
		}
		if len(stack)+1 > lim.MaxDepth {
			return mpErr(pos, fmt.Sprintf("nested deeper than %d", lim.MaxDepth))
		}
		count := h.n
		if h.kind == mpMap {
			count = 2 * h.n
		}
		// Every element needs at least one byte, and so does every element
		// the enclosing containers still owe.
		if count > remain-owed {
			return mpErr(pos, fmt.Sprintf("%d elements declared, %d bytes remain", count, remain))
		}
		elements += count
		if elements > lim.MaxElements {
			return mpErr(pos, fmt.Sprintf("more than %d elements", lim.MaxElements))
		}
		if count > 0 {
			stack = append(stack, pending)
			pending = count
			owed += count
		}
		pos = h.next
	}
}

// mpKind classifies a msgpack format.
type mpKind uint8

const (
	mpScalar mpKind = iota // nil, bool, int, float: n payload bytes
	mpStr                  // str or bin: n payload bytes
	mpExt                  // ext, fixext, timestamp: n payload bytes (type byte included)
	mpArray                // n entries
	mpMap                  // n key-value pairs
)

// mpHeader is one decoded msgpack format header.
type mpHeader struct {
	kind mpKind
	n    int // payload bytes, array entries or map pairs
	next int // position after the header
}

// readHeader decodes the format header at b[pos]. It checks that the header
// itself is present and that a declared length does not exceed the bytes
// left after the header (so n fits an int everywhere), and returns a problem
// otherwise.
func readHeader(b []byte, pos int) (mpHeader, string) {
	if pos >= len(b) {
		return mpHeader{}, "truncated"
	}
	c := b[pos]
	pos++
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		// fixint, negative fixint, nil, false, true
		return mpHeader{kind: mpScalar, next: pos}, ""
	case c <= 0x8f:
		return mpHeader{kind: mpMap, n: int(c & 0x0f), next: pos}, ""
	case c <= 0x9f:
		return mpHeader{kind: mpArray, n: int(c & 0x0f), next: pos}, ""
	case c <= 0xbf:
		return mpHeader{kind: mpStr, n: int(c & 0x1f), next: pos}, ""
	}
	var (
		kind  mpKind
		size  int // bytes of the length field
		extra int // payload bytes beyond the declared length
	)
	switch c {
	case 0xc1:
		return mpHeader{}, "reserved code 0xc1"
	case 0xca, 0xd2, 0xce: // float32, int32, uint32
		return mpHeader{kind: mpScalar, n: 4, next: pos}, ""
	case 0xcb, 0xd3, 0xcf: // float64, int64, uint64
		return mpHeader{kind: mpScalar, n: 8, next: pos}, ""
	case 0xcc, 0xd0: // uint8, int8
		return mpHeader{kind: mpScalar, n: 1, next: pos}, ""
	case 0xcd, 0xd1: // uint16, int16
		return mpHeader{kind: mpScalar, n: 2, next: pos}, ""
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type byte + data
		return mpHeader{kind: mpExt, n: 1 + 1<<(c-0xd4), next: pos}, ""
	case 0xc4, 0xd9: // bin8, str8
		kind, size = mpStr, 1
	case 0xc5, 0xda: // bin16, str16
		kind, size = mpStr, 2
	case 0xc6, 0xdb: // bin32, str32
		kind, size = mpStr, 4
	case 0xc7, 0xc8, 0xc9: // ext8, ext16, ext32: length, type byte, data
		kind, size, extra = mpExt, 1<<(c-0xc7), 1
	case 0xdc: // array16
		kind, size = mpArray, 2
	case 0xdd: // array32
		kind, size = mpArray, 4
	case 0xde: // map16
		kind, size = mpMap, 2
	case 0xdf: // map32
		kind, size = mpMap, 4
	}
	if len(b)-pos < size {
		return mpHeader{}, "truncated length"
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(b[pos])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[pos:]))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b[pos:]))
	}
	pos += size
	if n > uint64(len(b)-pos) {
		return mpHeader{}, fmt.Sprintf("length %d declared, %d bytes remain", n, len(b)-pos)
	}
	return mpHeader{kind: kind, n: int(n) + extra, next: pos}, ""
}

// skipChecked returns the position after the value at b[pos]; b must have
// passed CheckMsgpackLimits.
func skipChecked(b []byte, pos int) int {
	for pending := 1; pending > 0; pending-- {
		h, _ := readHeader(b, pos)
		pos = h.next
		switch h.kind {
		case mpArray:
			pending += h.n
		case mpMap:
			pending += 2 * h.n
		default:
			pos += h.n
		}
	}
	return pos
}

// mpWalker checks the array lengths of a message that passed CheckMsgpack
// against its jshape, so that no slice is allocated past its limit: the
// library allocates a declared length in one step (two, in fact, so a
// one-byte empty event would cost 112 bytes). Everything else is left to the
// library and Validate.
type mpWalker struct {
	b    []byte
	pos  int
	path []jseg
}

func (w *mpWalker) value(s *jshape) error {
	h, _ := readHeader(w.b, w.pos)
	switch {
	case s.kind == jObject && h.kind == mpMap:
		w.pos = h.next
		for i := 0; i < h.n; i++ {
			k, _ := readHeader(w.b, w.pos)
			if k.kind != mpStr {
				w.pos = skipChecked(w.b, skipChecked(w.b, w.pos))
				continue
			}
			key := w.b[k.next : k.next+k.n]
			w.pos = k.next + k.n
			var f *jfield
			for j := range s.fields {
				if s.fields[j].name == string(key) {
					f = &s.fields[j]
					break
				}
			}
			if f == nil { // the library skips unknown keys
				w.pos = skipChecked(w.b, w.pos)
				continue
			}
			w.path = append(w.path, jseg{key: f.name})
			if err := w.value(f.shape); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return nil
	case s.kind == jObject && h.kind == mpArray && h.n == len(s.fields):
		// The library's struct-as-array form: every field in order.
		w.pos = h.next
		for j := range s.fields {
			w.path = append(w.path, jseg{key: s.fields[j].name})
			if err := w.value(s.fields[j].shape); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return nil
	case s.kind == jArray && h.kind == mpArray:
		if h.n > s.max {
			return fieldErr(pathString(w.path), countProblem(h.n, s.max))
		}
		w.pos = h.next
		for i := 0; i < h.n; i++ {
			w.path = append(w.path, jseg{index: i, isIndex: true})
			if err := w.value(s.elem); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return nil
	}
	// A scalar, or a mismatch that the library reports.
	w.pos = skipChecked(w.b, w.pos)
	return nil
}

func mpErr(pos int, problem string) error {
	return fmt.Errorf("wire: msgpack: byte %d: %s: %w", pos, problem, ErrMalformed)
}

// MarshalRequest validates r and encodes it as msgpack: a map keyed by the
// msgpack field names in struct order, empty optional fields left out, so
// equal requests always encode to equal bytes.
func MarshalRequest(r *RecommendRequest) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return marshal(r, "request")
}

// MarshalResponse validates r and encodes it as msgpack, deterministically
// like MarshalRequest.
func MarshalResponse(r *RecommendResponse) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return marshal(r, "response")
}

// UnmarshalRequest decodes and validates a msgpack request. It runs
// CheckMsgpack(b, MaxMsgpackDepth) first, so hostile lengths are rejected
// before anything is allocated, then checks every array's length against
// its field limit (events MaxEvents, filter lists MaxList; a *FieldError),
// so no slice is allocated past it, then decodes and calls Validate.
// Allocation stays within a small multiple of the input plus a constant
// (the tests hold it under 64 bytes per input byte plus 64 KiB).
//
// Unknown map keys are skipped (still bounded by the check), so a newer hub
// or edge may add fields without breaking an older peer; a struct may also
// arrive as an array of all its fields in order, as msgpack allows.
func UnmarshalRequest(b []byte) (*RecommendRequest, error) {
	r := new(RecommendRequest)
	if err := unmarshal(b, r, requestMsgpackShape, "request"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalResponse decodes and validates a msgpack response with the same
// checks as UnmarshalRequest.
func UnmarshalResponse(b []byte) (*RecommendResponse, error) {
	r := new(RecommendResponse)
	if err := unmarshal(b, r, responseMsgpackShape, "response"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

func marshal(v any, what string) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.GetEncoder() // Reset clears all options: plain defaults
	enc.Reset(&buf)
	err := enc.Encode(v)
	msgpack.PutEncoder(enc)
	if err != nil {
		return nil, fmt.Errorf("wire: encode msgpack %s: %w", what, err)
	}
	return buf.Bytes(), nil
}

func unmarshal(b []byte, v any, shape *jshape, what string) error {
	if err := CheckMsgpack(b, MaxMsgpackDepth); err != nil {
		return fmt.Errorf("wire: decode msgpack %s: %w", what, err)
	}
	w := mpWalker{b: b}
	if err := w.value(shape); err != nil {
		return err
	}
	// Not msgpack.Unmarshal: it turns on value preallocation, which starts a
	// goroutine per type. A pooled decoder after Reset has no options set.
	dec := msgpack.GetDecoder()
	dec.Reset(bytes.NewReader(b))
	err := dec.Decode(v)
	msgpack.PutDecoder(dec)
	if err != nil {
		return fmt.Errorf("wire: decode msgpack %s: %w: %w", what, ErrMalformed, err)
	}
	return nil
}
