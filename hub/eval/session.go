package eval

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dayMs is one day in milliseconds.
const dayMs = 24 * 60 * 60 * 1000

// SessionSet is anonymous session data with event times.
type SessionSet struct {
	// IDs holds the session ids, parallel to Sessions.
	IDs []string
	// Items maps item number to item id.
	Items []string
	// Sessions holds each session's item numbers in time order.
	Sessions [][]int32
	// Times holds Unix-millisecond event times parallel to Sessions.
	Times [][]int64
}

// Data returns s as training data (sharing its slices).
func (s *SessionSet) Data() *Data {
	return &Data{Items: s.Items, Sessions: s.Sessions, Times: s.Times}
}

// Events returns the number of events in s.
func (s *SessionSet) Events() int {
	n := 0
	for _, x := range s.Sessions {
		n += len(x)
	}
	return n
}

// sessionBuilder groups events by session id in order of first appearance
// and numbers items in order of first appearance.
type sessionBuilder struct {
	set     SessionSet
	session map[string]int
	item    map[string]int32
}

func newSessionBuilder() *sessionBuilder {
	return &sessionBuilder{session: map[string]int{}, item: map[string]int32{}}
}

func (b *sessionBuilder) add(session, item string, t int64) {
	n, ok := b.item[item]
	if !ok {
		n = int32(len(b.set.Items))
		b.item[item] = n
		b.set.Items = append(b.set.Items, item)
	}
	i, ok := b.session[session]
	if !ok {
		i = len(b.set.IDs)
		b.session[session] = i
		b.set.IDs = append(b.set.IDs, session)
		b.set.Sessions = append(b.set.Sessions, nil)
		b.set.Times = append(b.set.Times, nil)
	}
	b.set.Sessions[i] = append(b.set.Sessions[i], n)
	b.set.Times[i] = append(b.set.Times[i], t)
}

// finish sorts every session by time, stably, and returns the set.
func (b *sessionBuilder) finish() *SessionSet {
	s := &b.set
	for i := range s.Sessions {
		sortSession(s.Sessions[i], s.Times[i])
	}
	return s
}

// sortSession sorts items and times together by time, keeping the file
// order of equal times.
func sortSession(items []int32, times []int64) {
	if slices.IsSorted(times) {
		return
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case times[a] < times[b]:
			return -1
		case times[a] > times[b]:
			return 1
		}
		return 0
	})
	it := slices.Clone(items)
	ts := slices.Clone(times)
	for i, j := range idx {
		items[i], times[i] = it[j], ts[j]
	}
}

// LoadSessions reads session-rec style tab-separated events with a header
// row naming at least the columns SessionId, ItemId and Time (in any
// order; other columns are ignored). Time is in seconds, possibly with a
// fraction, and becomes Unix milliseconds (rounded). Rows are grouped by
// SessionId in order of first appearance, each session is sorted by time
// (stably, so equal times keep file order), and item numbers follow the
// order of first appearance. Nothing is filtered; see Filter and
// SplitByDate.
func LoadSessions(path string) (*SessionSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return readSessions(path, f)
}

func readSessions(path string, r io.Reader) (*SessionSet, error) {
	lr := newLineReader(path, r)
	header, ok := lr.next()
	if !ok {
		if err := lr.err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("eval: %s:1: empty file, want a header row SessionId<TAB>ItemId<TAB>Time", path)
	}
	cols := strings.Split(header, "\t")
	sc, ic, tc := slices.Index(cols, "SessionId"), slices.Index(cols, "ItemId"), slices.Index(cols, "Time")
	if sc < 0 || ic < 0 || tc < 0 {
		return nil, lr.errorf("header %q: want columns SessionId, ItemId and Time separated by tabs", header)
	}
	need := max(sc, ic, tc) + 1
	b := newSessionBuilder()
	for {
		text, ok := lr.next()
		if !ok {
			break
		}
		if text == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) < need {
			return nil, lr.errorf("%d field(s), want at least %d", len(f), need)
		}
		if f[sc] == "" || f[ic] == "" {
			return nil, lr.errorf("empty SessionId or ItemId")
		}
		sec, err := strconv.ParseFloat(f[tc], 64)
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e14 {
			return nil, lr.errorf("Time %q is not a number of seconds", f[tc])
		}
		b.add(f[sc], f[ic], int64(math.Round(sec*1000)))
	}
	if err := lr.err(); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// Filter applies the session-length and item-support filter of the SR-GNN
