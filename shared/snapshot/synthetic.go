package snapshot

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Synthetic returns a deterministic, valid snapshot of n items with dims
// vector dimensions, nbrs co-visitation neighbours per item and the given
// number of clusters, for benchmarks and tests. The same arguments always
// give the same snapshot.
//
// It looks like a real shop's: ids like "SKU-0001234", titles of about 40
// characters built from brand, attribute and product words, category paths
// that follow the clusters, prices ending in .99 or .49, 92% in stock,
// Zipf-like popularity, unit item vectors around their cluster's centroid
// (cosine about 0.7) quantised to int8, co-visitation rows drawn three parts
// from the item's own cluster and one from a neighbouring cluster in
// proportion to popularity, a sparser bought-together graph, and 100
// trending items. Items are numbered cluster by cluster, most popular first
// within a cluster, as a snapshot builder should number them (see
// format.go); ids are in random order.
//
// Arguments are clamped to sensible ranges: dims and clusters at least 1,
// clusters at most min(n, 65536), nbrs at most n-1.
func Synthetic(n, dims, nbrs, clusters int, seed uint64) *Snapshot {
	n = max(n, 0)
	dims = max(dims, 1)
	clusters = max(1, min(clusters, n, 1<<16))
	nbrs = max(0, min(nbrs, n-1))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	s := &Snapshot{
		Shop:   "demo-shop",
		Region: "eu-west",
		Built:  1767225600000, // 2026-01-01T00:00:00Z
		Dims:   dims,
	}
	if n == 0 {
		s.Dims = 0
		return s
	}

	// Cluster sizes vary; items are numbered cluster by cluster.
	share := make([]float64, clusters)
	var sum float64
	for c := range share {
		share[c] = 0.3 + r.ExpFloat64()
		sum += share[c]
	}
	first := make([]int, clusters+1) // first item of each cluster
	for c := range clusters {
		first[c+1] = first[c] + 1 + int(float64(n-clusters)*share[c]/sum)
	}
	first[clusters] = n

	it := &s.Items
	it.IDs = make([]string, n)
	it.Titles = make([]string, n)
	it.Categories = make([]string, n)
	it.Prices = make([]float32, n)
	it.InStock = make([]bool, n)
	it.Cluster = make([]uint16, n)
	it.Popularity = make([]float32, n)
	s.ClusterLabels = make([]string, clusters)

	sku := r.Perm(n)
	popRank := r.Perm(n)
	title := make([]byte, 0, 64)
	brands := make([]string, 3000)
	for j := range brands {
		brands[j] = synthBrand(r)
	}
	lines := make([]string, 20000) // product lines
	for j := range lines {
		lines[j] = synthBrand(r)
	}
	for c := range clusters {
		dept := &synthDepts[c%len(synthDepts)]
		kind := (c / len(synthDepts)) % len(dept.kinds)
		s.ClusterLabels[c] = dept.kinds[kind]
		base := 5 * math.Exp(r.Float64()*3.4) // 5 to 150
		for i := first[c]; i < first[c+1]; i++ {
			k := kind
			if r.IntN(100) < 15 {
				k = r.IntN(len(dept.kinds))
			}
			it.Cluster[i] = uint16(c)
			it.Categories[i] = dept.paths[k]
			it.IDs[i] = skuID(sku[i])

			it.Titles[i] = synthTitle(r, title[:0], brands, lines, dept, k)

			p := math.Floor(base * math.Exp(0.5*r.NormFloat64()))
			if r.IntN(2) == 0 {
				p += 0.99
			} else {
				p += 0.49
			}
			it.Prices[i] = float32(p)
			it.InStock[i] = r.IntN(100) < 92
			it.Popularity[i] = float32(math.Floor(20000 * math.Pow(float64(popRank[i]+1), -0.85)))
		}
	}

	// Within a cluster, the most popular items come first.
	for c := range clusters {
		slices.SortFunc(it.Popularity[first[c]:first[c+1]], func(a, b float32) int { return cmp.Compare(b, a) })
	}

	// Vectors: unit centroid plus noise of about the same norm, normalised,
	// quantised with one scale per item; centroids are the cluster means.
	center := make([]float64, clusters*dims)
	for c := range clusters {
		v := center[c*dims : (c+1)*dims]
		var norm float64
		for j := range v {
			v[j] = r.NormFloat64()
			norm += v[j] * v[j]
		}
		for j := range v {
			v[j] /= math.Sqrt(norm)
		}
	}
	s.Vectors = make([]int8, n*dims)
	s.Scales = make([]float32, n)
	mean := make([]float64, clusters*dims)
	vec := make([]float64, dims)
	sigma := 1 / math.Sqrt(float64(dims))
	for i := range n {
		c := int(it.Cluster[i])
		var norm, top float64
		for j := range vec {
			vec[j] = center[c*dims+j] + sigma*r.NormFloat64()
			norm += vec[j] * vec[j]
		}
		norm = math.Sqrt(norm)
		for j := range vec {
			vec[j] /= norm
			mean[c*dims+j] += vec[j]
			top = max(top, math.Abs(vec[j]))
		}
		scale := float32(top / 127)
		s.Scales[i] = scale
		for j, x := range vec {
			s.Vectors[i*dims+j] = int8(math.Round(x / float64(scale)))
		}
	}
	s.Centroids = make([]float32, clusters*dims)
	for c := range clusters {
		size := float64(first[c+1] - first[c])
		for j := range dims {
			s.Centroids[c*dims+j] = float32(mean[c*dims+j] / size)
		}
	}

	// Popularity-proportional sampling within a cluster.
	cum := make([]float64, n)
	for c := range clusters {
		var acc float64
		for i := first[c]; i < first[c+1]; i++ {
			acc += 1 + float64(it.Popularity[i])
			cum[i] = acc
		}
	}
	pick := func(c int) uint32 {
		a, b := first[c], first[c+1]
		x := r.Float64() * cum[b-1]
		j, _ := slices.BinarySearch(cum[a:b], x)
		return uint32(a + min(j, b-a-1))
	}
	graph := func(rowLen func(i int) int, edges, own int, weight func() float64) Graph {
		g := Graph{
			Offsets: make([]uint32, n+1),
			Nbr:     make([]uint32, 0, edges),
			Weight:  make([]float32, 0, edges),
		}
		type edge struct {
			v uint32
			w float32
		}
		var row []edge
		for i := range n {
			c := int(it.Cluster[i])
			want := rowLen(i)
			row = row[:0]
			for tries := 0; len(row) < want && tries < 50*want; tries++ {
				var v uint32
				switch {
				case tries >= 10*want:
					v = uint32(r.IntN(n))
				case r.IntN(100) < own:
					v = pick(c)
				default:
					v = pick((c + 1 + r.IntN(min(3, clusters))) % clusters)
				}
				if int(v) == i || slices.ContainsFunc(row, func(e edge) bool { return e.v == v }) {
					continue
				}
				row = append(row, edge{v, float32(weight())})
			}
			slices.SortFunc(row, func(x, y edge) int {
				if d := cmp.Compare(y.w, x.w); d != 0 {
					return d
				}
				return cmp.Compare(x.v, y.v)
			})
			for _, e := range row {
				g.Nbr = append(g.Nbr, e.v)
				g.Weight = append(g.Weight, e.w)
			}
			g.Offsets[i+1] = uint32(len(g.Nbr))
		}
		return g
	}
	s.CoVisit = graph(func(int) int { return nbrs }, n*nbrs, 75, func() float64 {
		return math.Floor(1+30*r.ExpFloat64()) / 10
	})
	bought := max(nbrs/4, min(nbrs, 1))
	s.BoughtTogether = graph(func(int) int {
		if r.IntN(100) < 60 {
			return bought
		}
		return 0
	}, n*bought*2/3, 90, func() float64 { return r.Float64() })

	// Trending: the most popular items, reshuffled by recent interest.
	trend := make([]uint32, n)
	score := make([]float32, n)
	for i := range n {
		trend[i] = uint32(i)
		score[i] = it.Popularity[i] * float32(0.5+r.Float64())
	}
	slices.SortFunc(trend, func(a, b uint32) int {
		if d := cmp.Compare(score[b], score[a]); d != 0 {
			return d
		}
		return cmp.Compare(a, b)
	})
	s.Trending = slices.Clone(trend[:min(n, 100)])
	s.TrendingScore = make([]float32, len(s.Trending))
	for j, v := range s.Trending {
		s.TrendingScore[j] = score[v]
	}
	return s
}

