package review

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadRated reads JSON lines of rated reviews for TrainSentiment. It accepts
// both the shop's catalog.Review lines ("stars", "title", "text") and the
// Amazon review dumps ("overall", "reviewText"), plain or gzip-compressed.
// Lines without text or rating are skipped. Titles are left out: Amazon's
// "Five Stars" headlines would leak the label.
func ReadRated(r io.Reader) (texts []string, stars []float64, err error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	dec := json.NewDecoder(br)
	for n := 1; ; n++ {
		var v struct {
			Stars      *float64 `json:"stars"`
			Text       string   `json:"text"`
			Overall    *float64 `json:"overall"`
			ReviewText string   `json:"reviewText"`
		}
		if err := dec.Decode(&v); err == io.EOF {
			return texts, stars, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("review: rated reviews record %d: %w", n, err)
		}
		text, s := v.Text, v.Stars
		if s == nil {
			text, s = v.ReviewText, v.Overall
		}
		if s == nil || strings.TrimSpace(text) == "" {
			continue
		}
		texts = append(texts, text)
		stars = append(stars, *s)
	}
}
