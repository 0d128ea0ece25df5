package catalog

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ReadAmazonQA reads the Amazon product question-answering format (McAuley
// lab; one Python dict literal per line, such as
// {'asin': 'B00004U9JP', 'question': '…', 'answer': '…', 'unixTime': 1403852400, …})
// and calls fn with each pair as a QA: Item is the asin, ID is the asin and
// the line number, Date comes from unixTime. Lines are bounded by
// MaxLineBytes; a line that does not parse, or whose pair fails
// QA.Validate, is reported with its line number and stops reading.
func ReadAmazonQA(r io.Reader, name string, fn func(QA) error) error {
	lr := NewLineReader(r)
	for {
		line, tooLong, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("catalog: %s:%d: read: %w", name, lr.line, err)
		}
		if tooLong {
			return fmt.Errorf("catalog: %s:%d: line is longer than %d bytes", name, lr.line, MaxLineBytes)
		}
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		m, err := parsePyDict(s)
		if err != nil {
			return fmt.Errorf("catalog: %s:%d: %w", name, lr.line, err)
		}
		q := QA{ID: fmt.Sprintf("%s-%d", m["asin"], lr.line), Item: m["asin"], Question: m["question"], Answer: m["answer"]}
		if t, err := strconv.ParseInt(m["unixTime"], 10, 64); err == nil && t > 0 {
			q.Date = time.Unix(t, 0).UTC().Format(DateLayout)
		}
		if err := q.Validate(); err != nil {
			return fmt.Errorf("catalog: %s:%d: %w", name, lr.line, err)
		}
		if err := fn(q); err != nil {
			return fmt.Errorf("catalog: %s:%d: %w", name, lr.line, err)
		}
	}
}

// parsePyDict parses a flat Python dict literal with string keys and
// string, integer, float, bool or None values; every value is returned as
// text ("" for None).
func parsePyDict(s string) (map[string]string, error) {
	p := pyParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, p.fail("want '{'")
	}
	m := map[string]string{}
	p.space()
	if p.eat('}') {
		return m, p.end()
	}
	for {
		p.space()
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.eat(':') {
			return nil, p.fail("want ':' after key %q", k)
		}
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.space()
		if p.eat('}') {
			return m, p.end()
		}
		if !p.eat(',') {
			return nil, p.fail("want ',' or '}'")
		}
	}
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) fail(format string, a ...any) error {
	return fmt.Errorf("not a Python dict literal at byte %d: %s", p.i, fmt.Sprintf(format, a...))
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) end() error {
	p.space()
	if p.i != len(p.s) {
		return p.fail("text after the closing '}'")
	}
	return nil
}

func (p *pyParser) value() (string, error) {
	if p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
		return p.str()
	}
	j := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '}' && p.s[p.i] != ' ' {
		p.i++
	}
	switch tok := p.s[j:p.i]; tok {
	case "None":
		return "", nil
	case "True", "False":
		return tok, nil
	default:
		if _, err := strconv.ParseFloat(tok, 64); err != nil {
			return "", p.fail("value %q is neither a string, a number, a bool nor None", tok)
		}
		return tok, nil
	}
}

// str parses a quoted Python string with the common escapes.
func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.fail("want a quoted string")
	}
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			p.i += 2
			switch e := p.s[p.i-1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'x', 'u':
				n := 2
				if e == 'u' {
					n = 4
				}
				if p.i+n > len(p.s) {
					return "", p.fail("short \\%c escape", e)
				}
				v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil {
					return "", p.fail("bad \\%c escape", e)
				}
				b.WriteRune(rune(v))
				p.i += n
			default: // \\, \', \" and anything else stand for themselves
				b.WriteByte(e)
			}
		default:
			_, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteString(p.s[p.i : p.i+n])
			p.i += n
		}
	}
	return "", p.fail("unterminated string")
}
