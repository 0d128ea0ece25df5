package train

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/aisle-rec/aisle/hub/cluster"
)

func kmeans(v []float32, n, dims, k int, seed uint64) ([]float32, []uint16) {
	return cluster.KMeans(v, n, dims, k, 20, seed)
}

// clusterLabels names each cluster by the three title words most
// characteristic of it: frequent inside the cluster, rare outside.
func clusterLabels(items []Item, assign []uint16, k int) []string {
	df := map[string]int{}
	in := make([]map[string]int, k)
	size := make([]int, k)
	for i, it := range items {
		c := assign[i]
		size[c]++
		if in[c] == nil {
			in[c] = map[string]int{}
		}
		seen := map[string]bool{}
		for _, w := range Tokens(it.Title) {
			if seen[w] || stopWords[w] {
				continue
			}
			seen[w] = true
			df[w]++
			in[c][w]++
		}
	}
	n := float64(len(items))
	labels := make([]string, k)
	for c := range k {
		type scored struct {
			w string
			s float64
		}
		var ws []scored
		for w, cnt := range in[c] {
			if cnt < 2 && size[c] > 2 {
				continue
			}
			ws = append(ws, scored{w, float64(cnt) / float64(size[c]) * math.Log(n/float64(df[w]))})
		}
		slices.SortFunc(ws, func(a, b scored) int {
			if x := cmp.Compare(b.s, a.s); x != 0 {
				return x
			}
			return strings.Compare(a.w, b.w)
		})
		var top []string
		for _, w := range ws[:min(3, len(ws))] {
			top = append(top, w.w)
		}
		labels[c] = strings.Join(top, " · ")
	}
	return labels
}

// stopWords never name a cluster: they say nothing about what is in it.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "by": true, "de": true,
	"for": true, "from": true, "in": true, "is": true, "it": true, "of": true, "on": true, "or": true,
	"the": true, "to": true, "with": true, "x": true, "pack": true, "pcs": true, "new": true,
}
