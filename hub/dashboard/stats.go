package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aisle-rec/aisle/hub/build"
	"github.com/aisle-rec/aisle/hub/fleet"
)

// MaxTop bounds the rows of the top searches and top intents.
const MaxTop = 12

// Colours of the charts' series.
const (
	fillRecall = "#4e79a7"
	fillNDCG   = "#f28e2b"
	fillCount  = "#59a14f"
)

// barChart is a horizontal bar chart: one group of bars per row, each bar
// scaled against the largest value in the chart.
type barChart struct {
	W, H   float64
	Rows   []barRow
	Legend []legendRow
	Label  string // aria-label
}

type barRow struct {
	Y     float64 // baseline of the row's label
	Label string
	Bars  []bar
}

type bar struct {
	Y, W, H float64
	Fill    string
	Text    string  // the value as shown
	TX      float64 // where the value's text starts
	TY      float64
}

// Layout of a bar chart.
const (
	chartW     = 900.0
	labelW     = 300.0 // room for row labels, left of the bars
	barH       = 16.0
	barGap     = 3.0
	rowGap     = 12.0
	textRoomPx = 90.0 // room right of the longest bar for its value
)

type series struct {
	name string
	fill string
}

// newBarChart lays out rows of values (one per series) with their texts.
func newBarChart(label string, ss []series, labels []string, values [][]float64, texts [][]string) *barChart {
	c := &barChart{W: chartW, Label: label}
	maxV := 0.0
	for _, vs := range values {
		for _, v := range vs {
			maxV = math.Max(maxV, v)
		}
	}
	scale := 0.0
	if maxV > 0 {
		scale = (chartW - labelW - textRoomPx) / maxV
	}
	y := rowGap
	for i, l := range labels {
		r := barRow{Label: truncateRunes(l, 40)}
		top := y
		for j, v := range values[i] {
			w := round1(math.Max(v*scale, 0))
			if v > 0 {
				w = math.Max(w, 1) // a non-zero value stays visible
			}
			b := bar{Y: round1(y), W: w, H: barH, Fill: ss[j].fill, Text: texts[i][j]}
			b.TX, b.TY = round1(labelW+w+6), round1(y+barH-4)
			r.Bars = append(r.Bars, b)
			y += barH + barGap
		}
		r.Y = round1((top+y-barGap)/2 + 5)
		c.Rows = append(c.Rows, r)
		y += rowGap - barGap
	}
	c.H = round1(y + rowGap/2)
	if len(ss) > 1 {
		for _, s := range ss {
			c.Legend = append(c.Legend, legendRow{Fill: s.fill, Label: s.name})
		}
	}
	return c
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// evalView is the build-time evaluation as the page shows it.
type evalView struct {
	build.Evaluation
	When  string
	Chart *barChart
}

func (h *handler) evaluation(ctx context.Context, shop string) (*evalView, error) {
	ev, ok, err := build.LoadEvaluation(ctx, h.deps.Store, shop)
	if err != nil || !ok {
		return nil, err
	}
	v := &evalView{Evaluation: ev}
	if ev.Built > 0 {
		v.When = time.UnixMilli(ev.Built).UTC().Format("2006-01-02 15:04 UTC")
	}
	if len(ev.Systems) > 0 {
		labels := make([]string, len(ev.Systems))
		values := make([][]float64, len(ev.Systems))
		texts := make([][]string, len(ev.Systems))
		for i, s := range ev.Systems {
			labels[i] = s.System
			values[i] = []float64{s.Recall10, s.NDCG10}
			texts[i] = []string{fmt.Sprintf("%.3f", s.Recall10), fmt.Sprintf("%.3f", s.NDCG10)}
		}
		v.Chart = newBarChart("recall@10 and NDCG@10 of Aisle and the baselines on the shop's own sessions",
			[]series{{"recall@10", fillRecall}, {"NDCG@10", fillNDCG}}, labels, values, texts)
	}
	return v, nil
}

// edgeRow is one region's edge traffic.
type edgeRow struct {
	Region     string
	Reports    int
	Instances  int
	Requests   int64
	Recommends int64
	P50, P99   string
	Fallback   string
	Errors     string
	Last       string
	Timed      bool
}

// edgeView is what the edges reported.
type edgeView struct {
	Rows  []edgeRow
	Chart *barChart // latency distribution per region
}

func formatMicros(us int64) string {
	switch {
	case us < 0:
		return "–"
	case us == math.MaxInt64:
		return fmt.Sprintf("> %d ms", fleet.LatencyBoundsMicros[len(fleet.LatencyBoundsMicros)-1]/1000)
	case us < 1000:
		return fmt.Sprintf("≤ %d µs", us)
	}
	return fmt.Sprintf("≤ %g ms", float64(us)/1000)
}

func percent(x float64) string { return fmt.Sprintf("%.1f %%", 100*x) }

// edges summarises the reports of the regions whose snapshot is the
// shop's (shown says which).
func (h *handler) edges(shown []string, now time.Time) *edgeView {
	if h.deps.Edges == nil {
		return nil
	}
	v := &edgeView{}
	var hist []fleet.Stats
	for _, region := range shown {
		s, ok := h.deps.Edges.Region(region)
		if !ok {
			continue
		}
		row := edgeRow{
			Region: region, Reports: s.Reports, Instances: s.Instances, Requests: s.Requests, Recommends: s.Recommends,
			P50: formatMicros(s.Quantile(0.5)), P99: formatMicros(s.Quantile(0.99)),
			Fallback: percent(s.FallbackRate()), Errors: percent(s.ErrorRate()), Timed: s.Timed > 0,
		}
		if !row.Timed {
			row.P50, row.P99 = "not timed", "not timed"
		}
		if !s.Last.IsZero() {
			row.Last = now.Sub(s.Last).Round(time.Second).String() + " ago"
		}
		v.Rows = append(v.Rows, row)
		if s.Timed > 0 {
			hist = append(hist, s)
		}
	}
	if len(hist) > 0 {
		labels := make([]string, fleet.Buckets)
		for i := range labels {
			if i < len(fleet.LatencyBoundsMicros) {
				labels[i] = formatMicros(fleet.LatencyBoundsMicros[i])
			} else {
				labels[i] = formatMicros(math.MaxInt64)
			}
		}
		ss := make([]series, len(hist))
		for j, s := range hist {
			ss[j] = series{s.Region, palette[j%len(palette)]}
		}
		values := make([][]float64, fleet.Buckets)
		texts := make([][]string, fleet.Buckets)
		for i := range labels {
			for _, s := range hist {
				share := float64(s.Latency[i]) / float64(s.Timed)
				values[i] = append(values[i], share)
				texts[i] = append(texts[i], fmt.Sprintf("%s (%d)", percent(share), s.Latency[i]))
			}
		}
		// Drop the empty buckets above the slowest answer seen.
		last := 0
		for i := range values {
			for _, x := range values[i] {
				if x > 0 {
					last = i
				}
			}
		}
		v.Chart = newBarChart("share of recommend answers by time spent at the edge, per region", ss, labels[:last+1], values[:last+1], texts[:last+1])
	}
	return v
}

// countChart draws label → count rows, largest first.
func countChart(label string, counts map[string]int) (*barChart, []countRow) {
	rows := make([]countRow, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			rows = append(rows, countRow{k, n})
		}
	}
	slices.SortFunc(rows, func(a, b countRow) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Label, b.Label)
	})
	rows = rows[:min(len(rows), MaxTop)]
	if len(rows) == 0 {
		return nil, nil
	}
	labels := make([]string, len(rows))
	values := make([][]float64, len(rows))
	texts := make([][]string, len(rows))
	for i, r := range rows {
		labels[i], values[i], texts[i] = r.Label, []float64{float64(r.Count)}, []string{fmt.Sprint(r.Count)}
	}
	return newBarChart(label, []series{{"", fillCount}}, labels, values, texts), rows
}

type countRow struct {
	Label string
	Count int
}
