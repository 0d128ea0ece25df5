package linalg

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSymEigen(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 12
	a := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			v := r.NormFloat64()
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	orig := append([]float64(nil), a...)
	vals, vecs := SymEigen(a, n)
	for k := range n {
		for i := range n {
			var av float64
			for j := range n {
				av += orig[i*n+j] * vecs[j*n+k]
			}
			if math.Abs(av-vals[k]*vecs[i*n+k]) > 1e-8 {
				t.Fatalf("eigenpair %d: (Av)[%d]=%v, λv=%v", k, i, av, vals[k]*vecs[i*n+k])
			}
		}
	}
}
