package eval

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"
)

// MaxLineBytes bounds one line of any input file; a longer line is an error
// naming the file and line rather than an unbounded allocation.
const MaxLineBytes = 4 << 20

// Case is one next-item prediction to score: given History (and Times),
// the recommender should rank Target high.
type Case struct {
	// History holds the item numbers seen before the target, oldest first.
	History []int32
	// Times holds Unix-millisecond times parallel to History, or nil when
	// the dataset has only an order (sequence data).
	Times []int64
	// Target is the item number that actually came next.
	Target int32
	// Session is the user id (sequence data) or session id.
	Session string
	// Position is the index, within the user's sequence or the session, of
	// the last History item; the target sits at Position+1. For session
	// cases history = s[:Position+1].
	Position int
}

// Sequences is sequence data without timestamps, one item sequence per
// user, such as Amazon Beauty in the P5 / TIGER layout.
type Sequences struct {
	// Users holds the user ids in file order.
	Users []string
	// Items maps item number to item id; numbers follow the order of first
	// appearance in the file.
	Items []string
	// Titles holds titles by item number once LoadTitles has run; nil before.
	Titles []string
	// Seqs holds each user's item numbers in time order, parallel to Users.
	Seqs [][]int32
}

// lineReader streams lines with a bounded length and counts them for error
// messages.
type lineReader struct {
	path string
	sc   *bufio.Scanner
	line int
}

func newLineReader(path string, r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &lineReader{path: path, sc: sc}
}

// next returns the next line without its line ending, or ok=false at the end.
func (l *lineReader) next() (string, bool) {
	if !l.sc.Scan() {
		return "", false
	}
	l.line++
	return strings.TrimSuffix(l.sc.Text(), "\r"), true
}

// err reports a read error, naming the line that could not be read.
func (l *lineReader) err() error {
	err := l.sc.Err()
	if err == nil {
		return nil
	}
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("eval: %s:%d: line longer than %d bytes", l.path, l.line+1, MaxLineBytes)
	}
	return fmt.Errorf("eval: %s:%d: read: %w", l.path, l.line+1, err)
}

// errorf formats an error at the current line.
func (l *lineReader) errorf(format string, args ...any) error {
	return fmt.Errorf("eval: %s:%d: %s", l.path, l.line, fmt.Sprintf(format, args...))
}

// LoadSequences reads a file of lines "user item item …" (space or tab
// separated, items in time order). Blank lines are skipped; a user listed
// twice is an error. Item numbers are assigned in order of first appearance.
func LoadSequences(path string) (*Sequences, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return readSequences(path, f)
}

func readSequences(path string, r io.Reader) (*Sequences, error) {
	s := &Sequences{}
	itemNum := map[string]int32{}
	userLine := map[string]int{}
	lr := newLineReader(path, r)
	for {
		text, ok := lr.next()
		if !ok {
			break
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		user := fields[0]
		if first, dup := userLine[user]; dup {
			return nil, lr.errorf("user %q appears again (first on line %d)", user, first)
		}
		userLine[user] = lr.line
		seq := make([]int32, 0, len(fields)-1)
		for _, id := range fields[1:] {
			n, ok := itemNum[id]
			if !ok {
				if len(s.Items) >= 1<<31-1 {
					return nil, lr.errorf("more than %d items", 1<<31-1)
				}
				n = int32(len(s.Items))
				itemNum[id] = n
				s.Items = append(s.Items, id)
			}
			seq = append(seq, n)
		}
		s.Users = append(s.Users, user)
		s.Seqs = append(s.Seqs, seq)
	}
	if err := lr.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadTitles reads item titles from a tab-separated file with a header row
// and the columns asin, an integer item number of the publisher's own, and
// title (Beauty's items_asin_title.tsv). Titles are HTML-unescaped and
// stored in seq.Titles by item id; ids absent from seq are ignored, and
// items the file does not name keep an empty title. A row may omit an empty
// title.
func LoadTitles(path string, seq *Sequences) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return readTitles(path, f, seq)
}

func readTitles(path string, r io.Reader, seq *Sequences) error {
	num := make(map[string]int32, len(seq.Items))
	for i, id := range seq.Items {
		num[id] = int32(i)
	}
	titles := make([]string, len(seq.Items))
	lr := newLineReader(path, r)
	header, ok := lr.next()
	if !ok {
		if err := lr.err(); err != nil {
			return err
		}
		return fmt.Errorf("eval: %s:1: empty file, want a header row asin<TAB>int<TAB>title", path)
	}
	if cols := strings.Split(header, "\t"); len(cols) < 3 || cols[0] != "asin" {
		return lr.errorf("header %q: want asin<TAB>int<TAB>title", header)
	}
	for {
		text, ok := lr.next()
		if !ok {
			break
		}
		if text == "" {
			continue
		}
		cols := strings.SplitN(text, "\t", 3)
		if len(cols) < 2 {
			return lr.errorf("want asin<TAB>int<TAB>title, got %d field(s)", len(cols))
		}
		if _, err := strconv.ParseInt(cols[1], 10, 64); err != nil {
			return lr.errorf("item number %q is not an integer", cols[1])
		}
		n, ok := num[cols[0]]
		if !ok || len(cols) < 3 {
			continue
		}
		titles[n] = html.UnescapeString(cols[2])
	}
	if err := lr.err(); err != nil {
		return err
	}
	seq.Titles = titles
	return nil
}

// Split returns the leave-one-out training data and evaluation cases.
//
// For which == "test" each user's last item is the target and everything
// before it the history; the training data holds every sequence minus its
// last item. For which == "valid" the second-to-last item is the target,
// everything before it the history, and the training data holds every
// sequence minus its last two items. A user whose sequence is too short to
// leave a non-empty history before the target gives no case; training
// sequences left empty are dropped. Times is nil throughout, and
// Case.Position is the index of the last history item in the user's
// sequence. Cases follow the user order of the file.
func (s *Sequences) Split(which string) (train *Data, cases []Case, err error) {
	var drop int
	switch which {
	case "test":
		drop = 1
	case "valid":
		drop = 2
	default:
		return nil, nil, fmt.Errorf("eval: split %q: want \"valid\" or \"test\"", which)
	}
	train = &Data{Items: s.Items, Titles: s.Titles}
	for u, seq := range s.Seqs {
		if n := len(seq) - drop; n > 0 {
			train.Sessions = append(train.Sessions, seq[:n:n])
		}
		t := len(seq) - drop // target index
		if t < 1 {
			continue
		}
		cases = append(cases, Case{
			History:  seq[:t:t],
			Target:   seq[t],
			Session:  s.Users[u],
			Position: t - 1,
		})
	}
	return train, cases, nil
}
