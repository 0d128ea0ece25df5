package review

import (
	"strings"
	"unicode"
)

// Rouge holds ROUGE F1 scores in [0, 1].
type Rouge struct{ R1, R2, RL float64 }

// RougeTokens is the tokenizer of the reference ROUGE implementation
// (Google's rouge-score without stemming): lower-case, every character that
// is not a letter or digit is a separator.
func RougeTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Score computes ROUGE-1, ROUGE-2 and ROUGE-L F1 of a candidate against
// one reference. ROUGE-N uses clipped n-gram counts; ROUGE-L uses the
// longest common subsequence over the whole token sequences (rougeL, not
// the sentence-split rougeLsum). No stemming, no stop-word removal.
func Score(candidate, reference string) Rouge {
	c, r := RougeTokens(candidate), RougeTokens(reference)
	return Rouge{R1: rougeN(c, r, 1), R2: rougeN(c, r, 2), RL: rougeL(c, r)}
}

// ScoreMulti is the FewSum protocol: the mean over the references of the
// candidate's F1 against each.
func ScoreMulti(candidate string, references []string) Rouge {
	var s Rouge
	if len(references) == 0 {
		return s
	}
	for _, ref := range references {
		x := Score(candidate, ref)
		s.R1 += x.R1
		s.R2 += x.R2
		s.RL += x.RL
	}
	n := float64(len(references))
	return Rouge{s.R1 / n, s.R2 / n, s.RL / n}
}

func f1(overlap, nc, nr int) float64 {
	if overlap == 0 || nc == 0 || nr == 0 {
		return 0
	}
	p, r := float64(overlap)/float64(nc), float64(overlap)/float64(nr)
	return 2 * p * r / (p + r)
}

func ngrams(t []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(t); i++ {
		m[strings.Join(t[i:i+n], " ")]++
	}
	return m
}

func rougeN(c, r []string, n int) float64 {
	cm, rm := ngrams(c, n), ngrams(r, n)
	ov := 0
	for g, k := range cm {
		ov += min(k, rm[g])
	}
	return f1(ov, max(len(c)-n+1, 0), max(len(r)-n+1, 0))
}

func rougeL(c, r []string) float64 {
	if len(c) == 0 || len(r) == 0 {
		return 0
	}
	prev := make([]int, len(r)+1)
	cur := make([]int, len(r)+1)
	for i := range c {
		for j := range r {
			if c[i] == r[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return f1(prev[len(r)], len(c), len(r))
}
