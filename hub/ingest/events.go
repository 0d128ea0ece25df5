package ingest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/shared/wire"
)

// pendingEvent is an event read but not yet numbered within its session.
type pendingEvent struct {
	ev       store.Event
	explicit bool // the input gave Seq
	src      int
	line     int
}

// eventRow is one JSON-lines event as a shop writes it.
type eventRow struct {
	Session string          `json:"session"`
	Seq     *int64          `json:"seq"`
	Type    wire.EventType  `json:"type"`
	Item    string          `json:"item"`
	Query   string          `json:"query"`
	Time    json.RawMessage `json:"time"`
}

const eventFields = "session, seq, type, item, query, time"

// events reads one events source in the given format.
func (p *parser) events(r io.Reader, name string, format Format) error {
	lr := catalog.NewLineReader(r)
	typ := p.opts.EventType
	if typ == "" {
		typ = wire.View
		if format == Sequences {
			typ = wire.Purchase
		}
	}
	var row func(line []byte) bool // false: stop reading the source
	switch format {
	case JSONL:
		row = func(line []byte) bool { p.eventJSON(name, lr.Line(), line); return true }
	case TSV:
		row = p.sessionTSV(name, lr, typ)
	case Diginetica:
		row = p.diginetica(name, lr, typ)
	case Sequences:
		row = p.sequences(name, lr, typ)
	default:
		return fmt.Errorf("ingest: %s: events cannot be read as %s", name, format)
	}
	for {
		line, tooLong, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("ingest: %s:%d: read: %w", name, lr.Line(), err)
		}
		problem := ""
		switch {
		case tooLong:
			problem = fmt.Sprintf("line is longer than %d bytes", MaxLineBytes)
		case !utf8.Valid(line):
			problem = "line is not valid UTF-8"
		}
		if problem != "" {
			p.errs.add(name, lr.Line(), "", "%s", problem)
			if lr.Line() == 1 && (format == TSV || format == Diginetica) {
				break // no header, no columns: the rest cannot be read
			}
			continue
		}
		if !row(line) {
			break
		}
	}
	if lr.Line() == 0 && format != JSONL && format != Sequences {
		p.errs.add(name, 1, "", "the file is empty; want a header row")
	}
	return nil
}

// addEvent validates an event read at name:line and keeps it.
func (p *parser) addEvent(name string, line int, e store.Event, explicit bool) {
	problems := e.Problems(explicit)
	for _, err := range problems {
		for _, fe := range fieldErrors(err) {
			p.errs.add(name, line, fe.Field, "%s", fe.Problem)
		}
	}
	if len(problems) == 0 {
		p.pending = append(p.pending, pendingEvent{ev: e, explicit: explicit, src: p.src, line: line})
	}
}

func (p *parser) eventJSON(name string, line int, b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	if b[0] != '{' {
		p.errs.add(name, line, "", "line is not a JSON object (it must start with '{')")
		return
	}
	var row eventRow
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&row); err != nil {
		field, problem := jsonProblem(err, eventFields)
		p.errs.add(name, line, field, "%s", problem)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		p.errs.add(name, line, "", "unexpected data after the JSON object")
		return
	}
	e := store.Event{Session: row.Session, Type: row.Type, Item: row.Item, Query: row.Query}
	if row.Seq != nil {
		e.Seq = *row.Seq
	}
	t, problem := eventTime(row.Time)
	if problem != "" {
		p.errs.add(name, line, "time", "%s", problem)
		return
	}
	e.Time = t
	p.addEvent(name, line, e, row.Seq != nil)
}

// eventTime reads a JSON time: Unix milliseconds as a whole number, or an
// RFC 3339 string; absent or null means 0 (only the order is known).
func eventTime(raw json.RawMessage) (int64, string) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, ""
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return 0, "is not a valid JSON string"
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return 0, fmt.Sprintf("%q is not an RFC 3339 time such as 2024-05-01T12:30:00Z", str)
		}
		return t.UnixMilli(), ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Sprintf("%s is not Unix milliseconds (a whole number) or an RFC 3339 string", s)
	}
	return int64(f), ""
}

