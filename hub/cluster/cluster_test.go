package cluster

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs returns n unit vectors around k orthogonal axes and each one's axis.
func blobs(n, dims, k int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n*dims)
	truth := make([]int, n)
	for i := range n {
		c := i % k
		truth[i] = c
		row := v[i*dims : (i+1)*dims]
		var norm float64
		for j := range row {
			x := r.NormFloat64() * 0.1
			if j == c {
				x += 1
			}
			row[j] = float32(x)
			norm += x * x
		}
		for j := range row {
			row[j] /= float32(math.Sqrt(norm))
		}
	}
	return v, truth
}

func TestKMeansRecoversBlobs(t *testing.T) {
	const n, dims, k = 600, 16, 5
	v, truth := blobs(n, dims, k, 1)
	cent, assign := KMeans(v, n, dims, k, 20, 42)
	if len(cent) != k*dims || len(assign) != n {
		t.Fatalf("sizes %d %d", len(cent), len(assign))
	}
	// Every true blob maps to exactly one cluster and vice versa.
	m := map[int]uint16{}
	for i, c := range assign {
		if prev, ok := m[truth[i]]; ok && prev != c {
			t.Fatalf("blob %d split over clusters %d and %d", truth[i], prev, c)
		}
		m[truth[i]] = c
	}
	seen := map[uint16]bool{}
	for _, c := range m {
		if seen[c] {
			t.Fatal("two blobs merged")
		}
		seen[c] = true
	}
	for c := range k {
		var norm float64
		for _, x := range cent[c*dims : (c+1)*dims] {
			norm += float64(x * x)
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("centroid %d norm² %v", c, norm)
		}
	}
}

func TestKMeansDeterministicAndClamped(t *testing.T) {
	v, _ := blobs(200, 8, 4, 2)
	c1, a1 := KMeans(v, 200, 8, 6, 10, 7)
	c2, a2 := KMeans(v, 200, 8, 6, 10, 7)
	if !slices.Equal(c1, c2) || !slices.Equal(a1, a2) {
		t.Fatal("same seed, different clusters")
	}
	c, a := KMeans(v[:3*8], 3, 8, 10, 10, 7)
	if len(c) != 3*8 || len(a) != 3 {
		t.Fatalf("k not clamped to n: %d centroids", len(c)/8)
	}
	if c, a := KMeans(nil, 0, 8, 3, 10, 7); len(a) != 0 || len(c) != 8 {
		t.Fatalf("empty input: %d %d", len(c), len(a))
	}
}

func TestMiniBatchRecoversBlobs(t *testing.T) {
	const n, dims, k = 6000, 16, 5
	v, truth := blobs(n, dims, k, 3)
	cent, assign := MiniBatch(v, n, dims, k, 256, 100, 11)
	if len(cent) != k*dims {
		t.Fatalf("%d centroids", len(cent)/dims)
	}
	// Purity: each blob's vectors sit in one cluster, blobs in different ones.
	m := map[int]map[uint16]int{}
	for i, c := range assign {
		if m[truth[i]] == nil {
			m[truth[i]] = map[uint16]int{}
		}
		m[truth[i]][c]++
	}
	used := map[uint16]bool{}
	for blob, cs := range m {
		best, bestN := uint16(0), 0
		for c, cnt := range cs {
			if cnt > bestN {
				best, bestN = c, cnt
			}
		}
		if float64(bestN) < 0.99*float64(n/k) || used[best] {
			t.Fatalf("blob %d: clusters %v", blob, cs)
		}
		used[best] = true
	}
	c2, a2 := MiniBatch(v, n, dims, k, 256, 100, 11)
	if !slices.Equal(cent, c2) || !slices.Equal(assign, a2) {
		t.Fatal("same seed, different clusters")
	}
}
