package review

import (
	"errors"
	"sort"
)

// SentimentResult scores a sentiment model on held-out rated reviews:
// stars ≥ 4 are positive, ≤ 2 negative, 3-star reviews are left out.
type SentimentResult struct {
	N        int     `json:"n"`
	Positive int     `json:"positive"`
	Negative int     `json:"negative"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
	AUC      float64 `json:"auc"`
	// Majority is the macro-F1 and accuracy of always answering the
	// training split's majority class, for comparison.
	MajorityAccuracy float64 `json:"majority_accuracy"`
	MajorityMacroF1  float64 `json:"majority_macro_f1"`
}

// HoldOutSentiment trains a sentiment model on four reviews in five (every
// fifth review, in file order, is held out) and scores it on the held-out
// fifth: the `aisle eval sentiment` protocol.
func HoldOutSentiment(texts []string, stars []float64, opt SentimentOptions) (SentimentResult, error) {
	var trT, teT []string
	var trS, teS []float64
	for i := range texts {
		if i%5 == 4 {
			teT, teS = append(teT, texts[i]), append(teS, stars[i])
		} else {
			trT, trS = append(trT, texts[i]), append(trS, stars[i])
		}
	}
	s, err := TrainSentiment(trT, trS, opt)
	if err != nil {
		return SentimentResult{}, err
	}
	trainPos, trainNeg := 0, 0
	for _, x := range trS {
		switch {
		case x >= 4:
			trainPos++
		case x <= 2:
			trainNeg++
		}
	}
	type scored struct {
		p float64
		y bool
	}
	var pts []scored
	var c, maj confusion
	for i, x := range teT {
		if teS[i] > 2 && teS[i] < 4 {
			continue
		}
		y, p := teS[i] >= 4, s.Score(x)
		pts = append(pts, scored{p, y})
		c.add(y, p >= 0)
		maj.add(y, trainPos >= trainNeg)
	}
	if len(pts) == 0 {
		return SentimentResult{}, errors.New("review: no held-out review rated ≥ 4 or ≤ 2 stars")
	}
	r := SentimentResult{N: len(pts), Accuracy: c.accuracy(), MacroF1: c.macroF1(), MajorityAccuracy: maj.accuracy(), MajorityMacroF1: maj.macroF1()}
	sort.Slice(pts, func(i, j int) bool { return pts[i].p < pts[j].p })
	var rankSum float64
	for i, x := range pts { // ties are rare with continuous scores
		if x.y {
			rankSum += float64(i + 1)
			r.Positive++
		}
	}
	r.Negative = r.N - r.Positive
	if r.Positive > 0 && r.Negative > 0 {
		np, nn := float64(r.Positive), float64(r.Negative)
		r.AUC = (rankSum - np*(np+1)/2) / (np * nn)
	}
	return r, nil
}

// confusion counts binary outcomes, positive being the "true" class.
type confusion struct{ tp, tn, fp, fn float64 }

func (c *confusion) add(truth, predicted bool) {
	switch {
	case truth && predicted:
		c.tp++
	case truth:
		c.fn++
	case !predicted:
		c.tn++
	default:
		c.fp++
	}
}

func (c *confusion) accuracy() float64 { return (c.tp + c.tn) / (c.tp + c.tn + c.fp + c.fn) }

// macroF1 averages the F1 of both classes; a class never predicted nor
// present scores 0.
func (c *confusion) macroF1() float64 {
	f1 := func(tp, fp, fn float64) float64 {
		if tp == 0 {
			return 0
		}
		return 2 * tp / (2*tp + fp + fn)
	}
	return (f1(c.tp, c.fp, c.fn) + f1(c.tn, c.fn, c.fp)) / 2
}