// skuID formats k+1 as "SKU-" and at least seven digits.
func skuID(k int) string {
	var b [24]byte
	d := strconv.AppendInt(b[:0], int64(k+1), 10)
	out := append(make([]byte, 0, 4+max(7, len(d))), "SKU-"...)
	for range 7 - len(d) {
		out = append(out, '0')
	}
	return string(append(out, d...))
}

// synthDept is a department of the synthetic shop: its product kinds, their
// category paths, and size units.
type synthDept struct {
	kinds, paths, units []string
}

var synthDepts = func() []synthDept {
	raw := []struct {
		name  string
		kinds []string
		units []string
	}{
		{"Beauty > Skin Care", []string{"Face Serum", "Night Cream", "Cleansing Gel", "Eye Cream", "Toner", "Sheet Mask", "Sunscreen SPF 50", "Exfoliator"}, []string{"ml", "g", "oz"}},
		{"Beauty > Hair Care", []string{"Shampoo", "Conditioner", "Hair Oil", "Hair Mask", "Dry Shampoo", "Styling Gel", "Curl Cream", "Heat Protectant"}, []string{"ml", "oz", "fl oz"}},
		{"Beauty > Makeup", []string{"Lipstick", "Mascara", "Foundation", "Eyeliner", "Blush", "Concealer", "Brow Pencil", "Setting Spray"}, []string{"g", "ml", "Shades"}},
		{"Home > Kitchen", []string{"Chef Knife", "Frying Pan", "Cutting Board", "Coffee Grinder", "Mixing Bowls", "Tea Kettle", "Spice Rack", "Salad Spinner"}, []string{"cm", "Pieces", "l"}},
		{"Home > Bedding", []string{"Duvet Cover", "Pillowcases", "Fitted Sheet", "Weighted Blanket", "Mattress Topper", "Throw Blanket", "Pillow", "Quilt"}, []string{"cm", "Thread Count", "Pieces"}},
		{"Sports > Fitness", []string{"Yoga Mat", "Dumbbells", "Resistance Bands", "Kettlebell", "Jump Rope", "Foam Roller", "Pull-Up Bar", "Gym Gloves"}, []string{"kg", "lb", "cm"}},
		{"Electronics > Audio", []string{"Earbuds", "Headphones", "Speaker", "Soundbar", "Turntable", "Microphone", "Amplifier", "Radio"}, []string{"W", "Hours", "mm"}},
		{"Garden > Tools", []string{"Pruning Shears", "Garden Hose", "Trowel", "Rake", "Watering Can", "Hedge Trimmer", "Wheelbarrow", "Kneeler"}, []string{"m", "cm", "l"}},
	}
	out := make([]synthDept, len(raw))
	for i, d := range raw {
		out[i] = synthDept{kinds: d.kinds, units: d.units}
		for _, k := range d.kinds {
			out[i].paths = append(out[i].paths, d.name+" > "+k)
		}
	}
	return out
}()

