package intent

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Example is one labelled message.
type Example struct {
	Text  string
	Label string
}

// Options configure training. The zero value is not valid; start from
// DefaultOptions.
type Options struct {
	// Bits is log2 of the hashed feature space (10–24).
	Bits int
	// Epochs is the number of passes over the examples.
	Epochs int
	// LearningRate is AdaGrad's base step.
	LearningRate float64
	// L2 is the L2 penalty per update, applied to the weights an example touches.
	L2 float64
	// Seed fixes the order in which examples are visited.
	Seed uint64
}

// DefaultOptions returns the options used by the assistant and by
// `aisle eval intents`.
func DefaultOptions() Options {
	return Options{Bits: 18, Epochs: 12, LearningRate: 0.5, L2: 1e-6, Seed: 1}
}

// Validate reports whether the options can be used for training.
func (o Options) Validate() error {
	switch {
	case o.Bits < 10 || o.Bits > 24:
		return fmt.Errorf("intent: options: Bits %d outside 10..24", o.Bits)
	case o.Epochs < 1:
		return fmt.Errorf("intent: options: Epochs %d < 1", o.Epochs)
	case !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0):
		return fmt.Errorf("intent: options: LearningRate %v must be positive", o.LearningRate)
	case !(o.L2 >= 0) || math.IsInf(o.L2, 0):
		return fmt.Errorf("intent: options: L2 %v must be non-negative", o.L2)
	}
	return nil
}

// ErrNoExamples is returned by Train when there is nothing to learn from.
var ErrNoExamples = errors.New("intent: no training examples")

// Model is a trained intent classifier. It is safe for concurrent use.
type Model struct {
	dim    uint32
	labels []string  // sorted
	idf    []float32 // len dim
	w      []float32 // dim×k, feature-major: w[f*k+c]
	bias   []float32 // len k
}

// Labels returns the labels the model can predict, sorted.
func (m *Model) Labels() []string { return append([]string(nil), m.labels...) }

// Train fits a multinomial logistic regression with AdaGrad. Examples are
// visited in a shuffled order drawn from opt.Seed, so the result is fully
// determined by the examples (in their given order) and opt.
func Train(examples []Example, opt Options) (*Model, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	dim := uint32(1) << opt.Bits
	labelSet := map[string]int{}
	for _, e := range examples {
		labelSet[e.Label] = 0
	}
	labels := make([]string, 0, len(labelSet))
	for l := range labelSet {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for i, l := range labels {
		labelSet[l] = i
	}
	k := len(labels)

	// Document frequencies → smoothed idf.
	raw := make([]map[uint32]float64, len(examples))
	df := make([]uint32, dim)
	for i, e := range examples {
		raw[i] = counts(e.Text, dim)
		for idx := range raw[i] {
			df[idx]++
		}
	}
	n := float64(len(examples))
	idf := make([]float32, dim)
	for i := range idf {
		idf[i] = float32(math.Log((1+n)/(1+float64(df[i]))) + 1)
	}
	xs := make([][]feature, len(examples))
	ys := make([]int, len(examples))
	for i, e := range examples {
		xs[i] = vectorize(raw[i], idf)
		ys[i] = labelSet[e.Label]
	}

	m := &Model{dim: dim, labels: labels, idf: idf, w: make([]float32, int(dim)*k), bias: make([]float32, k)}
	if k == 1 {
		return m, nil
	}
	g := make([]float32, int(dim)*k) // AdaGrad accumulators
	gb := make([]float32, k)
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	p := make([]float64, k)
	lr, l2 := float32(opt.LearningRate), float32(opt.L2)
	const eps = 1e-8
	for ep := 0; ep < opt.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			m.scores(xs[i], p)
			softmax(p)
			p[ys[i]] -= 1 // gradient of the loss w.r.t. the scores
			for c := 0; c < k; c++ {
				gc := float32(p[c])
				gb[c] += gc * gc
				m.bias[c] -= lr * gc / float32(math.Sqrt(float64(gb[c])+eps))
			}
			for _, f := range xs[i] {
				row := int(f.idx) * k
				for c := 0; c < k; c++ {
					grad := float32(p[c])*f.val + l2*m.w[row+c]
					if grad == 0 {
						continue
					}
					g[row+c] += grad * grad
					m.w[row+c] -= lr * grad / float32(math.Sqrt(float64(g[row+c])+eps))
				}
			}
		}
	}
	return m, nil
}

// scores writes the raw class scores of x into out (len k).
func (m *Model) scores(x []feature, out []float64) {
	k := len(m.labels)
	for c := 0; c < k; c++ {
		out[c] = float64(m.bias[c])
	}
	for _, f := range x {
		row := m.w[int(f.idx)*k : int(f.idx)*k+k]
		for c, w := range row {
			out[c] += float64(w * f.val)
		}
	}
}

func softmax(p []float64) {
	mx := math.Inf(-1)
	for _, v := range p {
		mx = max(mx, v)
	}
	var s float64
	for i, v := range p {
		p[i] = math.Exp(v - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

// Probs returns the softmax probability of every label, in Labels order.
func (m *Model) Probs(text string) []float64 {
	p := make([]float64, len(m.labels))
	m.scores(vectorize(counts(text, m.dim), m.idf), p)
	softmax(p)
	return p
}

// Predict returns the most probable label and its softmax probability.
func (m *Model) Predict(text string) (label string, confidence float64) {
	top := m.Top(text, 1)
	return top[0].Label, top[0].Prob
}

// Scored is a label with its probability.
type Scored struct {
	Label string
	Prob  float64
}

// Top returns the k most probable labels, most probable first (ties by
// label). k is clamped to 1..len(Labels()).
func (m *Model) Top(text string, k int) []Scored {
	p := m.Probs(text)
	out := make([]Scored, len(p))
	for i, v := range p {
		out[i] = Scored{m.labels[i], v}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Prob > out[j].Prob })
	k = min(max(k, 1), len(out))
	return out[:k]
}
