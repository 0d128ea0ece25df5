package intent

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

// LoadBitext reads labelled examples from a CSV file in the Bitext
// customer-support format: a header row naming at least the columns
// "instruction" and "intent" (other columns are ignored). A file with
// "text" and "label" columns is accepted too.
func LoadBitext(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("intent: %w", err)
	}
	defer f.Close()
	ex, err := ReadBitext(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// ReadBitext is LoadBitext over a reader.
func ReadBitext(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("intent: empty file, expected a header row with instruction,intent columns")
	}
	if err != nil {
		return nil, fmt.Errorf("intent: header: %w", err)
	}
	textCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "instruction", "text":
			if textCol < 0 {
				textCol = i
			}
		case "intent", "label":
			if labelCol < 0 {
				labelCol = i
			}
		}
	}
	if textCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("intent: line 1: header %q lacks an instruction and an intent column", strings.Join(header, ","))
	}
	var out []Example
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("intent: %w", err) // csv.ParseError carries the line
		}
		line, _ := cr.FieldPos(0)
		text := strings.TrimSpace(rec[textCol])
		label := strings.TrimSpace(rec[labelCol])
		if text == "" {
			return nil, fmt.Errorf("intent: line %d: empty %s", line, header[textCol])
		}
		if label == "" {
			return nil, fmt.Errorf("intent: line %d: empty %s", line, header[labelCol])
		}
		out = append(out, Example{Text: text, Label: label})
	}
	if len(out) == 0 {
		return nil, errors.New("intent: no examples after the header")
	}
	return out, nil
}

// Split divides examples into train and test sets, stratified by label:
// for every label, round(n·testShare) of its n examples (at least one when
// n ≥ 2 and testShare > 0, never all of them) go to test. Which ones is
// drawn from seed; both outputs keep the input order.
func Split(examples []Example, testShare float64, seed uint64) (train, test []Example) {
	byLabel := map[string][]int{}
	for i, e := range examples {
		byLabel[e.Label] = append(byLabel[e.Label], i)
	}
	labels := make([]string, 0, len(byLabel))
	for l := range byLabel {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	rng := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))
	inTest := make([]bool, len(examples))
	for _, l := range labels {
		idx := byLabel[l]
		n := len(idx)
		t := int(math.Round(float64(n) * testShare))
		if testShare > 0 && n >= 2 && t == 0 {
			t = 1
		}
		t = min(max(t, 0), n-1)
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:t] {
			inTest[i] = true
		}
	}
	for i, e := range examples {
		if inTest[i] {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	return train, test
}