// preprocessing, once, in this order: drop sessions shorter than minLen;
// count each item's occurrences (events, not sessions) in the sessions
// left; remove the events of items seen fewer than minSupport times; drop
// sessions left shorter than minLen. It returns a new set whose items are
// renumbered in order of first appearance; s is unchanged.
func (s *SessionSet) Filter(minLen, minSupport int) *SessionSet {
	count := make([]int, len(s.Items))
	for _, x := range s.Sessions {
		if len(x) >= minLen {
			for _, it := range x {
				count[it]++
			}
		}
	}
	out := &SessionSet{}
	renum := make([]int32, len(s.Items))
	for i := range renum {
		renum[i] = -1
	}
	for i, x := range s.Sessions {
		if len(x) < minLen {
			continue
		}
		var items []int32
		var times []int64
		for j, it := range x {
			if count[it] < minSupport {
				continue
			}
			items = append(items, it)
			times = append(times, s.Times[i][j])
		}
		if len(items) < minLen {
			continue
		}
		for j, it := range items {
			if renum[it] < 0 {
				renum[it] = int32(len(out.Items))
				out.Items = append(out.Items, s.Items[it])
			}
			items[j] = renum[it]
		}
		out.IDs = append(out.IDs, s.IDs[i])
		out.Sessions = append(out.Sessions, items)
		out.Times = append(out.Times, times)
	}
	return out
}

// SessionSplit is session data split by date into training data and test
// sessions that share one item numbering.
type SessionSplit struct {
	// Train holds the training sessions; Train.Items is every item the
	// training sessions contain, numbered in order of first appearance.
	Train *Data
	// Test holds the test sessions with items numbered as in Train
	// (Test.Items is Train.Items).
	Test *SessionSet
	// Stats counts what loading, filtering and splitting kept and dropped.
	Stats SplitStats
}

// SplitStats counts the data at each preprocessing step.
type SplitStats struct {
	// RawEvents and RawSessions count the file's rows and sessions.
	RawEvents, RawSessions int
	// FilteredSessions, FilteredItems and FilteredEvents count what the
	// length and item-support filter kept (zero when no filter ran).
	FilteredSessions, FilteredItems, FilteredEvents int
	// SplitDay is the first day (UTC) whose sessions are test sessions.
	SplitDay time.Time
	// LastDay is the last day (UTC) of the data.
	LastDay time.Time
	// TrainSessions and TrainEvents count the training data.
	TrainSessions, TrainEvents int
	// TestSessions and TestEvents count the kept test sessions.
	TestSessions, TestEvents int
	// Items is the size of the training vocabulary.
	Items int
	// TestEventsRemoved counts test events whose item never occurs in
	// training; TestSessionsDropped counts test sessions then left shorter
	// than two events.
	TestEventsRemoved, TestSessionsDropped int
}

// String summarises the split on one line.
func (st SplitStats) String() string {
	s := fmt.Sprintf("train sessions %d (%d events), test sessions %d (%d events), items %d; test days %s..%s",
		st.TrainSessions, st.TrainEvents, st.TestSessions, st.TestEvents, st.Items,
		st.SplitDay.Format(time.DateOnly), st.LastDay.Format(time.DateOnly))
	if st.RawEvents > 0 {
		s += fmt.Sprintf("; read %d events in %d sessions", st.RawEvents, st.RawSessions)
	}
	if st.FilteredSessions > 0 {
		s += fmt.Sprintf(", %d sessions / %d items / %d events after filtering",
			st.FilteredSessions, st.FilteredItems, st.FilteredEvents)
	}
	return s + fmt.Sprintf("; %d test events of unseen items removed, %d test sessions dropped",
		st.TestEventsRemoved, st.TestSessionsDropped)
}

