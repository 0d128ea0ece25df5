package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeRecommendRequestJSON decodes and validates a storefront's request.
//
// It rejects, before decoding anything, a body over MaxBodyBytes
// (ErrTooLarge) and bytes that are not exactly one JSON object with
// optional surrounding whitespace (ErrMalformed). A schema pass then checks
// every field against the Go types and reports, with its JSON path, as a
// *FieldError: unknown or duplicate fields (names match exactly; unlike
// plain encoding/json, "Placement" is not "placement"), values of the wrong
// JSON type, integers that are not integral or out of range, strings that
// are invalid UTF-8 (raw or as unpaired \u surrogate escapes; encoding/json
// would silently replace them) and arrays over their limit (events
// MaxEvents, filter lists MaxList). Only then is the body decoded with
// encoding/json and the result checked with Validate. JSON null means
// "absent" everywhere.
func DecodeRecommendRequestJSON(b []byte) (*RecommendRequest, error) {
	r := new(RecommendRequest)
	if err := decodeJSON(b, requestShape, r, "request"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeRecommendResponseJSON decodes and validates an edge's response with
// the same checks as DecodeRecommendRequestJSON (items are limited to
// MaxResults).
func DecodeRecommendResponseJSON(b []byte) (*RecommendResponse, error) {
	r := new(RecommendResponse)
	if err := decodeJSON(b, responseShape, r, "response"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

func decodeJSON(b []byte, shape *jshape, v any, what string) error {
	if len(b) > MaxBodyBytes {
		return tooLarge("JSON "+what, len(b))
	}
	if !json.Valid(b) {
		// Decode into nothing only to learn where and why it is invalid.
		err := json.Unmarshal(b, new(struct{}))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return malformed("JSON "+what, "byte "+strconv.FormatInt(se.Offset, 10)+": "+se.Error())
		}
		return malformed("JSON "+what, "invalid JSON")
	}
	w := jwalker{b: b}
	w.skipSpace()
	if w.pos >= len(b) || b[w.pos] != '{' {
		return malformed("JSON "+what, "want a JSON object")
	}
	if err := w.value(shape); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// Unreachable after the schema pass, but mapped for safety.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fieldErr(te.Field, "want "+te.Type.String()+", got "+te.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			if s, err := strconv.Unquote(name); err == nil {
				name = s
			}
			return fieldErr(displayKey(name), "unknown field")
		}
		return malformed("JSON "+what, err.Error())
	}
	return nil
}

func tooLarge(what string, n int) error {
	return fmt.Errorf("wire: decode %s: %d bytes, limit %d: %w", what, n, MaxBodyBytes, ErrTooLarge)
}

func malformed(what, problem string) error {
	return fmt.Errorf("wire: decode %s: %s: %w", what, problem, ErrMalformed)
}

// jkind is the JSON type a Go field accepts.
type jkind uint8

const (
	jAny jkind = iota // any JSON value (skipped unchecked)
	jString
	jInt
	jUint
	jFloat
	jBool
	jObject
	jArray
)

var jkindNames = [...]string{jAny: "any value", jString: "string", jInt: "integer", jUint: "integer",
	jFloat: "number", jBool: "boolean", jObject: "object", jArray: "array"}

// jshape is the JSON schema of a Go type, derived from it by reflection so
// that it follows the types in wire.go without a second copy.
type jshape struct {
	kind   jkind
	bits   int      // jInt, jUint: bit size of the Go type
	fields []jfield // jObject
	elem   *jshape  // jArray
	max    int      // jArray: most entries
}

type jfield struct {
	name  string
	shape *jshape
}

// arrayLimits gives the most entries of the arrays at these JSON paths; any
// other array is limited to MaxList.
var arrayLimits = map[string]int{
	"events":             MaxEvents,
	"filters.categories": MaxList,
	"filters.exclude":    MaxList,
	"items":              MaxResults,
}

