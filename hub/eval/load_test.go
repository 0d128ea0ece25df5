package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadSequences(t *testing.T) {
	s, err := LoadSequences("testdata/sequences.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"u1", "u2", "u3", "u4"}; !reflect.DeepEqual(s.Users, want) {
		t.Errorf("users %v, want %v", s.Users, want)
	}
	if want := []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(s.Items, want) {
		t.Errorf("items %v, want %v", s.Items, want)
	}
	want := [][]int32{{0, 1, 2, 3}, {1, 2}, {4}, {0, 2, 0}}
	if !reflect.DeepEqual(s.Seqs, want) {
		t.Errorf("seqs %v, want %v", s.Seqs, want)
	}
}

func TestLoadTitles(t *testing.T) {
	s, err := LoadSequences("testdata/sequences.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadTitles("testdata/titles.tsv", s); err != nil {
		t.Fatal(err)
	}
	want := []string{"", "Tom & Jerry ★ Soap", "", "", ""}
	if !reflect.DeepEqual(s.Titles, want) {
		t.Errorf("titles %q, want %q", s.Titles, want)
	}
	train, _, err := s.Split("test")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(train.Titles, want) {
		t.Errorf("split lost titles: %q", train.Titles)
	}
}

func TestLoadErrors(t *testing.T) {
	long := filepath.Join(t.TempDir(), "long.txt")
	if err := os.WriteFile(long, []byte("u1 a\nu2 "+strings.Repeat("x", MaxLineBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seqs := func(p string) error { _, err := LoadSequences(p); return err }
	titles := func(p string) error {
		s, err := LoadSequences("testdata/sequences.txt")
		if err != nil {
			return err
		}
		return LoadTitles(p, s)
	}
	sessions := func(p string) error { _, err := LoadSessions(p); return err }
	digi := func(p string) error { _, err := LoadDiginetica(p, 5); return err }
	tests := []struct {
		name string
		load func(string) error
		path string
		want string
	}{
		{"duplicate user", seqs, "testdata/sequences_dup.txt", `testdata/sequences_dup.txt:3: user "u1" appears again (first on line 1)`},
		{"line too long", seqs, long, long + ":2: line longer than"},
		{"missing file", seqs, "testdata/nope.txt", "nope.txt"},
		{"title number", titles, "testdata/titles_badint.tsv", `testdata/titles_badint.tsv:3: item number "seven" is not an integer`},
		{"title header", titles, "testdata/titles_badheader.tsv", `testdata/titles_badheader.tsv:1: header`},
		{"session time", sessions, "testdata/sessions_badtime.tsv", `testdata/sessions_badtime.tsv:3: Time "soon" is not a number of seconds`},
		{"session fields", sessions, "testdata/sessions_short.tsv", `testdata/sessions_short.tsv:4: 2 field(s), want at least 3`},
		{"session header", sessions, "testdata/sessions_badheader.tsv", `testdata/sessions_badheader.tsv:1: header`},
		{"diginetica date", digi, "testdata/diginetica_baddate.csv", `testdata/diginetica_baddate.csv:3: eventdate "2016-13-01"`},
		{"diginetica timeframe", digi, "testdata/diginetica_badtimeframe.csv", `testdata/diginetica_badtimeframe.csv:3: timeframe "-4"`},
		{"diginetica fields", digi, "testdata/diginetica_fields.csv", `testdata/diginetica_fields.csv:3: 4 field(s), want 5`},
		{"diginetica header", digi, "testdata/diginetica_badheader.csv", `testdata/diginetica_badheader.csv:1: header`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load(tc.path)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "eval: ") {
				t.Fatalf("error %q, want it to start with \"eval: \" and contain %q", err, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	s, err := LoadSequences("testdata/sequences.txt")
	if err != nil {
		t.Fatal(err)
	}
	// a=0 b=1 c=2 d=3 e=4; u1 a b c d, u2 b c, u3 e, u4 a c a.
	tests := []struct {
		which     string
		wantTrain [][]int32
		wantCases []Case
	}{
		{"test", [][]int32{{0, 1, 2}, {1}, {0, 2}}, []Case{
			{History: []int32{0, 1, 2}, Target: 3, Session: "u1", Position: 2},
			{History: []int32{1}, Target: 2, Session: "u2", Position: 0},
			{History: []int32{0, 2}, Target: 0, Session: "u4", Position: 1},
		}},
		{"valid", [][]int32{{0, 1}, {0}}, []Case{
			{History: []int32{0, 1}, Target: 2, Session: "u1", Position: 1},
			{History: []int32{0}, Target: 2, Session: "u4", Position: 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.which, func(t *testing.T) {
			train, cases, err := s.Split(tc.which)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(train.Sessions, tc.wantTrain) {
				t.Errorf("train %v, want %v", train.Sessions, tc.wantTrain)
			}
			if train.Times != nil || len(train.Items) != 5 {
				t.Errorf("train times %v, %d items", train.Times, len(train.Items))
			}
			if !reflect.DeepEqual(cases, tc.wantCases) {
				t.Errorf("cases\n got %+v\nwant %+v", cases, tc.wantCases)
			}
			// Appending to a history must not change the source data.
			for _, c := range cases {
				_ = append(c.History, 99)
			}
			if !reflect.DeepEqual(s.Seqs[0], []int32{0, 1, 2, 3}) {
				t.Fatalf("split aliases the sequences: %v", s.Seqs[0])
			}
		})
	}
	if _, _, err := s.Split("train"); err == nil {
		t.Error("Split(\"train\") succeeded")
	}
}

func TestLoadSessions(t *testing.T) {
	for _, path := range []string{"testdata/sessions.tsv", "testdata/sessions_columns.tsv"} {
		t.Run(path, func(t *testing.T) {
			s, err := LoadSessions(path)
			if err != nil {
				t.Fatal(err)
			}
			want := &SessionSet{
				IDs:      []string{"1", "2"},
				Items:    []string{"10", "11", "12", "13"},
				Sessions: [][]int32{{1, 0, 2}, {0, 3}},
				Times:    [][]int64{{99000, 100500, 101000}, {200000, 200000}},
			}
			if !reflect.DeepEqual(s, want) {
				t.Fatalf("got %+v\nwant %+v", s, want)
			}
		})
	}
}

func day(s string, ms int64) int64 {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d.UnixMilli() + ms
}

func TestLoadDiginetica(t *testing.T) {
	sp, err := LoadDiginetica("testdata/diginetica.csv", 5)
	if err != nil {
		t.Fatal(err)
	}
	// s7 has one event; E (4 events) and X (1) are rare, so s8 empties;
	// s6 is dated exactly 7 days before the last day and trains; F occurs
	// only in test sessions, which leaves t2 empty.
	wantStats := SplitStats{
		RawEvents: 33, RawSessions: 12,
		FilteredSessions: 10, FilteredItems: 5, FilteredEvents: 27,
		SplitDay:      time.Date(2016, 1, 14, 0, 0, 0, 0, time.UTC),
		LastDay:       time.Date(2016, 1, 20, 0, 0, 0, 0, time.UTC),
		TrainSessions: 6, TrainEvents: 15,
		TestSessions: 3, TestEvents: 7,
		Items:             4,
		TestEventsRemoved: 5, TestSessionsDropped: 1,
	}
	if sp.Stats != wantStats {
		t.Errorf("stats\n got %+v\nwant %+v", sp.Stats, wantStats)
	}
	if want := []string{"A", "B", "C", "D"}; !reflect.DeepEqual(sp.Train.Items, want) {
		t.Errorf("items %v, want %v", sp.Train.Items, want)
	}
	// A=0 B=1 C=2 D=3; s1's rows were out of time order.
	wantTrain := [][]int32{{0, 1, 2}, {0, 1}, {1, 2, 3}, {0, 3}, {2, 3}, {0, 1, 3}}
	if !reflect.DeepEqual(sp.Train.Sessions, wantTrain) {
		t.Errorf("train %v, want %v", sp.Train.Sessions, wantTrain)
	}
	if want := []int64{day("2016-01-01", 0), day("2016-01-01", 2000), day("2016-01-01", 5000)}; !reflect.DeepEqual(sp.Train.Times[0], want) {
		t.Errorf("times %v, want %v", sp.Train.Times[0], want)
	}
	wantTest := &SessionSet{
		IDs:      []string{"t1", "t3", "t4"},
		Items:    sp.Train.Items,
		Sessions: [][]int32{{0, 1}, {2, 3, 0}, {1, 2}},
		Times: [][]int64{
			{day("2016-01-14", 0), day("2016-01-14", 2)},
			{day("2016-01-19", 0), day("2016-01-19", 60000), day("2016-01-19", 120000)},
			{day("2016-01-15", 1), day("2016-01-15", 3)},
		},
	}
	if !reflect.DeepEqual(sp.Test, wantTest) {
		t.Errorf("test\n got %+v\nwant %+v", sp.Test, wantTest)
	}
	cases, skipped := sp.Cases()
	wantCases := []Case{
		{History: []int32{0}, Times: []int64{day("2016-01-14", 0)}, Target: 1, Session: "t1", Position: 0},
		{History: []int32{2}, Times: []int64{day("2016-01-19", 0)}, Target: 3, Session: "t3", Position: 0},
		{History: []int32{2, 3}, Times: []int64{day("2016-01-19", 0), day("2016-01-19", 60000)}, Target: 0, Session: "t3", Position: 1},
		{History: []int32{1}, Times: []int64{day("2016-01-15", 1)}, Target: 2, Session: "t4", Position: 0},
	}
	if skipped != 0 || !reflect.DeepEqual(cases, wantCases) {
		t.Errorf("cases (skipped %d)\n got %+v\nwant %+v", skipped, cases, wantCases)
	}
	if s := sp.Stats.String(); !strings.Contains(s, "train sessions 6") || !strings.Contains(s, "test sessions 3") || !strings.Contains(s, "items 4") {
		t.Errorf("stats string %q", s)
	}
}

func TestFilterOnce(t *testing.T) {
	// Item 1 has 2 events, so it goes; that shortens session [1 2] below 2
	// and item 2 then has only 2 events left, but the filter runs once.
	s := &SessionSet{
		IDs:      []string{"a", "b", "c", "d"},
		Items:    []string{"i0", "i1", "i2", "i3"},
		Sessions: [][]int32{{0, 2, 2}, {1, 2}, {1, 0}, {3}},
		Times:    [][]int64{{1, 2, 3}, {1, 2}, {1, 2}, {1}},
	}
	got := s.Filter(2, 3)
	want := &SessionSet{
		IDs:      []string{"a"},
		Items:    []string{"i2"},
		Sessions: [][]int32{{0, 0}},
		Times:    [][]int64{{2, 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestSplitByDateUsesLatestEvent(t *testing.T) {
	d := func(s string) int64 { return day(s, 0) }
	s := &SessionSet{
		IDs:   []string{"early", "midnight", "late"},
		Items: []string{"x", "y"},
		// "midnight" starts the day before the test window and ends in it.
		Sessions: [][]int32{{0, 1}, {0, 1}, {1, 0}},
		Times:    [][]int64{{d("2020-03-01"), d("2020-03-01")}, {d("2020-03-09") + 1000, d("2020-03-10") + 5}, {d("2020-03-11"), d("2020-03-11")}},
	}
	sp, err := SplitByDate(s, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.Test.IDs, []string{"midnight", "late"}; !reflect.DeepEqual(got, want) {
		t.Errorf("test sessions %v, want %v", got, want)
	}
	if _, err := SplitByDate(s, 0); err == nil {
		t.Error("SplitByDate(s, 0) succeeded")
	}
	if _, err := SplitByDate(&SessionSet{}, 7); err == nil {
		t.Error("SplitByDate of no events succeeded")
	}
}

func TestSessionCasesMatchesIDs(t *testing.T) {
	train := &Data{Items: []string{"x", "y", "z"}, Sessions: [][]int32{{0, 1}, {1, 0}}}
	test := &SessionSet{
		IDs:      []string{"s"},
		Items:    []string{"y", "q", "x", "z"},
		Sessions: [][]int32{{0, 1, 2, 3}},
		Times:    [][]int64{{10, 20, 30, 40}},
	}
	cases, skipped := SessionCases(train, test)
	// q is unknown; z is listed but never occurs in training.
	want := []Case{{History: []int32{1}, Times: []int64{10}, Target: 0, Session: "s", Position: 1}}
	if skipped != 2 || !reflect.DeepEqual(cases, want) {
		t.Fatalf("cases %+v skipped %d, want %+v skipped 2", cases, skipped, want)
	}
}
