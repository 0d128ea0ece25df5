package intent

import (
	"math"
	"sort"
)

// Classifier is anything that labels a message: the Model and the
// baselines used to judge it.
type Classifier interface {
	Predict(text string) (label string, confidence float64)
}

// LabelScore holds one label's figures in a Result.
type LabelScore struct {
	Precision, Recall, F1 float64
	Support               int // examples with this true label
}

// Result is a classifier's score on labelled examples.
type Result struct {
	N        int
	Accuracy float64
	// MacroF1 is the unweighted mean F1 over every label that occurs as a
	// true or a predicted label (scikit-learn's convention).
	MacroF1  float64
	PerLabel map[string]LabelScore
}

// Evaluate scores c on test.
func Evaluate(c Classifier, test []Example) Result {
	type tally struct{ tp, fp, fn int }
	t := map[string]*tally{}
	get := func(l string) *tally {
		if t[l] == nil {
			t[l] = &tally{}
		}
		return t[l]
	}
	correct := 0
	for _, e := range test {
		got, _ := c.Predict(e.Text)
		if got == e.Label {
			correct++
			get(e.Label).tp++
		} else {
			get(e.Label).fn++
			get(got).fp++
		}
	}
	r := Result{N: len(test), PerLabel: make(map[string]LabelScore, len(t))}
	if len(test) == 0 {
		return r
	}
	r.Accuracy = float64(correct) / float64(len(test))
	labels := make([]string, 0, len(t))
	for l := range t {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var sum float64
	for _, l := range labels {
		x := t[l]
		s := LabelScore{Support: x.tp + x.fn}
		s.Precision = ratio(x.tp, x.tp+x.fp)
		s.Recall = ratio(x.tp, x.tp+x.fn)
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		r.PerLabel[l] = s
		sum += s.F1
	}
	r.MacroF1 = sum / float64(len(labels))
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Majority is the baseline that always answers the most frequent training
// label (ties broken by label order).
type Majority struct {
	Label string
	Share float64
}

// TrainMajority fits the majority-class baseline.
func TrainMajority(examples []Example) Majority {
	n := map[string]int{}
	for _, e := range examples {
		n[e.Label]++
	}
	var best Majority
	bestN := -1
	for l, c := range n {
		if c > bestN || (c == bestN && l < best.Label) {
			best, bestN = Majority{Label: l}, c
		}
	}
	if len(examples) > 0 {
		best.Share = float64(bestN) / float64(len(examples))
	}
	return best
}

// Predict returns the majority label and its share of the training set.
func (m Majority) Predict(string) (string, float64) { return m.Label, m.Share }

// Keyword is the bag-of-words nearest-centroid baseline: each label is the
// normalised mean of its examples' L2-normalised word-count vectors, and a
// message goes to the label with the highest cosine.
type Keyword struct {
	labels    []string
	centroids []map[string]float64
}

// TrainKeyword fits the keyword baseline.
func TrainKeyword(examples []Example) *Keyword {
	idx := map[string]int{}
	k := &Keyword{}
	for _, e := range examples {
		if _, ok := idx[e.Label]; !ok {
			idx[e.Label] = 0
			k.labels = append(k.labels, e.Label)
		}
	}
	sort.Strings(k.labels)
	k.centroids = make([]map[string]float64, len(k.labels))
	for i, l := range k.labels {
		idx[l] = i
		k.centroids[i] = map[string]float64{}
	}
	for _, e := range examples {
		c := k.centroids[idx[e.Label]]
		for w, v := range bagOfWords(e.Text) {
			c[w] += v
		}
	}
	for _, c := range k.centroids {
		normalize(c)
	}
	return k
}

// Predict returns the nearest centroid's label and the cosine to it.
func (k *Keyword) Predict(text string) (string, float64) {
	v := bagOfWords(text)
	best, bestS := "", math.Inf(-1)
	for i, c := range k.centroids {
		var s float64
		for w, x := range v {
			s += x * c[w]
		}
		if s > bestS {
			best, bestS = k.labels[i], s
		}
	}
	return best, bestS
}

func bagOfWords(text string) map[string]float64 {
	m := map[string]float64{}
	for _, w := range words(text) {
		m[w]++
	}
	normalize(m)
	return m
}

func normalize(m map[string]float64) {
	var n float64
	for _, v := range m {
		n += v * v
	}
	if n == 0 {
		return
	}
	n = math.Sqrt(n)
	for w := range m {
		m[w] /= n
	}
}