// synthBrand makes up a brand name of two or three syllables.
func synthBrand(r *rand.Rand) string {
	b := make([]byte, 0, 16)
	for j := range 2 + r.IntN(2) {
		syl := synthSyllables[r.IntN(len(synthSyllables))]
		if j == 0 {
			b = append(b, syl[0]-'a'+'A')
			syl = syl[1:]
		}
		b = append(b, syl...)
	}
	return string(b)
}

// synthTitle appends a product title of about 40 characters to b.
func synthTitle(r *rand.Rand, b []byte, brands, lines []string, dept *synthDept, kind int) string {
	b = append(b, brands[r.IntN(len(brands))]...)
	if r.IntN(4) != 0 {
		b = append(b, ' ')
		b = append(b, lines[r.IntN(len(lines))]...)
	}
	for range 1 + r.IntN(2) {
		b = append(b, ' ')
		b = append(b, synthAdjectives[r.IntN(len(synthAdjectives))]...)
	}
	b = append(b, ' ')
	b = append(b, dept.kinds[kind]...)
	switch r.IntN(4) {
	case 0:
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(1+r.IntN(500)), 10)
		b = append(b, ' ')
		b = append(b, dept.units[r.IntN(len(dept.units))]...)
	case 1:
		b = append(b, " (Pack of "...)
		b = strconv.AppendInt(b, int64(2+r.IntN(11)), 10)
		b = append(b, ')')
	case 2:
		b = append(b, ", "...)
		b = append(b, synthColours[r.IntN(len(synthColours))]...)
	default:
		b = append(b, ' ')
		b = append(b, "ABCDEFGHJKLMNPRSTVXZ"[r.IntN(20)], "ABCDEFGHJKLMNPRSTVXZ"[r.IntN(20)])
		b = strconv.AppendInt(b, int64(10+r.IntN(9990)), 10)
	}
	if len(b) > 48 {
		b = b[:48]
		if j := bytes.LastIndexByte(b, ' '); j > 30 {
			b = b[:j]
		}
	}
	return string(b)
}

