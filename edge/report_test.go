package edge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeReporter keeps the reports it is sent; with fail set it refuses them.
type fakeReporter struct {
	mu      sync.Mutex
	reports []Report
	fail    bool
}

func (f *fakeReporter) Report(_ context.Context, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("hub down")
	}
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	if len(body) > MaxReportBytes {
		return errors.New("report too large")
	}
	f.reports = append(f.reports, r)
	return nil
}

func (f *fakeReporter) got() []Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Report(nil), f.reports...)
}

// TestReports: an edge reports at most once per ReportEvery of its clock,
// from inside requests; a report the hub refuses is folded into the next
// one, so every request is counted exactly once.
func TestReports(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	clk := newClock()
	rep := &fakeReporter{}
	cfg := testConfig()
	cfg.ReportEvery = time.Minute
	e, err := New(cfg, Deps{Source: newSource(bl), Loader: NativeLoader{}, Clock: clk.Now, Reports: rep})
	if err != nil {
		t.Fatal(err)
	}
	recommend := func(n int) {
		for range n {
			if w := do(e, "POST", "/v1/recommend", `{"placement":"trending"}`); w.Code != 200 {
				t.Fatalf("recommend: %d", w.Code)
			}
		}
	}
	recommend(3) // opens the window
	do(e, "POST", "/v1/recommend", `{"placement":"nope"}`)
	if got := rep.got(); len(got) != 0 {
		t.Fatalf("reported before ReportEvery passed: %+v", got)
	}
	clk.Advance(30 * time.Second)
	recommend(1)
	if len(rep.got()) != 0 {
		t.Fatal("reported after half the interval")
	}
	clk.Advance(31 * time.Second)
	recommend(1) // due: this request sends
	got := rep.got()
	if len(got) != 1 {
		t.Fatalf("%d reports after a minute, want 1", len(got))
	}
	r := got[0]
	if r.Region != testRegion || len(r.Instance) != 16 || r.Index != bl.version || r.Requests != 6 || r.Recommends != 5 || r.Errors != 1 ||
		!r.Timed || len(r.Latency) != LatencyBuckets || r.To-r.From != 61_000 {
		t.Fatalf("report %+v", r)
	}
	var timed int64
	for _, n := range r.Latency {
		timed += n
	}
	if timed != 5 {
		t.Errorf("latency histogram counts %d answers, want 5: %v", timed, r.Latency)
	}

	// The hub is down for one report: the next carries both windows.
	rep.mu.Lock()
	rep.fail = true
	rep.mu.Unlock()
	clk.Advance(time.Minute)
	recommend(2)
	rep.mu.Lock()
	rep.fail = false
	rep.mu.Unlock()
	recommend(1) // not due again yet
	if len(rep.got()) != 1 {
		t.Fatal("a report was sent again before ReportEvery")
	}
	clk.Advance(time.Minute)
	recommend(1)
	got = rep.got()
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2", len(got))
	}
	if r2 := got[1]; r2.Requests != 4 || r2.Recommends != 4 || r2.Errors != 0 || r2.From != r.To || r2.Instance != r.Instance {
		t.Errorf("second report %+v, want the 4 requests since the first (the refused report folded in)", r2)
	}
}

func TestNoReports(t *testing.T) {
	bl := synth(t, 1, 0, nil)
	clk := newClock()
	rep := &fakeReporter{}
	cfg := testConfig()
	cfg.ReportEvery = 0
	e, err := New(cfg, Deps{Source: newSource(bl), Loader: NativeLoader{}, Clock: clk.Now, Reports: rep})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		do(e, "POST", "/v1/recommend", `{"placement":"trending"}`)
		clk.Advance(time.Hour)
	}
	if len(rep.got()) != 0 {
		t.Fatal("ReportEvery 0 sent reports")
	}
	cfg.ReportEvery = -time.Second
	if _, err := New(cfg, Deps{Source: newSource(bl), Loader: NativeLoader{}}); err == nil {
		t.Fatal("a negative ReportEvery was accepted")
	}
}