// SplitByDate splits s by date. A session's date is the UTC day of its
// last event (its latest time). Sessions dated within the last days days
// of the data (the latest session date and the days-1 days before it) are
// test sessions; all others, including those of the day just before, are
// training sessions. Training items are renumbered in order of first
// appearance in the training sessions. Test events whose item never
// occurs in training are removed, and test sessions left shorter than two
// events are dropped. Sessions keep the order of s. Sessions without
// events are ignored.
//
// SR-GNN's preprocess.py differs in one detail: it keeps sessions dated
// strictly before the split day for training and strictly after it for
// test, so the sessions of the day itself (last day minus days) are in
// neither set. Here they train.
func SplitByDate(s *SessionSet, days int) (*SessionSplit, error) {
	if days < 1 {
		return nil, fmt.Errorf("eval: split by date: %d test days, want at least 1", days)
	}
	day := make([]int64, len(s.Sessions))
	lastDay := int64(math.MinInt64)
	for i, ts := range s.Times {
		if len(ts) == 0 {
			continue
		}
		day[i] = floorDiv(slices.Max(ts), dayMs)
		lastDay = max(lastDay, day[i])
	}
	if lastDay == math.MinInt64 {
		return nil, fmt.Errorf("eval: split by date: no events")
	}
	firstTest := lastDay - int64(days) + 1
	sp := &SessionSplit{
		Train: &Data{},
		Test:  &SessionSet{},
		Stats: SplitStats{
			SplitDay: time.UnixMilli(firstTest * dayMs).UTC(),
			LastDay:  time.UnixMilli(lastDay * dayMs).UTC(),
		},
	}
	renum := make([]int32, len(s.Items))
	for i := range renum {
		renum[i] = -1
	}
	for i, x := range s.Sessions {
		if len(x) == 0 || day[i] >= firstTest {
			continue
		}
		items := make([]int32, len(x))
		for j, it := range x {
			if renum[it] < 0 {
				renum[it] = int32(len(sp.Train.Items))
				sp.Train.Items = append(sp.Train.Items, s.Items[it])
			}
			items[j] = renum[it]
		}
		sp.Train.Sessions = append(sp.Train.Sessions, items)
		sp.Train.Times = append(sp.Train.Times, slices.Clone(s.Times[i]))
		sp.Stats.TrainEvents += len(x)
	}
	sp.Test.Items = sp.Train.Items
	for i, x := range s.Sessions {
		if len(x) == 0 || day[i] < firstTest {
			continue
		}
		var items []int32
		var times []int64
		for j, it := range x {
			if renum[it] < 0 {
				sp.Stats.TestEventsRemoved++
				continue
			}
			items = append(items, renum[it])
			times = append(times, s.Times[i][j])
		}
		if len(items) < 2 {
			sp.Stats.TestSessionsDropped++
			continue
		}
		sp.Test.IDs = append(sp.Test.IDs, s.IDs[i])
		sp.Test.Sessions = append(sp.Test.Sessions, items)
		sp.Test.Times = append(sp.Test.Times, times)
		sp.Stats.TestEvents += len(items)
	}
	sp.Stats.TrainSessions = len(sp.Train.Sessions)
	sp.Stats.TestSessions = len(sp.Test.Sessions)
	sp.Stats.Items = len(sp.Train.Items)
	return sp, nil
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Cases returns the evaluation cases of the test sessions; see
// SessionCases.
func (sp *SessionSplit) Cases() (cases []Case, skipped int) {
	return SessionCases(sp.Train, sp.Test)
}

// SessionCases turns test sessions into next-item cases against training
// data train: for every test session s of length n and every p in 0..n-2,
// history = s[:p+1] with its times, target = s[p+1], Position = p. Items
// are matched by id, so test may number items differently from train. The
// training vocabulary is the set of items that occur in train.Sessions:
// cases whose target lies outside it are skipped and counted in skipped,
// and history events of items outside it are left out of the history (the
// history may then be empty). Repeated items stay in place: session
// protocols score them with excludeSeen = false.
func SessionCases(train *Data, test *SessionSet) (cases []Case, skipped int) {
	seen := make([]bool, len(train.Items))
	for _, x := range train.Sessions {
		for _, it := range x {
			if it >= 0 && int(it) < len(seen) {
				seen[it] = true
			}
		}
	}
	num := make(map[string]int32, len(train.Items))
	for i, id := range train.Items {
		if seen[i] {
			num[id] = int32(i)
		}
	}
	testNum := make([]int32, len(test.Items))
	for i, id := range test.Items {
		if n, ok := num[id]; ok {
			testNum[i] = n
		} else {
			testNum[i] = -1
		}
	}
	for si, x := range test.Sessions {
		var ts []int64
		if si < len(test.Times) {
			ts = test.Times[si]
		}
		// known holds the session's known items (and times); upto[p] is how
		// many of s[:p+1] are known, so every history shares known.
		known := make([]int32, 0, len(x))
		var knownT []int64
		if ts != nil {
			knownT = make([]int64, 0, len(x))
		}
		upto := make([]int, len(x))
		for p, it := range x {
			if it >= 0 && int(it) < len(testNum) && testNum[it] >= 0 {
				known = append(known, testNum[it])
				if ts != nil {
					knownT = append(knownT, ts[p])
				}
			}
			upto[p] = len(known)
		}
		for p := 0; p+1 < len(x); p++ {
			tgt := x[p+1]
			if tgt < 0 || int(tgt) >= len(testNum) || testNum[tgt] < 0 {
				skipped++
				continue
			}
			c := upto[p]
			cs := Case{History: known[:c:c], Target: testNum[tgt], Session: test.IDs[si], Position: p}
			if ts != nil {
				cs.Times = knownT[:c:c]
			}
			cases = append(cases, cs)
		}
	}
	return cases, skipped
}

// LoadDiginetica reads the CIKM Cup 2016 (Diginetica) item-view file, a
// ';'-separated file with the header
// session_id;user_id;item_id;timeframe;eventdate, and applies the
// preprocessing of the SR-GNN / session-rec papers:
//
//  1. An event's time is its eventdate (UTC midnight) in Unix milliseconds
//     plus its timeframe (milliseconds since the session started). Rows are
//     grouped by session_id and each session is sorted by time (stably).
//  2. Filter(2, minSupport): drop sessions of length 1; count item
//     occurrences in the sessions left and remove the events of items seen
//     fewer than minSupport times; drop sessions left shorter than 2. This
//     runs once, as in SR-GNN (which uses 5 on the full data set), so a few
//     items may end up below minSupport.
//  3. SplitByDate(7): sessions whose last event falls on one of the last 7
//     days of the data are test sessions, the rest train; test events of
//     items absent from training are removed and test sessions left
//     shorter than 2 dropped.
//
// Two details differ from SR-GNN's preprocess.py: a session's date is the
// date of its latest event rather than of its last row in the file (they
// differ only for the few sessions that cross midnight), and sessions
// dated exactly 7 days before the last day train instead of being dropped.
// Stats reports the counts at each step.
func LoadDiginetica(path string, minSupport int) (*SessionSplit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return readDiginetica(path, f, minSupport)
}

func readDiginetica(path string, r io.Reader, minSupport int) (*SessionSplit, error) {
	set, events, err := readDigineticaEvents(path, r)
	if err != nil {
		return nil, err
	}
	filtered := set.Filter(2, minSupport)
	sp, err := SplitByDate(filtered, 7)
	if err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	sp.Stats.RawEvents = events
	sp.Stats.RawSessions = len(set.Sessions)
	sp.Stats.FilteredSessions = len(filtered.Sessions)
	sp.Stats.FilteredItems = len(filtered.Items)
	sp.Stats.FilteredEvents = filtered.Events()
	return sp, nil
}

// readDigineticaEvents parses the file into sorted sessions.
func readDigineticaEvents(path string, r io.Reader) (*SessionSet, int, error) {
	const want = "session_id;user_id;item_id;timeframe;eventdate"
	lr := newLineReader(path, r)
	header, ok := lr.next()
	if !ok {
		if err := lr.err(); err != nil {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("eval: %s:1: empty file, want the header %s", path, want)
	}
	if header != want {
		return nil, 0, lr.errorf("header %q, want %q", header, want)
	}
	b := newSessionBuilder()
	dates := map[string]int64{}
	events := 0
	for {
		text, ok := lr.next()
		if !ok {
			break
		}
		if text == "" {
			continue
		}
		f := strings.Split(text, ";")
		if len(f) != 5 {
			return nil, 0, lr.errorf("%d field(s), want 5 (%s)", len(f), want)
		}
		if f[0] == "" || f[2] == "" {
			return nil, 0, lr.errorf("empty session_id or item_id")
		}
		tf, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil || tf < 0 || tf > 1<<40 {
			return nil, 0, lr.errorf("timeframe %q is not a number of milliseconds", f[3])
		}
		date, ok := dates[f[4]]
		if !ok {
			d, err := time.Parse(time.DateOnly, f[4])
			if err != nil {
				return nil, 0, lr.errorf("eventdate %q is not a date like 2016-05-09", f[4])
			}
			date = d.UnixMilli()
			dates[f[4]] = date
		}
		b.add(f[0], f[2], date+tf)
		events++
	}
	if err := lr.err(); err != nil {
		return nil, 0, err
	}
	return b.finish(), events, nil
}
