// Package eval measures next-item recommendation quality offline on real
// interaction data, with the protocols the published results use, and
// compares any Recommender against baselines computed in the same run.
package eval

// Data is a training set: sessions of item numbers in time order.
type Data struct {
	// Items maps item number to the dataset's item id.
	Items []string
	// Titles holds item titles by item number; nil or empty strings when the
	// dataset has none.
	Titles []string
	// Sessions are the training sequences (a user's history or an anonymous
	// session), each in time order.
	Sessions [][]int32
	// Times holds Unix-millisecond event times in the shape of Sessions, or
	// nil when the dataset only has an order.
	Times [][]int64
}

// Recommender is a next-item model under evaluation.
type Recommender interface {
	// Name is the label printed in result tables.
	Name() string
	// Fit trains on d. It is called once per evaluation run.
	Fit(d *Data) error
	// Recommend appends to dst up to k item numbers predicted to follow
	// history, best first, and returns the extended slice. times is nil or
	// parallel to history. When excludeSeen is true no history item may be
	// returned. Recommend must be safe for concurrent use after Fit.
	Recommend(history []int32, times []int64, k int, excludeSeen bool, dst []int32) []int32
}
