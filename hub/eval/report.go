package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Dataset names understood by PublishedResults and WriteTable.
const (
	// DatasetBeauty is Amazon Beauty 5-core in the P5 / TIGER layout,
	// evaluated leave-one-out with full ranking.
	DatasetBeauty = "beauty"
	// DatasetDiginetica is the CIKM Cup 2016 (Diginetica) session data,
	// evaluated on every prefix of the test sessions.
	DatasetDiginetica = "diginetica"
)

// Published is a result reported in the literature for a dataset and
// protocol, printed beside the systems measured in the run.
type Published struct {
	// System is the model's name.
	System string
	// Source names the paper the numbers come from.
	Source string
	// Values holds the reported metrics under MetricKeys names; metrics the
	// paper does not report are absent.
	Values map[string]float64
}

// PublishedResults returns the published results for dataset (a Dataset
// constant, matched case-insensitively), or nil when there are none. The
// Beauty numbers are leave-one-out with full ranking over all items, from
// the TIGER paper's table (Rajput et al., NeurIPS 2023). No published
// results match the Diginetica sample.
func PublishedResults(dataset string) []Published {
	const tiger = "TIGER, NeurIPS 2023"
	switch strings.ToLower(dataset) {
	case DatasetBeauty:
		return []Published{
			{System: "GRU4Rec", Source: tiger, Values: map[string]float64{"recall@10": 0.0283, "ndcg@10": 0.0137}},
			{System: "SASRec", Source: tiger, Values: map[string]float64{"recall@10": 0.0605, "ndcg@10": 0.0318}},
			{System: "TIGER", Source: tiger, Values: map[string]float64{
				"recall@5": 0.0454, "ndcg@5": 0.0321, "recall@10": 0.0648, "ndcg@10": 0.0384}},
		}
	}
	return nil
}

// column is one metric column of the table.
type column struct{ head, key string }

var (
	sequenceColumns = []column{{"R@5", "recall@5"}, {"R@10", "recall@10"}, {"R@20", "recall@20"},
		{"N@5", "ndcg@5"}, {"N@10", "ndcg@10"}, {"N@20", "ndcg@20"}, {"MRR@20", "mrr@20"}}
	sessionColumns = []column{{"HR@20", "hr@20"}, {"MRR@20", "mrr@20"}}
)

// sessionDatasets are the datasets reported with the session protocol's
// metrics (HR@20, MRR@20).
var sessionDatasets = []string{DatasetDiginetica, "yoochoose", "rsc15", "retailrocket", "tmall", "nowplaying"}

// IsSessionDataset reports whether WriteTable prints dataset with the
// session metrics HR@20 and MRR@20: true when its lower-cased name starts
// with a known session dataset (diginetica, yoochoose, rsc15, retailrocket,
// tmall, nowplaying) or with "session". Others get the sequence metrics
// R@5/10/20, N@5/10/20 and MRR@20.
func IsSessionDataset(dataset string) bool {
	d := strings.ToLower(dataset)
	if strings.HasPrefix(d, "session") {
		return true
	}
	for _, s := range sessionDatasets {
		if strings.HasPrefix(d, s) {
			return true
		}
	}
	return false
}

// WriteTable prints an aligned table of results for dataset: one row per
// system, the first result named Aisle (any case, possibly followed by
// more words) first, the other results in the given order, then each
// published result marked "(published)". Metric columns follow
// IsSessionDataset; values have 4 decimals and "-" marks a metric not
// reported. Every measured row also shows its case count, fit time and
// evaluation time. A dataset without published results says so on a line
// "published: none".
func WriteTable(w io.Writer, dataset string, results []Result, published []Published) error {
	cols := sequenceColumns
	if IsSessionDataset(dataset) {
		cols = sessionColumns
	}
	ordered := make([]Result, 0, len(results))
	first := slices.IndexFunc(results, func(r Result) bool { return isAisle(r.System) })
	if first >= 0 {
		ordered = append(ordered, results[first])
	}
	for i, r := range results {
		if i != first {
			ordered = append(ordered, r)
		}
	}

	header := []string{"system"}
	for _, c := range cols {
		header = append(header, c.head)
	}
	header = append(header, "cases", "fit", "eval")
	rows := [][]string{header}
	for _, r := range ordered {
		m := r.Map()
		row := []string{r.System}
		for _, c := range cols {
			row = append(row, formatValue(m[c.key], true))
		}
		row = append(row, strconv.Itoa(r.Cases()), formatDuration(r.FitTime), formatDuration(r.EvalTime))
		rows = append(rows, row)
	}
	var sources []string
	for _, p := range published {
		row := []string{p.System + " (published)"}
		for _, c := range cols {
			v, ok := p.Values[c.key]
			row = append(row, formatValue(v, ok))
		}
		row = append(row, "-", "-", "-")
		rows = append(rows, row)
		if p.Source != "" && !slices.Contains(sources, p.Source) {
			sources = append(sources, p.Source)
		}
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "dataset: %s\n", dataset)
	writeAligned(&sb, rows)
	if len(published) == 0 {
		sb.WriteString("published: none\n")
	} else if len(sources) > 0 {
		fmt.Fprintf(&sb, "published rows: %s\n", strings.Join(sources, "; "))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeAligned writes rows as columns two spaces apart, the first column
// left-aligned and the others right-aligned.
func writeAligned(sb *strings.Builder, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line.WriteString(c + pad)
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		sb.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// isAisle reports whether a system name is Aisle's own.
func isAisle(name string) bool {
	n := strings.ToLower(name)
	return n == "aisle" || strings.HasPrefix(n, "aisle ") || strings.HasPrefix(n, "aisle(")
}

func formatValue(v float64, ok bool) string {
	if !ok || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.4f", v)
}

func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// WriteJSON prints one JSON object holding r's metrics under the keys
// recall@5 recall@10 recall@20 ndcg@5 ndcg@10 ndcg@20 mrr@20 hr@20, and a
// newline.
func WriteJSON(w io.Writer, r Result) error {
	b, err := json.Marshal(r.Map())
	if err != nil {
		return fmt.Errorf("eval: %s: %w", r.System, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
