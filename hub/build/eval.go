package build

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aisle-rec/aisle/hub/eval"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/wire"
)

// EvalMetaKey is the store meta key under which SaveEvaluation keeps a
// shop's latest Evaluation as JSON.
const EvalMetaKey = "build.eval"

// MaxEvalCases bounds the held-out cases one evaluation scores; a shop with
// more sessions is scored on an even spread of them, so a build stays
// quick however large the shop.
const MaxEvalCases = 20000

// Evaluation is how well Aisle predicted the shop's own past sessions,
// measured at build time: every session's last item event is held out, a
// snapshot is built with the shop's pipeline from everything else, and the
// ranking core (and each baseline) ranks the held-out item given the events
// before it in its session.
type Evaluation struct {
	// Region is the region whose catalog the evaluation snapshot was built
	// for (the first of the build).
	Region string `json:"region"`
	// Built is when it ran, Unix ms.
	Built int64 `json:"built"`
	// Protocol describes the hold-out in words, for the dashboard.
	Protocol string `json:"protocol"`
	// Cases is how many held-out events were scored; Skipped how many
	// could not be (the item is neither in the region's catalog nor in any
	// training event); Sessions how many sessions gave the training data.
	Cases    int `json:"cases"`
	Skipped  int `json:"skipped"`
	Sessions int `json:"sessions"`
	// Systems holds Aisle first, then the baselines.
	Systems []SystemScore `json:"systems"`
	// Note says why there is nothing to show, when Cases is 0.
	Note string `json:"note,omitempty"`
	// TookMillis is how long the evaluation took.
	TookMillis int64 `json:"took_ms"`
}

// SystemScore is one system's figures.
type SystemScore struct {
	System   string  `json:"system"`
	Recall10 float64 `json:"recall@10"`
	NDCG10   float64 `json:"ndcg@10"`
	Recall20 float64 `json:"recall@20"`
	MRR20    float64 `json:"mrr@20"`
}

// heldOut is the protocol string of Evaluate.
const heldOut = "each session's last item event held out; history = the session's earlier item events; full ranking over the region's catalog; repeats allowed"

