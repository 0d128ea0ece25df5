package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// MaxLineBytes bounds one line of a JSON-lines file, newline excluded. A
// longer line is reported as a row error and skipped without being held in
// memory. Every record that passes Validate is written in far fewer bytes.
const MaxLineBytes = 1 << 20

// MaxRowErrors bounds the problems a reader lists in *RowErrors; it keeps
// counting past it (RowErrors.Total).
const MaxRowErrors = 100

// RowError is one problem with one line of an input file.
type RowError struct {
	// Name is the input's name as given to the reader (a file name).
	Name string
	// Line is the 1-based line number.
	Line int
	// Field names the field in its JSON spelling ("price", "category[1]");
	// empty when the problem is with the whole line (bad JSON, too long).
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error returns "catalog: name:line: field: problem".
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("catalog: %s:%d: %s", e.Name, e.Line, e.Problem)
	}
	return fmt.Sprintf("catalog: %s:%d: %s: %s", e.Name, e.Line, e.Field, e.Problem)
}

// RowErrors is the error a reader returns when any line was bad: every
// problem found, in input order, so they can be reported together.
type RowErrors struct {
	// Rows lists the first MaxRowErrors problems.
	Rows []*RowError
	// Total counts all problems found, including those not listed.
	Total int
}

// Error lists the problems one per line, then how many were left out.
func (e *RowErrors) Error() string {
	var b strings.Builder
	for i, r := range e.Rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.Error())
	}
	if more := e.Total - len(e.Rows); more > 0 {
		name := ""
		if len(e.Rows) > 0 {
			name = e.Rows[0].Name + ": "
		}
		fmt.Fprintf(&b, "\ncatalog: %s%d more problems not listed", name, more)
	}
	return b.String()
}

// Unwrap returns the listed problems, so errors.As finds a *RowError.
func (e *RowErrors) Unwrap() []error {
	errs := make([]error, len(e.Rows))
	for i, r := range e.Rows {
		errs[i] = r
	}
	return errs
}

func (e *RowErrors) add(r *RowError) {
	e.Total++
	if len(e.Rows) < MaxRowErrors {
		e.Rows = append(e.Rows, r)
	}
}

// ReadProducts reads products as JSON lines from r and calls fn with each
// valid one, in input order. name is used in error messages (a file name).
// Blank lines are skipped; a UTF-8 byte-order mark and CRLF line ends are
// accepted.
//
// A line that is too long, is not one JSON object, has an unknown field or
// a value of the wrong type, fails Product.Validate, or repeats an earlier
// product's id is not passed to fn; reading goes on, and at the end
// ReadProducts returns a *RowErrors listing every problem. A caller that
// must not store partial input collects the products from fn and keeps
// them only when the error is nil. An error from r, or from fn (wrapped
// with the line), stops reading at once.
func ReadProducts(r io.Reader, name string, fn func(Product) error) error {
	return readJSONL(r, name, (*Product).check, func(p *Product) string { return p.ID }, fn)
}

// ReadReviews reads reviews as JSON lines from r and calls fn with each
// valid one; it follows the rules of ReadProducts, with Review.Validate and
// review ids. It does not check that the reviewed items exist.
func ReadReviews(r io.Reader, name string, fn func(Review) error) error {
	return readJSONL(r, name, (*Review).check, func(v *Review) string { return v.ID }, fn)
}

// ReadQA reads question-and-answer pairs as JSON lines from r and calls fn
// with each valid one; it follows the rules of ReadProducts, with
// QA.Validate and QA ids.
func ReadQA(r io.Reader, name string, fn func(QA) error) error {
	return readJSONL(r, name, (*QA).check, func(v *QA) string { return v.ID }, fn)
}

func readJSONL[T any](r io.Reader, name string, check func(*T) []*FieldError, id func(*T) string, fn func(T) error) error {
	lr := NewLineReader(r)
	var rowErrs RowErrors
	seen := make(map[string]int) // id → line of first use
	for {
		line, tooLong, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("catalog: %s:%d: read: %w", name, lr.line, err)
		}
		bad := func(field, format string, args ...any) {
			rowErrs.add(&RowError{Name: name, Line: lr.line, Field: field, Problem: fmt.Sprintf(format, args...)})
		}
		if tooLong {
			bad("", "line is longer than %d bytes", MaxLineBytes)
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var v T
		if field, problem := decodeLine(line, &v); problem != "" {
			bad(field, "%s", problem)
			continue
		}
		fes := check(&v)
		for _, fe := range fes {
			bad(fe.Field, "%s", fe.Problem)
		}
		if len(fes) > 0 {
			continue
		}
		key := id(&v)
		if first, ok := seen[key]; ok {
			bad("id", "%q is already used on line %d", key, first)
			continue
		}
		seen[key] = lr.line
		if err := fn(v); err != nil {
			return fmt.Errorf("catalog: %s:%d: %w", name, lr.line, err)
		}
	}
	if rowErrs.Total > 0 {
		return &rowErrs
	}
	return nil
}

