package eval

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func resultWithRanks(name string, ranks ...int) Result {
	r := Result{System: name, EvalTime: 1500 * time.Millisecond, FitTime: 20 * time.Millisecond}
	for _, k := range ranks {
		r.Metrics.Add(k)
	}
	return r
}

func TestWriteTableSequences(t *testing.T) {
	results := []Result{
		resultWithRanks("Popularity", 0, 0, 30, 6),
		resultWithRanks("Aisle", 1, 2, 0, 11),
		resultWithRanks("LastItemTransition", 1, 0, 0, 0),
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, DatasetBeauty, results, PublishedResults(DatasetBeauty)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != "dataset: beauty" {
		t.Errorf("first line %q", lines[0])
	}
	header := strings.Fields(lines[1])
	if want := []string{"system", "R@5", "R@10", "R@20", "N@5", "N@10", "N@20", "MRR@20", "cases", "fit", "eval"}; !reflect.DeepEqual(header, want) {
		t.Errorf("header %v", header)
	}
	var systems []string
	for _, l := range lines[2:] {
		if strings.HasPrefix(l, "published rows:") {
			continue
		}
		systems = append(systems, strings.SplitN(l, "  ", 2)[0])
	}
	want := []string{"Aisle", "Popularity", "LastItemTransition", "GRU4Rec (published)", "SASRec (published)", "TIGER (published)"}
	for i := range systems {
		systems[i] = strings.TrimSpace(systems[i])
	}
	if !reflect.DeepEqual(systems, want) {
		t.Errorf("row order %q, want %q", systems, want)
	}
	// Aisle: ranks 1, 2, miss, 11 -> R@5 .5, R@20 .75, cases 4.
	aisle := strings.Fields(lines[2])
	if aisle[1] != "0.5000" || aisle[3] != "0.7500" || aisle[8] != "4" || aisle[10] != "1.5s" {
		t.Errorf("Aisle row %q", lines[2])
	}
	tiger := strings.Fields(lines[7])
	if got := strings.Join(tiger[2:], " "); got != "0.0454 0.0648 - 0.0321 0.0384 - - - - -" {
		t.Errorf("TIGER row %q", lines[7])
	}
	// Columns line up: every row as long as the header, numbers right-aligned.
	for _, l := range lines[1:8] {
		if len([]rune(l)) != len([]rune(lines[1])) {
			t.Errorf("ragged table:\n%s", buf.String())
			break
		}
	}
	if !strings.Contains(buf.String(), "published rows: TIGER, NeurIPS 2023") {
		t.Errorf("no source line:\n%s", buf.String())
	}
}

func TestWriteTableSessions(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, DatasetDiginetica, []Result{resultWithRanks("Popularity", 3, 0)}, PublishedResults(DatasetDiginetica)); err != nil {
		t.Fatal(err)
	}
	want := "dataset: diginetica\n" +
		"system       HR@20  MRR@20  cases   fit  eval\n" +
		"Popularity  0.5000  0.1667      2  20ms  1.5s\n" +
		"published: none\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestIsSessionDataset(t *testing.T) {
	for name, want := range map[string]bool{"diginetica": true, "Diginetica-sample": true, "sessions:foo": true, "beauty": false, "amazon_beauty_p5": false, "yoochoose1_64": true} {
		if IsSessionDataset(name) != want {
			t.Errorf("IsSessionDataset(%q) = %v", name, !want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, resultWithRanks("x", 1, 0)); err != nil {
		t.Fatal(err)
	}
	var m map[string]float64
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Sorted(slices.Values(MetricKeys))
	if !reflect.DeepEqual(keys, want) || m["recall@5"] != 0.5 || m["mrr@20"] != 0.5 || !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("json %s", buf.String())
	}
}