// Evaluate runs the build-time evaluation of d for shop (see Evaluation).
// It builds its own snapshot (without the text model: cold items keep
// their behaviour-free vectors) for the first region of cfg, and never
// publishes it. A shop without sessions of two or more item events gets an
// Evaluation with a Note and no systems.
func Evaluate(ctx context.Context, d *Data, shop string, cfg Config) (Evaluation, error) {
	start := time.Now()
	if len(cfg.Regions) == 0 {
		return Evaluation{}, fmt.Errorf("build: evaluate: no regions")
	}
	region := cfg.Regions[0]
	ev := Evaluation{Region: region, Built: cfg.Now, Protocol: heldOut}
	if ev.Built == 0 {
		ev.Built = start.UnixMilli()
	}
	// Split every session at its last item event: before it trains, it is
	// the target.
	trainData := &Data{Products: d.Products, Sessions: make([][]store.Event, 0, len(d.Sessions))}
	type target struct {
		session int // index into trainData.Sessions
		item    string
	}
	var targets []target
	for _, s := range d.Sessions {
		last := -1
		for i := len(s) - 1; i >= 0; i-- {
			if s[i].Type != wire.Search && s[i].Item != "" {
				last = i
				break
			}
		}
		if last < 0 {
			trainData.Sessions = append(trainData.Sessions, s)
			continue
		}
		trainData.Sessions = append(trainData.Sessions, s[:last])
		targets = append(targets, target{len(trainData.Sessions) - 1, s[last].Item})
	}
	ev.Sessions = len(trainData.Sessions)
	in := Input(trainData, shop, region, cfg.Now)
	if len(in.Items) == 0 {
		ev.Note = "no item is in stock in region " + region
		return ev, nil
	}
	// The evaluation's item numbering is the snapshot's.
	data := &eval.Data{Items: make([]string, len(in.Items)), Titles: make([]string, len(in.Items))}
	num := make(map[string]int32, len(in.Items))
	for i, it := range in.Items {
		data.Items[i], data.Titles[i] = it.ID, it.Title
		num[it.ID] = int32(i)
	}
	for _, s := range in.Sessions {
		items, times := make([]int32, len(s)), make([]int64, len(s))
		for j, x := range s {
			items[j], times[j] = x.Item, x.Time
		}
		data.Sessions = append(data.Sessions, items)
		data.Times = append(data.Times, times)
	}
	var cases []eval.Case
	for _, tg := range targets {
		n, ok := num[tg.item]
		if !ok {
			ev.Skipped++
			continue
		}
		var hist []int32
		var times []int64
		for _, e := range trainData.Sessions[tg.session] {
			if e.Type == wire.Search || e.Item == "" {
				continue
			}
			if h, ok := num[e.Item]; ok {
				hist, times = append(hist, h), append(times, e.Time)
			}
		}
		if len(hist) == 0 {
			continue // a one-event session predicts nothing
		}
		cases = append(cases, eval.Case{History: hist, Times: times, Target: n, Session: trainData.Sessions[tg.session][0].Session, Position: len(hist) - 1})
	}
	if len(cases) > MaxEvalCases {
		spread := make([]eval.Case, MaxEvalCases)
		for i := range spread {
			spread[i] = cases[int(int64(i)*int64(len(cases))/MaxEvalCases)]
		}
		cases = spread
	}
	ev.Cases = len(cases)
	if len(cases) == 0 {
		ev.Note = "no past session has two or more item events to hold one out from; ingest the shop's past events (aisle ingest … events) and build again"
		return ev, nil
	}
	snap, err := train.Build(cfg.Train, in)
	if err != nil {
		return ev, fmt.Errorf("build: evaluate: %w", err)
	}
	aisle := eval.NewAisle()
	aisle.Train = cfg.Train
	if err := aisle.FitSnapshot(snap, data); err != nil {
		return ev, fmt.Errorf("build: evaluate: %w", err)
	}
	recs := []eval.Recommender{aisle, &eval.Popularity{}, &eval.LastItemTransition{}}
	for i, rec := range recs {
		if i > 0 {
			if err := rec.Fit(data); err != nil {
				return ev, fmt.Errorf("build: evaluate: fit %s: %w", rec.Name(), err)
			}
		}
		r, err := eval.Evaluate(ctx, rec, cases, false, eval.Options{})
		if err != nil {
			return ev, fmt.Errorf("build: evaluate: %w", err)
		}
		ev.Systems = append(ev.Systems, SystemScore{
			System: systemName(rec.Name()), Recall10: r.Metrics.Recall(10), NDCG10: r.Metrics.NDCG(10),
			Recall20: r.Metrics.Recall(20), MRR20: r.Metrics.MRR(20),
		})
	}
	ev.TookMillis = time.Since(start).Milliseconds()
	return ev, nil
}

// systemName is the label a shop owner reads.
func systemName(n string) string {
	switch n {
	case "Popularity":
		return "most popular items"
	case "LastItemTransition":
		return "what followed the last item"
	}
	return n
}

// SaveEvaluation stores ev as shop's latest evaluation.
func SaveEvaluation(ctx context.Context, st *store.Store, shop string, ev Evaluation) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("build: save evaluation: %w", err)
	}
	return st.SetMeta(ctx, shop, EvalMetaKey, string(b))
}

// LoadEvaluation returns shop's latest evaluation, and whether there is
// one.
func LoadEvaluation(ctx context.Context, st *store.Store, shop string) (Evaluation, bool, error) {
	s, ok, err := st.Meta(ctx, shop, EvalMetaKey)
	if err != nil || !ok {
		return Evaluation{}, false, err
	}
	var ev Evaluation
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return Evaluation{}, false, fmt.Errorf("build: stored evaluation of %q: %w", shop, err)
	}
	return ev, true, nil
}
