package catalog

import (
	"compress/gzip"
	"os"
	"strings"
	"testing"
)

func TestReadAmazonQA(t *testing.T) {
	in := `{'questionType': 'yes/no', 'asin': 'B00004U9JP', 'answerTime': 'Jun 27, 2014', 'unixTime': 1403852400, 'question': 'Will it fit? It\'s "old"', 'answerType': '?', 'answer': "Yes, it\'s fine.\nReally \xe9"}

{'asin': 'B2', 'question': 'Size?', 'answer': 'Big', 'unixTime': None, 'score': 1.5, 'ok': True}
`
	var got []QA
	if err := ReadAmazonQA(strings.NewReader(in), "qa.json", func(q QA) error { got = append(got, q); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []QA{
		{ID: "B00004U9JP-1", Item: "B00004U9JP", Question: `Will it fit? It's "old"`, Answer: "Yes, it's fine.\nReally é", Date: "2014-06-27"},
		{ID: "B2-3", Item: "B2", Question: "Size?", Answer: "Big"},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{`{'asin': 'x', 'question': 'q', 'answer': 'a'`, `['asin']`, `{'asin': 'x', 'question': 'q', 'answer': eval("1")}`,
		`{'asin': 'x', 'question': '', 'answer': 'a'}`, `{'asin': 'x', 'question': 'q', 'answer': 'a'} trailing`, `{'asin': 'x', 'question': 'q\x0`} {
		if err := ReadAmazonQA(strings.NewReader(bad), "bad.json", func(QA) error { return nil }); err == nil || !strings.Contains(err.Error(), "bad.json:1") {
			t.Errorf("%s: got %v, want an error naming the line", bad, err)
		}
	}
}

func TestReadAmazonQARealData(t *testing.T) {
	f, err := os.Open("../../../shared/data/amazon_qa/qa_Appliances.json.gz")
	if err != nil {
		t.Skipf("Amazon QA data not present (%v)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n, items := 0, map[string]bool{}
	if err := ReadAmazonQA(zr, "qa_Appliances.json.gz", func(q QA) error { n++; items[q.Item] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 9011 || len(items) != 1153 {
		t.Fatalf("%d pairs about %d products, want 9011 about 1153 (the data README)", n, len(items))
	}
}

func FuzzReadAmazonQA(f *testing.F) {
	f.Add(`{'asin': 'B2', 'question': 'Size?', 'answer': 'Big', 'unixTime': 1403852400}`)
	f.Add(`{'asin': "x\u00e9", 'question': 'q\'', 'answer': 'a', 'n': None}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = ReadAmazonQA(strings.NewReader(s), "f", func(q QA) error {
			if err := q.Validate(); err != nil {
				t.Fatalf("invalid pair passed on: %v", err)
			}
			return nil
		})
	})
}
