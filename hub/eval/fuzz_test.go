package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the testdata files matching pattern to f's corpus.
func addSeeds(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadSequences(f *testing.F) {
	addSeeds(f, "sequences*.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := readSequences("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, which := range []string{"valid", "test"} {
			train, cases, err := s.Split(which)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkData(train); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				if len(c.History) == 0 || int(c.Target) >= len(s.Items) {
					t.Fatalf("bad case %+v", c)
				}
			}
		}
	})
}

func FuzzReadTitles(f *testing.F) {
	addSeeds(f, "titles*.tsv")
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Sequences{Items: []string{"a", "b", "c"}}
		if err := readTitles("fuzz", bytes.NewReader(b), s); err == nil && len(s.Titles) != 3 {
			t.Fatalf("%d titles", len(s.Titles))
		}
	})
}

func FuzzReadSessions(f *testing.F) {
	addSeeds(f, "sessions*.tsv")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := readSessions("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		sp, err := SplitByDate(s.Filter(2, 2), 3)
		if err != nil {
			return
		}
		cases, _ := sp.Cases()
		for _, c := range cases {
			if int(c.Target) >= len(sp.Train.Items) || len(c.Times) != len(c.History) {
				t.Fatalf("bad case %+v", c)
			}
		}
	})
}

func FuzzReadDiginetica(f *testing.F) {
	addSeeds(f, "diginetica*.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := readDiginetica("fuzz", bytes.NewReader(b), 5)
		if err != nil {
			return
		}
		if err := checkData(sp.Train); err != nil {
			t.Fatal(err)
		}
		for _, s := range sp.Test.Sessions {
			if len(s) < 2 {
				t.Fatalf("short test session %v", s)
			}
		}
	})
}
