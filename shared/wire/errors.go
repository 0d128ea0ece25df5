package wire

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrTooLarge is returned (wrapped) for an encoded message longer than
// MaxBodyBytes. It is checked before any parsing; HTTP handlers answer 413.
var ErrTooLarge = errors.New("message too large")

// ErrMalformed is returned (wrapped) for bytes that are not one well-formed
// JSON or msgpack message of the expected shape: a syntax error, data after
// the message, a msgpack length that overruns the input, nesting or an
// element count over the structural limits. HTTP handlers answer 400.
var ErrMalformed = errors.New("malformed message")

// FieldError reports a field that is present but not acceptable: over a
// limit, of the wrong type, unknown, missing where required, or otherwise
// invalid. HTTP handlers answer 400 and may show Error() to the caller.
//
// Every decoding error in this package is a *FieldError, wraps ErrTooLarge,
// or wraps ErrMalformed.
type FieldError struct {
	// Field is the path to the field using JSON names, for example
	// "events[3].item", "filters.exclude[7]" or "k".
	Field string
	// Problem says what is wrong, for example "600 bytes, limit 512".
	Problem string
}

// Error returns "wire: <field>: <problem>".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "wire: " + e.Problem
	}
	return "wire: " + e.Field + ": " + e.Problem
}

func fieldErr(field, problem string) error {
	return &FieldError{Field: field, Problem: problem}
}

// quote renders an untrusted value for an error message: at most 32 bytes,
// valid UTF-8, Go-quoted, so messages stay short and safe to log.
func quote(s string) string {
	return strconv.Quote(strings.ToValidUTF8(truncate(s, 32), "\uFFFD"))
}

// displayKey renders an untrusted JSON key for a field path: as is when it
// is a short plain name, otherwise Go-quoted and truncated.
func displayKey(k string) string {
	if len(k) > 0 && len(k) <= 64 {
		plain := true
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				plain = false
				break
			}
		}
		if plain {
			return k
		}
	}
	return quote(k)
}

// truncate cuts s to at most max bytes at a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
