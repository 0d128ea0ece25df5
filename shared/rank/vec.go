package rank

import "math"

// addVector adds w times item it's (dequantised) vector to dst.
func (x *Index) addVector(dst []float32, it uint32, w float32) {
	d := x.dims
	q := x.snap.Vectors[int(it)*d : (int(it)+1)*d]
	sc := float32(w * x.snap.Scales[it])
	for j, v := range q {
		dst[j] += float32(float32(v) * sc)
	}
}

// quantizeInto stores the unit vector p as int8 in dst, scaled so its
// largest component is ±127, and returns the scale.
func quantizeInto(dst []int8, p []float32) float32 {
	var m float32
	for _, v := range p {
		m = max(m, v, -v)
	}
	if m == 0 {
		clear(dst)
		return 0
	}
	sc := m / 127
	inv := 1 / sc
	for j, v := range p {
		dst[j] = int8(math.Round(float64(v * inv)))
	}
	return sc
}

// cosine returns the cosine between the quantised unit profile (q, scale
// ps) and item it's vector. The dot product runs on integers, so it is exact
// and the same on every platform.
func (x *Index) cosine(q []int8, ps float32, it uint32) float32 {
	d := x.dims
	v := x.snap.Vectors[int(it)*d : (int(it)+1)*d]
	norm := x.norm[it]
	if norm == 0 {
		return 0
	}
	return float32(dotInt8(q, v)) * ps / norm
}

// dotInt8 returns the integer dot product of two equally long int8 vectors.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// itemDot returns the dot product of two items' quantised vectors.
func (x *Index) itemDot(a, b uint32) float32 {
	d := x.dims
	qa := x.snap.Vectors[int(a)*d : (int(a)+1)*d]
	qb := x.snap.Vectors[int(b)*d : (int(b)+1)*d]
	var s int32
	for j, v := range qa {
		s += int32(v) * int32(qb[j])
	}
	return float32(s) * x.snap.Scales[a] * x.snap.Scales[b]
}

func dot(a, b []float32) float32 {
	var s float32
	for j, v := range a {
		s += float32(v * b[j])
	}
	return s
}

func normalize(v []float32) {
	var n float32
	for _, x := range v {
		n += float32(x * x)
	}
	if n == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(float64(n)))
	for j := range v {
		v[j] *= inv
	}
}

// pushTop keeps the k highest-scoring candidates in h, a min-heap on
// (score, then higher item number is worse).
func pushTop(h []cand, k int, c cand) []cand {
	if k <= 0 {
		return h
	}
	if len(h) < k {
		h = append(h, c)
		up(h, len(h)-1)
		return h
	}
	if !worse(h[0], c) {
		return h
	}
	h[0] = c
	down(h, 0)
	return h
}

// worse reports whether a ranks below b: lower score, or equal score and a
// larger item number.
func worse(a, b cand) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.item > b.item
}

func up(h []cand, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func down(h []cand, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// sortDesc orders candidates best first (insertion sort: at most a few
// hundred entries, and it allocates nothing).
func sortDesc(cs []cand) {
	for i := 1; i < len(cs); i++ {
		c := cs[i]
		j := i
		for j > 0 && worse(cs[j-1], c) {
			cs[j] = cs[j-1]
			j--
		}
		cs[j] = c
	}
}
