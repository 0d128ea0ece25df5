// Package review turns a product's customer reviews into signals a shopper
// can use: a sentiment model trained from the shop's own star ratings, a
// sentence splitter, an extractive "customers say" summariser (verdict,
// pros and cons, each point linked to the reviews behind it) and the ROUGE
// scorer used to evaluate it against the FewSum gold summaries.
//
// Everything here is pure and deterministic: no clock, no I/O beyond the
// io.Reader a caller hands in, no randomness except a seeded shuffle.
package review

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
)

// SentimentOptions configures TrainSentiment. The zero value picks the
// defaults documented on each field.
type SentimentOptions struct {
	// Bits is log2 of the hashed feature space (default 18).
	Bits int
	// Epochs over the training set (default 10).
	Epochs int
	// LearningRate is the initial SGD step (default 0.5), decayed as 1/(1+t/n).
	LearningRate float64
	// L2 is the weight decay per step (default 1e-6).
	L2 float64
	// Seed drives the shuffle between epochs (default 1).
	Seed uint64
	// Positive and Negative are the star thresholds: ratings >= Positive are
	// positive, <= Negative negative, anything between is ignored
	// (defaults 4 and 2).
	Positive, Negative float64
}

func (o SentimentOptions) withDefaults() SentimentOptions {
	if o.Bits <= 0 {
		o.Bits = 18
	}
	if o.Epochs <= 0 {
		o.Epochs = 10
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 0.5
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Positive == 0 {
		o.Positive = 4
	}
	if o.Negative == 0 {
		o.Negative = 2
	}
	return o
}

// Sentiment is a logistic-regression polarity model over hashed word
// unigrams and bigrams with negation marking. It is immutable once trained
// and safe for concurrent use.
type Sentiment struct {
	w    []float32
	b    float64
	mask uint64
}

// ErrNoLabels is returned when the training set lacks either class.
var ErrNoLabels = errors.New("review: sentiment needs both positive and negative ratings")

// TrainSentiment fits a Sentiment from review texts and their star ratings:
// no hand-labelled data is needed. Classes are re-weighted so the minority
// (usually negative) class counts as much as the majority. Training is
// deterministic for a given input and options.
func TrainSentiment(texts []string, stars []float64, opt SentimentOptions) (*Sentiment, error) {
	if len(texts) != len(stars) {
		return nil, fmt.Errorf("review: %d texts but %d ratings", len(texts), len(stars))
	}
	opt = opt.withDefaults()
	type ex struct {
		f []uint64
		y float64
	}
	s := &Sentiment{w: make([]float32, 1<<opt.Bits), mask: 1<<opt.Bits - 1}
	var data []ex
	var npos, nneg int
	for i, t := range texts {
		var y float64
		switch {
		case stars[i] >= opt.Positive:
			y, npos = 1, npos+1
		case stars[i] <= opt.Negative:
			y, nneg = 0, nneg+1
		default:
			continue
		}
		data = append(data, ex{s.features(t), y})
	}
	if npos == 0 || nneg == 0 {
		return nil, ErrNoLabels
	}
	n := float64(len(data))
	wPos, wNeg := n/(2*float64(npos)), n/(2*float64(nneg))
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	t := 0.0
	for range opt.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := data[i]
			lr := opt.LearningRate / (1 + t/n)
			t++
			if len(e.f) == 0 {
				continue
			}
			v := 1 / math.Sqrt(float64(len(e.f)))
			p := sigmoid(s.margin(e.f))
			cw := wNeg
			if e.y == 1 {
				cw = wPos
			}
			g := cw * (p - e.y)
			for _, h := range e.f {
				wi := float64(s.w[h])
				s.w[h] = float32(wi - lr*(g*v+opt.L2*wi))
			}
			s.b -= lr * g * 0.1
		}
	}
	return s, nil
}

// Score returns the polarity of a review or sentence in [-1, 1]: positive
// means the text reads like a 4–5 star review, negative like a 1–2 star one.
// Text with no known words scores near 0.
func (s *Sentiment) Score(text string) float64 {
	f := s.features(text)
	if len(f) == 0 {
		return 0
	}
	return 2*sigmoid(s.margin(f)) - 1
}

// Prob is the model's probability that text is positive.
func (s *Sentiment) Prob(text string) float64 { return (s.Score(text) + 1) / 2 }

func (s *Sentiment) margin(f []uint64) float64 {
	z := s.b
	v := 1 / math.Sqrt(float64(len(f)))
	for _, h := range f {
		z += float64(s.w[h]) * v
	}
	return z
}

func sigmoid(z float64) float64 {
	if z < -30 {
		z = -30
	} else if z > 30 {
		z = 30
	}
	return 1 / (1 + math.Exp(-z))
}

func (s *Sentiment) features(text string) []uint64 {
	toks := SentimentTokens(text)
	out := make([]uint64, 0, 2*len(toks))
	prev := ""
	for _, t := range toks {
		if isPunct(t) {
			prev = ""
			continue
		}
		out = append(out, hash(t)&s.mask)
		if prev != "" {
			out = append(out, hash(prev+" "+t)&s.mask)
		}
		prev = t
	}
	return out
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func isPunct(t string) bool { return len(t) == 1 && strings.ContainsAny(t, ".,!?;:()") }

var negators = map[string]bool{
	"not": true, "no": true, "never": true, "nor": true, "cannot": true, "without": true,
	"nothing": true, "none": true, "neither": true, "hardly": true, "barely": true,
}

// SentimentTokens lower-cases text, splits it into words and punctuation
// and marks negation: every word after "not", "no", "never", "n't" … up to
// the next punctuation mark gets a "not_" prefix ("not good" → "not",
// "not_good").
func SentimentTokens(text string) []string {
	var toks []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '\'' || r == '’':
			if b.Len() > 0 {
				b.WriteByte('\'')
			}
		case strings.ContainsRune(".,!?;:()", r):
			flush()
			toks = append(toks, string(r))
		default:
			flush()
		}
	}
	flush()
	neg := false
	for i, t := range toks {
		t = strings.TrimSuffix(t, "'")
		toks[i] = t
		if isPunct(t) {
			neg = false
			continue
		}
		if neg {
			toks[i] = "not_" + t
		}
		if negators[t] || strings.HasSuffix(t, "n't") {
			neg = true
		}
	}
	return toks
}
