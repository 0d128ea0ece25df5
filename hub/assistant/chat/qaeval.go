package chat

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/aisle-rec/aisle/hub/assistant/review"
	"github.com/aisle-rec/aisle/hub/catalog"
)

// QAResult scores answering product questions from the earlier questions
// and answers about the same product (the `aisle eval qa` protocol): each
// product's pairs in date order, each question after the first answered
// from the pairs before it, the answer given compared with the real one by
// ROUGE-L F1 (and ROUGE-1 F1).
type QAResult struct {
	Products  int `json:"products"`
	Questions int `json:"questions"`
	// Answered is how many questions the assistant answered from an
	// earlier pair (the rest it would pass on to a person).
	Answered int     `json:"answered"`
	Coverage float64 `json:"coverage"`
	// On the answered questions: the assistant, and the baselines on the
	// same questions.
	Aisle  QAScore `json:"aisle"`
	Recent QAScore `json:"recent"` // the latest earlier answer
	Random QAScore `json:"random"` // a random earlier answer (seed 1)
	Oracle QAScore `json:"oracle"` // the best earlier answer by ROUGE-L: an upper bound
	// On every question, answering even when unsure: the assistant's best
	// match, falling back to the latest answer when no earlier question
	// shares a word.
	AisleAll  QAScore `json:"aisle_all"`
	RecentAll QAScore `json:"recent_all"`
	RandomAll QAScore `json:"random_all"`
	OracleAll QAScore `json:"oracle_all"`
}

// QAScore is a mean ROUGE F1 in percent.
type QAScore struct {
	RougeL float64 `json:"rougeL"`
	Rouge1 float64 `json:"rouge1"`
}

type qaSum struct {
	l, one float64
	n      int
}

func (s *qaSum) add(candidate, reference string) {
	r := review.Score(candidate, reference)
	s.l += r.RL
	s.one += r.R1
	s.n++
}

func (s *qaSum) mean() QAScore {
	if s.n == 0 {
		return QAScore{}
	}
	return QAScore{RougeL: 100 * s.l / float64(s.n), Rouge1: 100 * s.one / float64(s.n)}
}

// EvaluateQA runs the protocol over pairs (in any order; ties in date keep
// the given order).
func EvaluateQA(pairs []catalog.QA) QAResult {
	byItem := map[string][]catalog.QA{}
	var items []string
	for _, q := range pairs {
		if _, ok := byItem[q.Item]; !ok {
			items = append(items, q.Item)
		}
		byItem[q.Item] = append(byItem[q.Item], q)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var res QAResult
	var aisle, recent, random, oracle, aisleAll, recentAll, randomAll, oracleAll qaSum
	for _, it := range items {
		qs := byItem[it]
		slices.SortStableFunc(qs, func(a, b catalog.QA) int { return cmp.Compare(a.Date, b.Date) })
		if len(qs) < 2 {
			continue
		}
		res.Products++
		for k := 1; k < len(qs); k++ {
			res.Questions++
			truth := qs[k].Answer
			pool := qs[:k]
			c := newCorpus(nil, nil, pool, nil, nil)
			hits := c.search(qs[k].Question, 1, nil)
			latest := pool[len(pool)-1].Answer
			randomAns := pool[rng.IntN(len(pool))].Answer
			best := ""
			bestL := -1.0
			for _, p := range pool {
				if l := review.Score(p.Answer, truth).RL; l > bestL {
					best, bestL = p.Answer, l
				}
			}
			guess := latest
			if len(hits) > 0 {
				guess = c.docs[hits[0].doc].answer
			}
			aisleAll.add(guess, truth)
			recentAll.add(latest, truth)
			randomAll.add(randomAns, truth)
			oracleAll.add(best, truth)
			if len(hits) > 0 && hits[0].coverage >= minQACoverage {
				res.Answered++
				aisle.add(guess, truth)
				recent.add(latest, truth)
				random.add(randomAns, truth)
				oracle.add(best, truth)
			}
		}
	}
	if res.Questions > 0 {
		res.Coverage = float64(res.Answered) / float64(res.Questions)
	}
	res.Aisle, res.Recent, res.Random, res.Oracle = aisle.mean(), recent.mean(), random.mean(), oracle.mean()
	res.AisleAll, res.RecentAll, res.RandomAll, res.OracleAll = aisleAll.mean(), recentAll.mean(), randomAll.mean(), oracleAll.mean()
	return res
}
