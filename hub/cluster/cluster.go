// Package cluster groups vectors with spherical K-means (cosine similarity,
// k-means++ seeding from a fixed seed, so the same input always yields the
// same clusters).
package cluster

import (
	"math"
	"math/rand/v2"
)

// KMeans clusters the n unit vectors of length dims stored row-major in v
// into k groups. It returns the k×dims unit centroids and each vector's
// cluster. Zero vectors join the cluster of the first centroid. k is clamped
// to [1, n].
func KMeans(v []float32, n, dims, k int, iters int, seed uint64) ([]float32, []uint16) {
	k = max(1, min(k, n, math.MaxUint16+1))
	rng := rand.New(rand.NewPCG(seed, 0xc1a5))
	cent := make([]float32, k*dims)
	assign := make([]uint16, n)
	if n == 0 {
		return cent, assign
	}
	// k-means++: each next seed is drawn with probability proportional to
	// its distance from the nearest seed so far (1 - cosine for unit vectors).
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	first := rng.IntN(n)
	copy(cent[:dims], v[first*dims:(first+1)*dims])
	for c := 1; c < k; c++ {
		prev := cent[(c-1)*dims : c*dims]
		var total float64
		for i := range n {
			d := 1 - float64(dot(v[i*dims:(i+1)*dims], prev))
			if d < 0 {
				d = 0
			}
			dist[i] = min(dist[i], d)
			total += dist[i]
		}
		pick := 0
		if total > 0 {
			r := rng.Float64() * total
			for i := range n {
				r -= dist[i]
				if r <= 0 {
					pick = i
					break
				}
				pick = i
			}
		} else {
			pick = rng.IntN(n)
		}
		copy(cent[c*dims:(c+1)*dims], v[pick*dims:(pick+1)*dims])
	}
	sum := make([]float64, k*dims)
	for it := 0; it < max(iters, 1); it++ {
		changed := 0
		for i := range n {
			x := v[i*dims : (i+1)*dims]
			best, bestS := 0, float32(math.Inf(-1))
			for c := range k {
				if s := dot(x, cent[c*dims:(c+1)*dims]); s > bestS {
					best, bestS = c, s
				}
			}
			if uint16(best) != assign[i] || it == 0 {
				changed++
			}
			assign[i] = uint16(best)
		}
		clear(sum)
		for i := range n {
			c := int(assign[i])
			s := sum[c*dims : (c+1)*dims]
			for j, x := range v[i*dims : (i+1)*dims] {
				s[j] += float64(x)
			}
		}
		for c := range k {
			s := sum[c*dims : (c+1)*dims]
			var norm float64
			for _, x := range s {
				norm += x * x
			}
			if norm == 0 {
				continue // empty cluster keeps its centroid
			}
			norm = 1 / math.Sqrt(norm)
			for j, x := range s {
				cent[c*dims+j] = float32(x * norm)
			}
		}
		if changed == 0 {
			break
		}
	}
	return cent, assign
}

func dot(a, b []float32) float32 {
	var s float32
	for i, x := range a {
		s += x * b[i]
	}
	return s
}
