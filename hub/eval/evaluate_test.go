package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestMetricsByHand(t *testing.T) {
	var m Metrics
	for _, r := range []int{1, 3, 0, 12, 20, 21} {
		m.Add(r)
	}
	l := math.Log2
	want := map[string]float64{
		"recall@5":  2.0 / 6,
		"recall@10": 2.0 / 6,
		"recall@20": 4.0 / 6,
		"hr@20":     4.0 / 6,
		"ndcg@5":    (1 + 0.5) / 6,
		"ndcg@10":   (1 + 0.5) / 6,
		"ndcg@20":   (1 + 0.5 + 1/l(13) + 1/l(21)) / 6,
		"mrr@20":    (1 + 1.0/3 + 1.0/12 + 1.0/20) / 6,
	}
	got := m.Map()
	if len(got) != len(want) {
		t.Fatalf("keys %v", got)
	}
	for k, v := range want {
		if !near(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if m.Cases() != 6 || !near(m.MRR(5), (1+1.0/3)/6) || !math.IsNaN(m.Recall(7)) {
		t.Errorf("cases %d, mrr@5 %v, recall@7 %v", m.Cases(), m.MRR(5), m.Recall(7))
	}
	var empty Metrics
	if empty.Recall(10) != 0 {
		t.Error("empty metrics not zero")
	}
}

// scriptedRec recommends fixed lists keyed by the history's first item,
// which the tests make unique per case.
type scriptedRec struct{ lists map[int32][]int32 }

func (s scriptedRec) Name() string    { return "scripted" }
func (s scriptedRec) Fit(*Data) error { return nil }
func (s scriptedRec) Recommend(h []int32, _ []int64, k int, _ bool, dst []int32) []int32 {
	return append(dst, s.lists[h[0]]...)
}

func TestEvaluateRanksAndPredictions(t *testing.T) {
	cases := []Case{
		{History: []int32{100}, Target: 7, Session: "a", Position: 0},
		{History: []int32{101, 5}, Target: 9, Session: "b", Position: 1},
		{History: []int32{102}, Target: 4, Session: "c", Position: 0},
	}
	lists := map[int32][]int32{
		100: {7, 1, 2},
		101: {1, 2, 9},
		102: {1, 2, 3},
	}
	var pred bytes.Buffer
	res, err := Evaluate(context.Background(), scriptedRec{lists}, cases, true, Options{Predictions: &pred})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cases() != 3 || !near(res.Map()["mrr@20"], (1+1.0/3)/3) || !near(res.Map()["recall@5"], 2.0/3) {
		t.Errorf("result %+v %v", res, res.Map())
	}
	want := `{"session":"a","position":0,"target":7,"top":[7,1,2]}
{"session":"b","position":1,"target":9,"top":[1,2,9]}
{"session":"c","position":0,"target":4,"top":[1,2,3]}
`
	if pred.String() != want {
		t.Errorf("predictions\n got %s\nwant %s", pred.String(), want)
	}
}

func TestEvaluateRejectsBadLists(t *testing.T) {
	cases := []Case{{History: []int32{100, 5}, Target: 7, Session: "a"}}
	tests := []struct {
		name string
		list []int32
		want string
	}{
		{"duplicate", []int32{1, 2, 1}, "item 1 recommended twice"},
		{"seen", []int32{1, 5}, "history item 5"},
		{"too long", make([]int32, 21), "21 items recommended"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(context.Background(), scriptedRec{map[int32][]int32{100: tc.list}}, cases, true, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Evaluate(context.Background(), &Popularity{}, cases, true, Options{K: 10}); err == nil {
		t.Error("K = 10 accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, scriptedRec{map[int32][]int32{100: {1}}}, cases, true, Options{}); err == nil {
		t.Error("cancelled context accepted")
	}
}

// randomData makes sessions over n items with a skewed popularity and some
// sequential structure.
func randomData(seed uint64, sessions, n int) (*Data, []Case) {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &Data{Items: make([]string, n)}
	for i := range d.Items {
		d.Items[i] = string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	pick := func() int32 { return int32(math.Floor(float64(n) * math.Pow(rng.Float64(), 2))) }
	var cases []Case
	for s := range sessions {
		l := 2 + rng.IntN(8)
		seq := make([]int32, l)
		seq[0] = pick()
		for i := 1; i < l; i++ {
			if rng.IntN(2) == 0 {
				seq[i] = (seq[i-1] + 1) % int32(n)
			} else {
				seq[i] = pick()
			}
		}
		d.Sessions = append(d.Sessions, seq[:l-1])
		cases = append(cases, Case{History: seq[:l-1], Target: seq[l-1], Session: d.Items[s%n], Position: l - 2})
	}
	return d, cases
}

func TestEvaluateDeterministicAcrossGOMAXPROCS(t *testing.T) {
	train, cases := randomData(7, 6000, 300) // more than one block of cases
	run := func(procs int) ([]Result, string) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		var pred bytes.Buffer
		var out []Result
		for _, rec := range Baselines() {
			if err := rec.Fit(train); err != nil {
				t.Fatal(err)
			}
			opt := Options{}
			if _, ok := rec.(*RecencyKNN); ok {
				opt.Predictions = &pred
			}
			r, err := Evaluate(context.Background(), rec, cases, true, opt)
			if err != nil {
				t.Fatal(err)
			}
			r.EvalTime = 0
			out = append(out, r)
		}
		return out, pred.String()
	}
	r1, p1 := run(1)
	r8, p8 := run(8)
	if !reflect.DeepEqual(r1, r8) {
		t.Errorf("results differ:\n1: %+v\n8: %+v", r1, r8)
	}
	if p1 != p8 || strings.Count(p1, "\n") != len(cases) {
		t.Errorf("predictions differ or are incomplete (%d lines)", strings.Count(p1, "\n"))
	}
	var first struct {
		Target int32
		Top    []int32
	}
	if err := json.Unmarshal([]byte(p1[:strings.IndexByte(p1, '\n')]), &first); err != nil || first.Target != cases[0].Target || len(first.Top) != 20 {
		t.Errorf("first prediction %+v, %v", first, err)
	}
}

func TestRunFitsAndTimes(t *testing.T) {
	train, cases := randomData(3, 500, 50)
	res, err := Run(context.Background(), train, Baselines(), cases, true, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].System != "Popularity" || !strings.HasPrefix(res[2].System, "RecencyKNN(decay=0.7") {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if r.Cases() != len(cases) || r.FitTime <= 0 || r.EvalTime <= 0 {
			t.Errorf("%s: %d cases, fit %v, eval %v", r.System, r.Cases(), r.FitTime, r.EvalTime)
		}
	}
	// The structured baselines must beat popularity on data with
	// next-item structure.
	if !(res[1].Metrics.Recall(10) > res[0].Metrics.Recall(10) && res[2].Metrics.Recall(10) > res[0].Metrics.Recall(10)) {
		t.Errorf("baselines do not beat popularity: %v %v %v", res[0].Map(), res[1].Map(), res[2].Map())
	}
}
