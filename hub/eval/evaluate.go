package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle-rec/aisle/hub/progress"
)

// Options tunes Evaluate. The zero value is valid.
type Options struct {
	// K is how many items each recommendation asks for; 0 means MaxCutoff.
	// It must be at least MaxCutoff.
	K int
	// Predictions, when set, receives one JSON line per case, in case
	// order: {"session":…,"position":…,"target":…,"top":[…]} with target
	// and top as item ids when ItemIDs is set, else as item numbers.
	Predictions io.Writer
	// ItemIDs maps item numbers to ids for Predictions.
	ItemIDs []string
	// Progress, when set, receives a progress bar (see package progress).
	Progress io.Writer
}

// block is how many cases Evaluate scores between two writes of
// predictions; it bounds the memory held for them.
const block = 4096

// prediction is one line of Options.Predictions.
type prediction struct {
	Session  string `json:"session"`
	Position int    `json:"position"`
	Target   any    `json:"target"`
	Top      any    `json:"top"`
}

// Evaluate asks rec (already fitted) for the top K items of every case and
// scores where the target lands. Cases are spread over
// runtime.GOMAXPROCS(0) goroutines; per-case ranks are summed in case
// order, so results do not depend on scheduling. A recommendation longer
// than K, listing an item twice, or listing a history item when
// excludeSeen is true is an error, as is a cancelled ctx.
func Evaluate(ctx context.Context, rec Recommender, cases []Case, excludeSeen bool, opt Options) (Result, error) {
	k := opt.K
	if k == 0 {
		k = MaxCutoff
	}
	if k < MaxCutoff {
		return Result{}, fmt.Errorf("eval: Options.K = %d, want at least %d", k, MaxCutoff)
	}
	start := time.Now()
	res := Result{System: rec.Name(), ExcludeSeen: excludeSeen}
	bar := progress.New(opt.Progress, rec.Name(), len(cases))
	bar.Add(0)
	defer bar.Done()

	workers := max(1, runtime.GOMAXPROCS(0))
	ranks := make([]int32, min(block, len(cases)))
	var tops [][]int32
	if opt.Predictions != nil {
		tops = make([][]int32, len(ranks))
	}
	bufs := make([][]int32, workers)
	for lo := 0; lo < len(cases); lo += block {
		hi := min(lo+block, len(cases))
		var next atomic.Int64
		next.Store(int64(lo))
		var (
			mu       sync.Mutex
			firstErr error
			errAt    = len(cases)
			wg       sync.WaitGroup
		)
		for w := range min(workers, hi-lo) {
			wg.Go(func() {
				buf := bufs[w]
				for {
					i := int(next.Add(1) - 1)
					if i >= hi {
						break
					}
					if ctx.Err() != nil {
						mu.Lock()
						if i < errAt {
							firstErr, errAt = ctx.Err(), i
						}
						mu.Unlock()
						break
					}
					c := &cases[i]
					buf = rec.Recommend(c.History, c.Times, k, excludeSeen, buf[:0])
					rank, err := rankOf(buf, c, k, excludeSeen)
					if err != nil {
						mu.Lock()
						if i < errAt {
							firstErr, errAt = fmt.Errorf("eval: %s: case %d (session %q, position %d): %w", rec.Name(), i, c.Session, c.Position, err), i
						}
						mu.Unlock()
						break
					}
					ranks[i-lo] = int32(rank)
					if tops != nil {
						tops[i-lo] = append(tops[i-lo][:0], buf...)
					}
					bar.Add(1)
				}
				bufs[w] = buf
			})
		}
		wg.Wait()
		if firstErr != nil {
			return res, firstErr
		}
		for i := lo; i < hi; i++ {
			res.Metrics.Add(int(ranks[i-lo]))
		}
		if tops != nil {
			if err := writePredictions(opt.Predictions, opt.ItemIDs, cases[lo:hi], tops); err != nil {
				return res, err
			}
		}
	}
	res.EvalTime = time.Since(start)
	return res, nil
}

// rankOf checks a recommendation list and returns the target's 1-based
// rank in it, or 0 when absent.
func rankOf(top []int32, c *Case, k int, excludeSeen bool) (int, error) {
	if len(top) > k {
		return 0, fmt.Errorf("%d items recommended, asked for %d", len(top), k)
	}
	rank := 0
	for i, it := range top {
		if it == c.Target && rank == 0 {
			rank = i + 1
		}
		for _, prev := range top[:i] {
			if prev == it {
				return 0, fmt.Errorf("item %d recommended twice", it)
			}
		}
		if excludeSeen {
			for _, h := range c.History {
				if h == it {
					return 0, fmt.Errorf("history item %d recommended with excludeSeen", it)
				}
			}
		}
	}
	return rank, nil
}

// writePredictions writes one JSON line per case.
func writePredictions(w io.Writer, ids []string, cases []Case, tops [][]int32) error {
	var out []byte
	for i := range cases {
		p := prediction{cases[i].Session, cases[i].Position, cases[i].Target, tops[i]}
		if ids != nil {
			top := make([]string, len(tops[i]))
			for j, it := range tops[i] {
				top[j] = ids[it]
			}
			p.Target, p.Top = ids[cases[i].Target], top
		}
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("eval: predictions: %w", err)
		}
		out = append(append(out, b...), '\n')
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("eval: write predictions: %w", err)
	}
	return nil
}

// Run fits each recommender on train and evaluates it on cases, in order,
// recording fit and evaluation times. It stops at the first error. opt
// goes to every Evaluate unchanged, so the predictions of all systems
// would follow one another in Options.Predictions with nothing to tell them
// apart: to keep one system's predictions, call Evaluate for it yourself.
func Run(ctx context.Context, train *Data, recs []Recommender, cases []Case, excludeSeen bool, opt Options) ([]Result, error) {
	var out []Result
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		t0 := time.Now()
		if err := rec.Fit(train); err != nil {
			return out, fmt.Errorf("eval: fit %s: %w", rec.Name(), err)
		}
		fit := time.Since(t0)
		r, err := Evaluate(ctx, rec, cases, excludeSeen, opt)
		if err != nil {
			return out, err
		}
		r.FitTime = fit
		out = append(out, r)
	}
	return out, nil
}
