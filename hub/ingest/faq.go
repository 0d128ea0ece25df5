package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/aisle-rec/aisle/hub/store"
)

// MaxFAQInputBytes bounds one FAQ input in JSON (many documents).
const MaxFAQInputBytes = 64 << 20

// faqMarkdown reads one markdown document. Its id is src.DocID (else the
// file name without extension); its title is its first heading, or the id
// when it has none.
func (p *parser) faqMarkdown(r io.Reader, src Source) error {
	b, err := io.ReadAll(io.LimitReader(r, store.MaxFAQBodyBytes+1))
	if err != nil {
		return fmt.Errorf("ingest: %s: read: %w", src.Name, err)
	}
	if len(b) > store.MaxFAQBodyBytes {
		p.errs.add(src.Name, 1, "body", "is more than %d bytes", store.MaxFAQBodyBytes)
		return nil
	}
	body := string(bytes.TrimPrefix(b, []byte("\uFEFF")))
	id := src.DocID
	if id == "" {
		base := path.Base(filepath.ToSlash(src.Name))
		id = strings.TrimSuffix(base, path.Ext(base))
	}
	title, line := firstHeading(body)
	if title == "" {
		title, line = id, 1
	}
	doc := store.FAQ{ID: id, Title: title, Body: body}
	if err := doc.Validate(); err != nil {
		for _, fe := range fieldErrors(err) {
			at := 1
			if fe.Field == "title" {
				at = line
			}
			p.errs.add(src.Name, at, fe.Field, "%s", fe.Problem)
		}
		return nil
	}
	p.saw(id, ref{src: p.src, line: 1})
	p.batch.FAQ = append(p.batch.FAQ, doc)
	return nil
}

// firstHeading returns the text of a markdown document's first heading
// (ATX "# Title", or a setext line underlined with === or ---) outside
// fenced code, and its line.
func firstHeading(md string) (string, int) {
	lines := strings.Split(md, "\n")
	fence := ""
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		t := strings.TrimLeft(l, " ")
		if len(l)-len(t) > 3 { // indented code
			continue
		}
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			continue
		}
		if strings.HasPrefix(t, "#") {
			level := len(t) - len(strings.TrimLeft(t, "#"))
			rest := t[level:]
			if level <= 6 && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
				title := strings.TrimSpace(rest)
				// A closing run of #s preceded by a space is not content.
				if trimmed := strings.TrimRight(title, "#"); trimmed != title && (trimmed == "" || strings.HasSuffix(trimmed, " ")) {
					title = strings.TrimSpace(trimmed)
				}
				if title != "" {
					return title, i + 1
				}
			}
			continue
		}
		if i+1 < len(lines) && strings.TrimSpace(l) != "" {
			u := strings.TrimSpace(strings.TrimRight(lines[i+1], "\r"))
			if u != "" && (strings.Trim(u, "=") == "" || strings.Trim(u, "-") == "" && len(u) >= 2) {
				return strings.TrimSpace(l), i + 1
			}
		}
	}
	return "", 0
}

// faqJSON reads FAQ documents as JSON objects {"id","title","body"}: one
// object (which may span lines), several one after another (JSON lines),
// or an array of them. The line of an object is the line it starts on.
func (p *parser) faqJSON(r io.Reader, name string) error {
	b, err := io.ReadAll(io.LimitReader(r, MaxFAQInputBytes+1))
	if err != nil {
		return fmt.Errorf("ingest: %s: read: %w", name, err)
	}
	if len(b) > MaxFAQInputBytes {
		p.errs.add(name, 1, "", "the input is more than %d bytes", MaxFAQInputBytes)
		return nil
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	lineAt := func(off int64) int { return 1 + bytes.Count(b[:off], []byte("\n")) }
	// start skips blanks (and array commas) to where the next value begins.
	start := func(off int64) int64 {
		for off < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
			off++
		}
		return off
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	off := start(0)
	if off == int64(len(b)) {
		p.errs.add(name, 1, "", "no FAQ documents; want JSON objects {\"id\", \"title\", \"body\"}")
		return nil
	}
	array := b[off] == '['
	if array {
		dec.Token()
	}
	for dec.More() {
		off = start(dec.InputOffset())
		line := lineAt(off)
		if off >= int64(len(b)) || b[off] != '{' {
			p.errs.add(name, line, "", "want a JSON object {\"id\", \"title\", \"body\"}")
			return nil
		}
		var doc store.FAQ
		if err := dec.Decode(&doc); err != nil {
			field, problem := jsonProblem(err, "id, title, body")
			p.errs.add(name, line, field, "%s", problem)
			if field == "" { // the JSON is broken: nothing after it can be trusted
				return nil
			}
			continue
		}
		if err := doc.Validate(); err != nil {
			for _, fe := range fieldErrors(err) {
				p.errs.add(name, line, fe.Field, "%s", fe.Problem)
			}
			continue
		}
		p.saw(doc.ID, ref{src: p.src, line: line})
		p.batch.FAQ = append(p.batch.FAQ, doc)
	}
	if array {
		if _, err := dec.Token(); err != nil {
			p.errs.add(name, lineAt(start(dec.InputOffset())), "", "the JSON array is not closed")
			return nil
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		p.errs.add(name, lineAt(start(dec.InputOffset())), "", "unexpected data after the FAQ documents")
	}
	return nil
}
