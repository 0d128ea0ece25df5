package snapshot

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// The size budget: at most 200 bytes per item for a 100,000-item snapshot
// with 128 dims and 20 co-visitation neighbours, everything included.
const (
	budgetItems    = 100_000
	budgetDims     = 128
	budgetNbrs     = 20
	budgetClusters = 64
	budgetPerItem  = 200
)

var budget = sync.OnceValue(func() *Snapshot {
	return Synthetic(budgetItems, budgetDims, budgetNbrs, budgetClusters, 1)
})

func TestSizeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 100,000 items")
	}
	s := budget()
	n := float64(s.Len())
	raw := mustEncode(t, s, EncodeOptions{})
	deflated := mustEncode(t, s, EncodeOptions{Compress: true})
	t.Logf("%d items, %d dims, %d neighbours: %.1f bytes/item uncompressed, %.1f bytes/item deflated",
		s.Len(), s.Dims, budgetNbrs, float64(len(raw))/n, float64(len(deflated))/n)
	if per := float64(len(deflated)) / n; per > budgetPerItem {
		t.Errorf("deflated snapshot takes %.1f bytes/item, over the budget of %d", per, budgetPerItem)
	}

	// The same snapshot with items in random order (a builder that does not
	// number items cluster by cluster) costs more; logged, not asserted.
	shuffled, err := Renumber(s, rand.New(rand.NewPCG(1, 2)).Perm(s.Len()))
	if err != nil {
		t.Fatal(err)
	}
	b := mustEncode(t, shuffled, EncodeOptions{Compress: true})
	t.Logf("items in random order: %.1f bytes/item deflated", float64(len(b))/n)
}

func TestRenumber(t *testing.T) {
	s := Synthetic(500, 8, 6, 5, 3)
	perm := rand.New(rand.NewPCG(3, 4)).Perm(s.Len())
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	r, err := Renumber(s, perm)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(r); err != nil {
		t.Fatal(err)
	}
	for i, p := range perm[:50] {
		if r.Items.IDs[p] != s.Items.IDs[i] {
			t.Fatalf("item %d: id %q at %d, want %q", i, r.Items.IDs[p], p, s.Items.IDs[i])
		}
		nb, _ := s.CoVisit.Row(uint32(i))
		rb, _ := r.CoVisit.Row(uint32(p))
		for k := range nb {
			if r.Items.IDs[rb[k]] != s.Items.IDs[nb[k]] {
				t.Fatalf("item %d neighbour %d: %q, want %q", i, k, r.Items.IDs[rb[k]], s.Items.IDs[nb[k]])
			}
		}
	}
	back, err := Renumber(r, inv)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(back, s); d != "" {
		t.Fatalf("Renumber(Renumber(s, p), p⁻¹) != s: %s", d)
	}
	// ClusterOrder sorts by cluster, then popularity, highest first.
	again, err := Renumber(r, ClusterOrder(r))
	if err != nil {
		t.Fatal(err)
	}
	cl, pop := again.Items.Cluster, again.Items.Popularity
	for i := 1; i < again.Len(); i++ {
		if cl[i] < cl[i-1] || (cl[i] == cl[i-1] && pop[i] > pop[i-1]) {
			t.Fatalf("after ClusterOrder, item %d (cluster %d, popularity %v) follows (%d, %v)", i, cl[i], pop[i], cl[i-1], pop[i-1])
		}
	}
	for _, bad := range [][]int{perm[:10], append(slices.Clone(perm[1:]), perm[1]), append(slices.Clone(perm[1:]), -1)} {
		if _, err := Renumber(s, bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Renumber with a bad permutation: %v", err)
		}
	}
	if _, err := Renumber(&Snapshot{Items: Items{IDs: []string{"a"}}}, []int{0}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Renumber of an invalid snapshot: %v", err)
	}
}

func BenchmarkEncode(b *testing.B) {
	s := budget()
	for _, opt := range []EncodeOptions{{}, {Compress: true}, {Compress: true, Level: 1}} {
		b.Run(optName(opt), func(b *testing.B) {
			b.ReportAllocs()
			var out []byte
			cpu := processCPU()
			for b.Loop() {
				var err error
				if out, err = Encode(s, opt); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(len(out))/float64(s.Len()), "bytes/item")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	s := budget()
	for _, opt := range []EncodeOptions{{}, {Compress: true}, {Compress: true, Level: 1}} {
		b.Run(optName(opt), func(b *testing.B) {
			enc := mustEncode(b, s, opt)
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := Decode(enc, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(len(enc))/float64(s.Len()), "bytes/item")
		})
	}
}

// reportCPU reports the process CPU time per operation since start, a
// steadier figure than ns/op on a shared machine.
func reportCPU(b *testing.B, start int64) {
	if end := processCPU(); end > start {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}