var synthSyllables = []string{
	"lu", "mo", "ra", "ve", "ri", "dia", "nor", "sol", "en", "ka", "bel", "mont",
	"au", "rel", "fjo", "ti", "oak", "ha", "pu", "stra", "ze", "phy", "cel", "mar",
	"qui", "em", "ber", "ion", "ax", "vo", "lin", "dor", "sa", "ny", "kor", "el",
	"gra", "pho", "tek", "wen", "bra", "vis", "ost", "ul", "cra", "fen", "zu", "mi",
	"ap", "dro", "spe", "thy", "gal", "rix", "ond", "ju", "pla", "nex", "ov", "sky",
	"bo", "tro", "quin", "var", "eth", "lo", "gy", "cy", "wil", "hex", "ar", "do",
}

var synthAdjectives = []string{
	"Hydrating", "Organic", "Premium", "Classic", "Ultra-Light", "Professional",
	"Compact", "Deluxe", "Everyday", "Advanced", "Gentle", "Eco", "Wireless",
	"Nourishing", "Ergonomic", "Vintage", "Natural", "Soft", "Waterproof",
	"Portable", "Heavy-Duty", "Sensitive", "Intense", "Smart", "Foldable",
	"Non-Stick", "Quick-Dry", "Matte", "Radiant", "Firming", "Cordless", "Mini",
	"Large", "Travel", "Luxury", "Vegan", "Unscented", "Long-Lasting", "Silk",
	"Bamboo", "Ceramic", "Cotton", "Velvet", "Steel", "Charcoal", "Rose",
	"Lavender", "Coconut", "Argan", "Vitamin C", "Retinol", "Anti-Aging",
	"Repair", "Volume", "Sport", "Kids", "Family", "Pro", "Plus", "Original",
}

var synthColours = []string{
	"Black", "White", "Grey", "Navy", "Ivory", "Sage Green", "Blush Pink",
	"Charcoal", "Sand", "Teal", "Burgundy", "Mustard", "Sky Blue", "Rose Gold",
	"Silver", "Walnut", "Oat", "Coral", "Lilac", "Forest", "Unscented", "Citrus",
	"Vanilla", "Sea Salt", "Jasmine", "Mint", "Cedar", "Amber", "Fig", "Cherry",
}
