package snapshot

import "math"

// minWeightMax is the smallest graph maximum weight stored as such (the
// smallest normal float32); a graph whose weights are all below it is stored
// as all zero, which keeps the code grid exact.
const minWeightMax = 0x1p-126

// weightGrid maps graph weights to one-byte logarithmic codes and back for
// a graph with maximum weight max (see format.go).
type weightGrid struct {
	max   float32 // stored maximum, 0 or ≥ minWeightMax
	scale float64 // log1p(max), 0 when max is 0
	value [256]float32
}

// newWeightGrid builds the grid for a graph whose largest weight is m; a
// non-normal m gives the all-zero grid.
func newWeightGrid(m float32) *weightGrid {
	g := &weightGrid{}
	if !(m >= minWeightMax) || math.IsInf(float64(m), 0) {
		return g
	}
	g.max = m
	g.scale = math.Log1p(float64(m))
	for q := 1; q < 255; q++ {
		g.value[q] = float32(math.Expm1(float64(q) * g.scale / 255))
	}
	g.value[255] = m
	return g
}

// code returns the code of weight w (0 ≤ w ≤ max).
func (g *weightGrid) code(w float32) uint8 {
	if g.scale == 0 || !(w > 0) {
		return 0
	}
	q := math.Round(255 * math.Log1p(float64(w)) / g.scale)
	return uint8(min(max(q, 0), 255))
}
