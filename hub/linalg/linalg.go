// Package linalg holds the small dense linear algebra the hub's model
// building needs: the eigen-decomposition of a symmetric matrix (for the
// truncated SVD of item vectors and the PCA of distilled text models).
package linalg

import (
	"cmp"
	"math"
	"slices"
)

// SymEigen diagonalises the symmetric d×d matrix a (destroyed) by cyclic
// Jacobi rotations and returns its eigenvalues and the eigenvectors as the
// columns of a row-major matrix.
func SymEigen(a []float64, d int) ([]float64, []float64) {
	v := make([]float64, d*d)
	for i := range d {
		v[i*d+i] = 1
	}
	var scale float64
	for _, x := range a {
		scale += x * x
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off float64
		for p := range d {
			for q := p + 1; q < d; q++ {
				off += a[p*d+q] * a[p*d+q]
			}
		}
		if off <= 1e-24*scale || off == 0 {
			break
		}
		for p := range d {
			for q := p + 1; q < d; q++ {
				apq := a[p*d+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*d+q] - a[p*d+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				cs := 1 / math.Sqrt(t*t+1)
				sn := t * cs
				for k := range d {
					akp, akq := a[k*d+p], a[k*d+q]
					a[k*d+p] = cs*akp - sn*akq
					a[k*d+q] = sn*akp + cs*akq
				}
				for k := range d {
					apk, aqk := a[p*d+k], a[q*d+k]
					a[p*d+k] = cs*apk - sn*aqk
					a[q*d+k] = sn*apk + cs*aqk
				}
				for k := range d {
					vkp, vkq := v[k*d+p], v[k*d+q]
					v[k*d+p] = cs*vkp - sn*vkq
					v[k*d+q] = sn*vkp + cs*vkq
				}
			}
		}
	}
	vals := make([]float64, d)
	for i := range d {
		vals[i] = a[i*d+i]
	}
	return vals, v
}

// Descending returns the indices of vals ordered from the largest value to
// the smallest (ties keep their order): the principal components first.
func Descending(vals []float64) []int {
	order := make([]int, len(vals))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(vals[b], vals[a]) })
	return order
}
