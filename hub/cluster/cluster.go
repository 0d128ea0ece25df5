// Package cluster groups vectors with spherical K-means (cosine similarity,
// k-means++ seeding from a fixed seed, so the same input always yields the
// same clusters).
package cluster

import (
	"math"
	"math/rand/v2"
)

// MiniBatchAbove is the number of vectors above which KMeans switches to
// mini-batch updates: full Lloyd iterations cost n·k·dims each.
const MiniBatchAbove = 50_000

// KMeans clusters the n unit vectors of length dims stored row-major in v
// into k groups. It returns the k×dims unit centroids and each vector's
// cluster. Zero vectors join the cluster of the first centroid. k is clamped
// to [1, n]. Above MiniBatchAbove vectors it runs MiniBatch.
func KMeans(v []float32, n, dims, k int, iters int, seed uint64) ([]float32, []uint16) {
	if n > MiniBatchAbove {
		return MiniBatch(v, n, dims, k, 1024, 20*iters, seed)
	}
	return lloyd(v, n, dims, k, iters, seed)
}

func lloyd(v []float32, n, dims, k int, iters int, seed uint64) ([]float32, []uint16) {
	k = max(1, min(k, n, math.MaxUint16+1))
	rng := rand.New(rand.NewPCG(seed, 0xc1a5))
	cent := make([]float32, k*dims)
	assign := make([]uint16, n)
	if n == 0 {
		return cent, assign
	}
	seedPlusPlus(v, n, dims, k, cent, rng)
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

// seedPlusPlus fills cent with k-means++ seeds drawn from the n vectors of v:
// each next seed is drawn with probability proportional to its distance
// from the nearest seed so far (1 - cosine for unit vectors).
func seedPlusPlus(v []float32, n, dims, k int, cent []float32, rng *rand.Rand) {
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
}

// MiniBatch is spherical K-means with mini-batch updates (Sculley, 2010):
// k-means++ seeds from a sample, then iters rounds that each move the
// centroids towards a random batch of vectors with a per-centroid learning
// rate of 1/(vectors seen), and a final pass assigning every vector. Same
// inputs, same clusters.
func MiniBatch(v []float32, n, dims, k, batch, iters int, seed uint64) ([]float32, []uint16) {
	k = max(1, min(k, n, math.MaxUint16+1))
	rng := rand.New(rand.NewPCG(seed, 0xb47c))
	cent := make([]float32, k*dims)
	assign := make([]uint16, n)
	if n == 0 {
		return cent, assign
	}
	// Seed from a sample of at most 20k vectors (k-means++ is O(sample·k·dims)).
	m := min(n, max(20_000, 4*k))
	sample := make([]float32, 0, m*dims)
	for _, i := range rng.Perm(n)[:m] {
		sample = append(sample, v[i*dims:(i+1)*dims]...)
	}
	seedPlusPlus(sample, m, dims, k, cent, rng)
	seen := make([]float64, k)
	idx := make([]int, batch)
	near := make([]int, batch)
	for range max(iters, 1) {
		for b := range idx {
			idx[b] = rng.IntN(n)
			near[b] = nearest(v[idx[b]*dims:(idx[b]+1)*dims], cent, k, dims)
		}
		for b, i := range idx {
			c := near[b]
			seen[c]++
			eta := float32(1 / seen[c])
			row := cent[c*dims : (c+1)*dims]
			for j, x := range v[i*dims : (i+1)*dims] {
				row[j] += eta * (x - row[j])
			}
		}
		for c := range k {
			normalize(cent[c*dims : (c+1)*dims])
		}
	}
	for i := range n {
		assign[i] = uint16(nearest(v[i*dims:(i+1)*dims], cent, k, dims))
	}
	return cent, assign
}

func nearest(x, cent []float32, k, dims int) int {
	best, bestS := 0, float32(math.Inf(-1))
	for c := range k {
		if s := dot(x, cent[c*dims:(c+1)*dims]); s > bestS {
			best, bestS = c, s
		}
	}
	return best
}

func normalize(x []float32) {
	var s float64
	for _, f := range x {
		s += float64(f * f)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for j := range x {
		x[j] *= inv
	}
}
