// Package intent detects what a shopper wants (order status, returns,
// payment, …) from one message. It trains a small multinomial logistic
// regression over hashed word and character n-grams from labelled examples
// (the Bitext customer-support CSV by default), in pure Go and
// deterministically: the same examples and options give the same model,
// byte for byte.
package intent

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// feature is one entry of a sparse, L2-normalised feature vector.
type feature struct {
	idx uint32
	val float32
}

// words lower-cases text and splits it into runs of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(seed uint64, s string) uint64 {
	h := uint64(fnvOffset) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	// Final avalanche (splitmix64 finaliser) so low bits are well mixed.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Distinct seeds keep the n-gram kinds apart in the hashed space.
const (
	seedUnigram = 1
	seedBigram  = 2
	seedChar    = 3
)

// counts returns the hashed n-gram counts of text: word unigrams and
// bigrams, and character 3–5-grams of the space-joined words padded with a
// space at each end. Digits runs are folded to a single "0" so that order
// numbers do not become features.
func counts(text string, dim uint32) map[uint32]float64 {
	ws := words(text)
	for i, w := range ws {
		if isDigits(w) {
			ws[i] = "0"
		}
	}
	m := make(map[uint32]float64, 8*len(ws)+8)
	add := func(seed uint64, s string) { m[uint32(hashString(seed, s)%uint64(dim))]++ }
	for i, w := range ws {
		add(seedUnigram, w)
		if i > 0 {
			add(seedBigram, ws[i-1]+" "+w)
		}
	}
	joined := []rune(" " + strings.Join(ws, " ") + " ")
	for n := 3; n <= 5; n++ {
		for i := 0; i+n <= len(joined); i++ {
			add(seedChar, string(joined[i:i+n]))
		}
	}
	return m
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// vectorize weights counts as (1+log tf)·idf, L2-normalises them, and
// returns them sorted by index. idf may be nil (all ones).
func vectorize(m map[uint32]float64, idf []float32) []feature {
	v := make([]feature, 0, len(m))
	var norm float64
	for idx, c := range m {
		w := 1 + math.Log(c)
		if idf != nil {
			w *= float64(idf[idx])
		}
		if w == 0 {
			continue
		}
		v = append(v, feature{idx, float32(w)})
		norm += w * w
	}
	sort.Slice(v, func(i, j int) bool { return v[i].idx < v[j].idx })
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v {
			v[i].val *= inv
		}
	}
	return v
}