// decodeLine decodes one JSON object into v, strictly: no unknown fields,
// nothing after the object. It returns the field at fault (may be empty)
// and a problem, or "" when v was decoded.
func decodeLine(line []byte, v any) (field, problem string) {
	if !utf8.Valid(line) {
		return "", "line is not valid UTF-8"
	}
	if line[0] != '{' {
		return "", "line is not a JSON object (it must start with '{')"
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", "unexpected data after the JSON object"
	}
	return "", ""
}

// jsonProblem turns an encoding/json error into a field and a message a
// shop owner can act on.
func jsonProblem(err error, v any) (field, problem string) {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "", fmt.Sprintf("invalid JSON at byte %d: %s", syn.Offset, trimJSONPrefix(syn.Error()))
	case errors.As(err, &typ):
		field = typ.Field
		if field == "" {
			field = "(value)"
		}
		want := describeType(typ.Type)
		if strings.HasPrefix(typ.Value, "number") && (want == "a number" || want == "an integer") {
			want += " in range"
		}
		return field, fmt.Sprintf("got a JSON %s, want %s", typ.Value, want)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "invalid JSON: the object is not closed"
	}
	msg := trimJSONPrefix(err.Error())
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return strings.Trim(f, `"`), "is not a known field; known fields: " + knownFields(v)
	}
	return "", "invalid JSON: " + msg
}

func trimJSONPrefix(s string) string { return strings.TrimPrefix(s, "json: ") }

// describeType names a Go type in JSON terms.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}

// knownFields lists the JSON names of v's fields.
func knownFields(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return strings.Join(names, ", ")
}

// LineReader returns numbered lines of at most MaxLineBytes, discarding
// longer ones as they stream past, without their line ends (LF or CRLF).
// The first line loses a UTF-8 byte-order mark.
type LineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int
	eof  bool
}

// next returns the next line without its line end, or tooLong (and no
// bytes) when it exceeds MaxLineBytes; io.EOF after the last line.
// NewLineReader returns a LineReader over r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Line is the number of the line Next last returned, from 1.
func (lr *LineReader) Line() int { return lr.line }

// Next returns the next line, or tooLong (and no bytes) when it exceeds
// MaxLineBytes; io.EOF after the last line. The bytes are valid until the
// next call.
func (lr *LineReader) Next() (line []byte, tooLong bool, err error) {
	if lr.eof {
		return nil, false, io.EOF
	}
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
		}
		if !tooLong {
			// Room for the content plus "\r\n".
			if len(lr.buf)+len(chunk) > MaxLineBytes+2 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch err {
		case nil:
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			lr.eof = true
			if !read {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
		break
	}
	lr.line++
	if tooLong {
		return nil, true, nil
	}
	line = bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if lr.line == 1 {
		line = bytes.TrimPrefix(line, []byte("\uFEFF"))
	}
	if len(line) > MaxLineBytes {
		return nil, true, nil
	}
	return line, false, nil
}

// WriteProducts writes products to w as JSON lines, one per product in the
// given order, with a fixed field order and sorted map keys so the same
// products always give the same bytes. It refuses (before writing that
// product) one that fails Validate or repeats an earlier id.
func WriteProducts(w io.Writer, products []Product) error {
	return writeJSONL(w, "product", products, (*Product).check, func(p *Product) string { return p.ID })
}

// WriteReviews writes reviews to w as JSON lines, like WriteProducts.
func WriteReviews(w io.Writer, reviews []Review) error {
	return writeJSONL(w, "review", reviews, (*Review).check, func(r *Review) string { return r.ID })
}

func writeJSONL[T any](w io.Writer, what string, items []T, check func(*T) []*FieldError, id func(*T) string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	seen := make(map[string]int, len(items))
	for i := range items {
		v := &items[i]
		if err := joinFieldErrors(check(v)); err != nil {
			return fmt.Errorf("catalog: write %s %d (id %q): %w", what, i, id(v), err)
		}
		if first, ok := seen[id(v)]; ok {
			return fmt.Errorf("catalog: write %s %d: id %q is already used by %s %d", what, i, id(v), what, first)
		}
		seen[id(v)] = i
		line.Reset()
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("catalog: write %s %d (id %q): %w", what, i, id(v), err)
		}
		if line.Len() > MaxLineBytes+1 {
			return fmt.Errorf("catalog: write %s %d (id %q): %d bytes of JSON, more than %d", what, i, id(v), line.Len()-1, MaxLineBytes)
		}
		if _, err := bw.Write(line.Bytes()); err != nil {
			return fmt.Errorf("catalog: write %ss: %w", what, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("catalog: write %ss: %w", what, err)
	}
	return nil
}
