package dashboard

import "math"

// Projection maps vectors of Dims values onto the plane spanned by the
// first two principal components of the data it was fitted on.
type Projection struct {
	Dims int
	Mean []float64
	Axes [2][]float64 // unit vectors, orthogonal
}

// Fit computes the mean and the first two principal axes of the rows of x
// (n rows of dims values, row-major) by power iteration on the covariance,
// applied implicitly as Xᵀ(Xv) so the dims×dims matrix is never formed. It
// is deterministic: a fixed start vector, a fixed iteration bound, and the
// sign of each axis chosen so its largest component is positive.
func Fit(x []float64, dims int) Projection {
	p := Projection{Dims: dims, Mean: make([]float64, dims)}
	if dims == 0 {
		return p
	}
	n := len(x) / dims
	if n == 0 {
		p.Axes = [2][]float64{make([]float64, dims), make([]float64, dims)}
		return p
	}
	for i := range n {
		for j, v := range x[i*dims : (i+1)*dims] {
			p.Mean[j] += v
		}
	}
	for j := range p.Mean {
		p.Mean[j] /= float64(n)
	}
	c := make([]float64, len(x))
	for i := range n {
		row := x[i*dims : (i+1)*dims]
		for j, v := range row {
			c[i*dims+j] = v - p.Mean[j]
		}
	}
	xv := make([]float64, n)
	for k := range 2 {
		v := make([]float64, dims)
		for j := range v {
			// A fixed start with no symmetry that a real axis is likely
			// to be orthogonal to.
			v[j] = 1 + float64((j*7919)%13)/13
		}
		orthonormalize(v, p.Axes[:k])
		next := make([]float64, dims)
		for it := 0; it < 300; it++ {
			for i := range n {
				xv[i] = dot(c[i*dims:(i+1)*dims], v)
			}
			clear(next)
			for i := range n {
				row, s := c[i*dims:(i+1)*dims], xv[i]
				for j := range next {
					next[j] += row[j] * s
				}
			}
			if !orthonormalize(next, p.Axes[:k]) {
				break // no variance left in this direction
			}
			diff := 0.0
			for j := range v {
				diff += math.Abs(next[j] - v[j])
			}
			v, next = next, v
			if diff < 1e-10 {
				break
			}
		}
		// Fix the sign so the same data always gives the same picture.
		big := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[big]) {
				big = j
			}
		}
		if v[big] < 0 {
			for j := range v {
				v[j] = -v[j]
			}
		}
		p.Axes[k] = v
	}
	return p
}

// Project returns the coordinates of v (Dims values) on the two axes.
func (p *Projection) Project(v []float64) (float64, float64) {
	var a, b float64
	for j, x := range v {
		d := x - p.Mean[j]
		a += d * p.Axes[0][j]
		b += d * p.Axes[1][j]
	}
	return a, b
}

// orthonormalize removes from v its components along the unit vectors in
// against and scales it to unit length; false if nothing is left.
func orthonormalize(v []float64, against [][]float64) bool {
	for _, u := range against {
		d := dot(v, u)
		for j := range v {
			v[j] -= d * u[j]
		}
	}
	norm := math.Sqrt(dot(v, v))
	if norm < 1e-12 || math.IsNaN(norm) {
		return false
	}
	for j := range v {
		v[j] /= norm
	}
	return true
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