// Shapes of the messages under their JSON and their msgpack field names.
var (
	requestShape         = shapeOf(reflect.TypeFor[RecommendRequest](), "", "json")
	responseShape        = shapeOf(reflect.TypeFor[RecommendResponse](), "", "json")
	requestMsgpackShape  = shapeOf(reflect.TypeFor[RecommendRequest](), "", "msgpack")
	responseMsgpackShape = shapeOf(reflect.TypeFor[RecommendResponse](), "", "msgpack")
)

// shapeOf derives the shape of t, naming fields by the struct tag tagKey
// ("json" or "msgpack"); path is t's field path, for arrayLimits.
func shapeOf(t reflect.Type, path, tagKey string) *jshape {
	switch t.Kind() {
	case reflect.String:
		return &jshape{kind: jString}
	case reflect.Bool:
		return &jshape{kind: jBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &jshape{kind: jInt, bits: t.Bits()}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &jshape{kind: jUint, bits: t.Bits()}
	case reflect.Float32, reflect.Float64:
		return &jshape{kind: jFloat, bits: t.Bits()}
	case reflect.Pointer:
		return shapeOf(t.Elem(), path, tagKey)
	case reflect.Slice, reflect.Array:
		max, ok := arrayLimits[path]
		if !ok {
			max = MaxList
		}
		return &jshape{kind: jArray, elem: shapeOf(t.Elem(), path, tagKey), max: max}
	case reflect.Struct:
		s := &jshape{kind: jObject}
		addFields(s, t, path, tagKey)
		return s
	}
	return &jshape{kind: jAny}
}

func addFields(s *jshape, t reflect.Type, path, tagKey string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get(tagKey)
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addFields(s, f.Type, path, tagKey)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		s.fields = append(s.fields, jfield{name: name, shape: shapeOf(f.Type, sub, tagKey)})
	}
}

// jwalker checks a syntactically valid JSON text against a jshape. It
// relies on json.Valid having accepted the input, so it only tokenises.
type jwalker struct {
	b    []byte
	pos  int
	path []jseg
}

// jseg is one step of a field path: a key, or an index.
type jseg struct {
	key     string
	index   int
	isIndex bool
}

func (w *jwalker) fail(problem string) error {
	return fieldErr(pathString(w.path), problem)
}