// jsonProblem turns an encoding/json error into a field and a message.
func jsonProblem(err error, known string) (field, problem string) {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "", fmt.Sprintf("invalid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		return typ.Field, fmt.Sprintf("got a JSON %s, want a %s", typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "invalid JSON: the object is not closed"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return strings.Trim(f, `"`), "is not a known field; known fields: " + known
	}
	return "", "invalid JSON: " + msg
}

// sessionTSV reads the session-rec layout `aisle eval` reads (see
// eval.LoadSessions): a header naming at least SessionId, ItemId and Time
// (seconds, maybe with a fraction), tab-separated.
func (p *parser) sessionTSV(name string, lr *catalog.LineReader, typ wire.EventType) func([]byte) bool {
	sc, ic, tc := -1, -1, -1
	return func(b []byte) bool {
		text := string(b)
		if sc < 0 {
			cols := strings.Split(text, "\t")
			sc, ic, tc = slices.Index(cols, "SessionId"), slices.Index(cols, "ItemId"), slices.Index(cols, "Time")
			if sc < 0 || ic < 0 || tc < 0 {
				p.errs.add(name, 1, "", "header %q: want the columns SessionId, ItemId and Time separated by tabs", clip(text))
				return false
			}
			return true
		}
		if text == "" {
			return true
		}
		f := strings.Split(text, "\t")
		if need := max(sc, ic, tc) + 1; len(f) < need {
			p.errs.add(name, lr.Line(), "", "%d field(s), want at least %d", len(f), need)
			return true
		}
		sec, err := strconv.ParseFloat(f[tc], 64)
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e14 {
			p.errs.add(name, lr.Line(), "Time", "%q is not a number of seconds", clip(f[tc]))
			return true
		}
		p.addEvent(name, lr.Line(), store.Event{Session: f[sc], Item: f[ic], Type: typ, Time: int64(math.Round(sec * 1000))}, false)
		return true
	}
}

// diginetica reads the CIKM Cup 2016 item views `aisle eval` reads (see
// eval.LoadDiginetica), raw: no filtering and no split, which are
// evaluation steps. An event's time is its eventdate (UTC midnight) plus
// its timeframe in milliseconds.
func (p *parser) diginetica(name string, lr *catalog.LineReader, typ wire.EventType) func([]byte) bool {
	const want = "session_id;user_id;item_id;timeframe;eventdate"
	dates := map[string]int64{}
	header := false
	return func(b []byte) bool {
		text := string(b)
		if !header {
			header = true
			if text != want {
				p.errs.add(name, 1, "", "header %q, want %q", clip(text), want)
				return false
			}
			return true
		}
		if text == "" {
			return true
		}
		f := strings.Split(text, ";")
		if len(f) != 5 {
			p.errs.add(name, lr.Line(), "", "%d field(s), want 5 (%s)", len(f), want)
			return true
		}
		tf, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil || tf < 0 || tf > 1<<40 {
			p.errs.add(name, lr.Line(), "timeframe", "%q is not a number of milliseconds", clip(f[3]))
			return true
		}
		date, ok := dates[f[4]]
		if !ok {
			d, err := time.Parse(time.DateOnly, f[4])
			if err != nil {
				p.errs.add(name, lr.Line(), "eventdate", "%q is not a date like 2016-05-09", clip(f[4]))
				return true
			}
			date = d.UnixMilli()
			dates[f[4]] = date
		}
		p.addEvent(name, lr.Line(), store.Event{Session: f[0], Item: f[2], Type: typ, Time: date + tf}, false)
		return true
	}
}

// sequences reads "user item item …" lines (see eval.LoadSequences): each
// user is a session whose events are in order but carry no time.
func (p *parser) sequences(name string, lr *catalog.LineReader, typ wire.EventType) func([]byte) bool {
	users := map[string]int{}
	return func(b []byte) bool {
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			return true
		}
		user := fields[0]
		if first, dup := users[user]; dup {
			p.errs.add(name, lr.Line(), "user", "%q appears again (first on line %d)", clip(user), first)
			return true
		}
		users[user] = lr.Line()
		if len(fields) == 1 {
			p.errs.add(name, lr.Line(), "", "user %q has no items", clip(user))
			return true
		}
		for i, item := range fields[1:] {
			p.addEvent(name, lr.Line(), store.Event{Session: user, Seq: int64(i + 1), Item: item, Type: typ}, true)
		}
		return true
	}
}

// clip shortens a string quoted in a message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// finishEvents numbers the events of each session and checks the numbers
// given. Sessions keep the order of their first event in the input. In a
// session without given numbers the events are sorted by time (stably,
// so equal times keep input order) and numbered from 1, which makes the
// same file give the same keys every time. A session must give a seq on
// all its events or on none, and never the same one twice.
func (p *parser) finishEvents() {
	index := map[string]int{}
	var groups [][]int // indexes into p.pending
	for i := range p.pending {
		s := p.pending[i].ev.Session
		g, ok := index[s]
		if !ok {
			g = len(groups)
			index[s] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	events := make([]store.Event, 0, len(p.pending))
	for _, g := range groups {
		explicit := 0
		for _, i := range g {
			if p.pending[i].explicit {
				explicit++
			}
		}
		switch {
		case explicit == 0:
			slices.SortStableFunc(g, func(a, b int) int {
				return cmp.Compare(p.pending[a].ev.Time, p.pending[b].ev.Time)
			})
			for n, i := range g {
				e := p.pending[i].ev
				e.Seq = int64(n + 1)
				events = append(events, e)
			}
		case explicit < len(g):
			var given *pendingEvent
			for _, i := range g {
				if p.pending[i].explicit {
					given = &p.pending[i]
					break
				}
			}
			for _, i := range g {
				if pe := &p.pending[i]; !pe.explicit {
					p.errs.add(p.srcs[pe.src].Name, pe.line, "seq", "is missing, but another event of session %q gives one (%s:%d); give seq on all events of a session or on none",
						clip(pe.ev.Session), p.srcs[given.src].Name, given.line)
				}
			}
		default:
			first := map[int64]*pendingEvent{}
			for _, i := range g {
				pe := &p.pending[i]
				if f, dup := first[pe.ev.Seq]; dup {
					p.errs.add(p.srcs[pe.src].Name, pe.line, "seq", "%d is already used in session %q (%s:%d)", pe.ev.Seq, clip(pe.ev.Session), p.srcs[f.src].Name, f.line)
					continue
				}
				first[pe.ev.Seq] = pe
				events = append(events, pe.ev)
			}
		}
	}
	p.batch.Events = events
	p.pending = nil
}
