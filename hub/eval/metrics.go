package eval

import (
	"math"
	"time"
)

// Cutoffs are the list lengths K at which metrics are tracked.
var Cutoffs = [...]int{5, 10, 20}

// MetricKeys are the keys of Result.Map and WriteJSON, in display order.
var MetricKeys = []string{"recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@20", "hr@20"}

// MaxCutoff is the longest list any metric reads; Evaluate asks
// recommenders for this many items unless Options.K asks for more.
const MaxCutoff = 20

// Metrics accumulates ranking metrics over cases, each with a single
// target: Recall@K (equal to HR@K for one target), NDCG@K = 1/log2(rank+1)
// and MRR@K = 1/rank when the 1-based rank is at most K, else 0. Sums are
// kept in the order cases are added, so equal inputs give equal results.
// The zero value is ready to use.
type Metrics struct {
	cases  int
	recall [len(Cutoffs)]float64
	ndcg   [len(Cutoffs)]float64
	mrr    [len(Cutoffs)]float64
}

// Add records one case whose target appeared at 1-based rank (0 or less:
// not recommended).
func (m *Metrics) Add(rank int) {
	m.cases++
	if rank <= 0 {
		return
	}
	for i, k := range Cutoffs {
		if rank <= k {
			m.recall[i]++
			m.ndcg[i] += 1 / math.Log2(float64(rank)+1)
			m.mrr[i] += 1 / float64(rank)
		}
	}
}

// Cases returns how many cases were added.
func (m *Metrics) Cases() int { return m.cases }

func cutoffIndex(k int) int {
	for i, c := range Cutoffs {
		if c == k {
			return i
		}
	}
	return -1
}

func (m *Metrics) mean(v *[len(Cutoffs)]float64, k int) float64 {
	i := cutoffIndex(k)
	if i < 0 {
		return math.NaN()
	}
	if m.cases == 0 {
		return 0
	}
	return v[i] / float64(m.cases)
}

// Recall returns mean Recall@k (= HR@k); NaN when k is not in Cutoffs.
func (m *Metrics) Recall(k int) float64 { return m.mean(&m.recall, k) }

// NDCG returns mean NDCG@k; NaN when k is not in Cutoffs.
func (m *Metrics) NDCG(k int) float64 { return m.mean(&m.ndcg, k) }

// MRR returns mean MRR@k; NaN when k is not in Cutoffs.
func (m *Metrics) MRR(k int) float64 { return m.mean(&m.mrr, k) }

// Map returns the metrics under MetricKeys.
func (m *Metrics) Map() map[string]float64 {
	return map[string]float64{
		"recall@5":  m.Recall(5),
		"recall@10": m.Recall(10),
		"recall@20": m.Recall(20),
		"ndcg@5":    m.NDCG(5),
		"ndcg@10":   m.NDCG(10),
		"ndcg@20":   m.NDCG(20),
		"mrr@20":    m.MRR(20),
		"hr@20":     m.Recall(20),
	}
}

// Result is one system's evaluation.
type Result struct {
	// System is the recommender's name.
	System string
	// Metrics holds the scores.
	Metrics Metrics
	// ExcludeSeen records whether history items were excluded.
	ExcludeSeen bool
	// FitTime is the time Fit took (zero when Evaluate ran alone).
	FitTime time.Duration
	// EvalTime is the time spent recommending and scoring.
	EvalTime time.Duration
}

// Cases returns the number of cases scored.
func (r Result) Cases() int { return r.Metrics.Cases() }

// Map returns the metrics under the keys recall@5 recall@10 recall@20
// ndcg@5 ndcg@10 ndcg@20 mrr@20 hr@20.
func (r Result) Map() map[string]float64 { return r.Metrics.Map() }