// pathString renders a field path: events[3].item.
func pathString(path []jseg) string {
	var sb strings.Builder
	for _, s := range path {
		if s.isIndex {
			sb.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(displayKey(s.key))
	}
	return sb.String()
}

func (w *jwalker) skipSpace() {
	for w.pos < len(w.b) {
		switch w.b[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// value checks the value at w.pos (after whitespace) against s.
func (w *jwalker) value(s *jshape) error {
	w.skipSpace()
	c := w.b[w.pos]
	if c == 'n' { // null: leaves the field at its zero value
		w.pos += len("null")
		return nil
	}
	if s.kind == jAny {
		w.skipValue()
		return nil
	}
	got := jString
	switch {
	case c == '"':
	case c == '{':
		got = jObject
	case c == '[':
		got = jArray
	case c == 't' || c == 'f':
		got = jBool
	default:
		got = jFloat
	}
	want := s.kind
	if want == jInt || want == jUint {
		want = jFloat
	}
	if got != want {
		return w.fail("want " + jkindNames[s.kind] + ", got " + jkindNames[got])
	}
	switch got {
	case jString:
		raw := w.str()
		if !validJSONString(raw) {
			return w.fail("invalid UTF-8")
		}
	case jBool:
		if c == 't' {
			w.pos += len("true")
		} else {
			w.pos += len("false")
		}
	case jFloat:
		return w.number(s)
	case jObject:
		return w.object(s)
	case jArray:
		return w.array(s)
	}
	return nil
}

// str consumes a string token and returns its raw contents (escapes kept).
func (w *jwalker) str() []byte {
	start := w.pos + 1
	i := start
	for w.b[i] != '"' {
		if w.b[i] == '\\' {
			i++
		}
		i++
	}
	w.pos = i + 1
	return w.b[start:i]
}

func (w *jwalker) number(s *jshape) error {
	start := w.pos
	integral := true
	for w.pos < len(w.b) {
		c := w.b[w.pos]
		if c == '.' || c == 'e' || c == 'E' {
			integral = false
		} else if !(c == '-' || c == '+' || '0' <= c && c <= '9') {
			break
		}
		w.pos++
	}
	num := string(w.b[start:w.pos])
	switch s.kind {
	case jInt:
		if !integral {
			return w.fail(truncate(num, 32) + ", want an integer")
		}
		if _, err := strconv.ParseInt(num, 10, s.bits); err != nil {
			return w.fail(truncate(num, 32) + " is out of range")
		}
	case jUint:
		if !integral || strings.HasPrefix(num, "-") {
			return w.fail(truncate(num, 32) + ", want a non-negative integer")
		}
		if _, err := strconv.ParseUint(num, 10, s.bits); err != nil {
			return w.fail(truncate(num, 32) + " is out of range")
		}
	case jFloat:
		if _, err := strconv.ParseFloat(num, s.bits); err != nil {
			return w.fail(truncate(num, 32) + " is out of range")
		}
	}
	return nil
}

func (w *jwalker) object(s *jshape) error {
	w.pos++ // {
	var seen uint64
	for {
		w.skipSpace()
		if w.b[w.pos] == '}' {
			w.pos++
			return nil
		}
		if w.b[w.pos] == ',' {
			w.pos++
			w.skipSpace()
		}
		raw := w.str()
		key := string(raw)
		if bytes.IndexByte(raw, '\\') >= 0 {
			if !validJSONString(raw) {
				return w.fail("field name is invalid UTF-8")
			}
			// A key with escapes: let encoding/json unescape it.
			if err := json.Unmarshal(w.b[w.pos-len(raw)-2:w.pos], &key); err != nil {
				return w.fail("bad field name")
			}
		}
		w.skipSpace()
		w.pos++ // :
		fi := -1
		for i := range s.fields {
			if s.fields[i].name == key {
				fi = i
				break
			}
		}
		w.path = append(w.path, jseg{key: key})
		if fi < 0 {
			return w.fail("unknown field")
		}
		if fi < 64 {
			if seen&(1<<fi) != 0 {
				return w.fail("duplicate field")
			}
			seen |= 1 << fi
		}
		if err := w.value(s.fields[fi].shape); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
}

func (w *jwalker) array(s *jshape) error {
	w.pos++ // [
	n := 0
	for {
		w.skipSpace()
		if w.b[w.pos] == ']' {
			w.pos++
			return nil
		}
		if w.b[w.pos] == ',' {
			w.pos++
		}
		if n == s.max {
			// Count the rest for the message, without checking it.
			for {
				w.skipValue()
				n++
				w.skipSpace()
				if w.b[w.pos] == ']' {
					return w.fail(countProblem(n, s.max))
				}
				w.pos++ // ,
			}
		}
		w.path = append(w.path, jseg{index: n, isIndex: true})
		if err := w.value(s.elem); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		n++
	}
}

// skipValue consumes one valid JSON value without checking it.
func (w *jwalker) skipValue() {
	w.skipSpace()
	depth := 0
	for {
		switch c := w.b[w.pos]; c {
		case '"':
			w.str()
		case '{', '[':
			depth++
			w.pos++
		case '}', ']':
			depth--
			w.pos++
		default:
			// A scalar, or a separator inside a container.
			if c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				w.pos++
			} else {
				for w.pos < len(w.b) && !isDelim(w.b[w.pos]) {
					w.pos++
				}
			}
		}
		if depth == 0 {
			return
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', ':', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// validJSONString reports whether the raw contents of a JSON string decode
// to valid UTF-8: raw bytes must be UTF-8 and \u escapes of UTF-16
// surrogates must come in high-low pairs.
func validJSONString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1 : i+5])
		i += 4
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return false
		case 0xD800 <= r && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo := hex4(raw[i+3 : i+7])
			if lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
