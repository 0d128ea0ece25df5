package review

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// FewSumProduct is one row of a FewSum gold-summary file.
type FewSumProduct struct {
	Category   string
	Group      string
	Reviews    []catalog.Review // ids "<group>#1".."#8"
	References []string
}

// ReadFewSum parses the FewSum tab-separated format: a header, then
// cat, group_id, rev1..revN, summ1..summM and, for Amazon, rating1..ratingN.
// Reviews without a rating get 0 stars.
func ReadFewSum(r io.Reader) ([]FewSumProduct, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("review: empty FewSum file")
	}
	head := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	if _, ok := col["group_id"]; !ok {
		return nil, fmt.Errorf("review: FewSum header lacks group_id: %q", head)
	}
	var out []FewSumProduct
	line := 1
	for sc.Scan() {
		line++
		f := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
		if len(f) < len(head) {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("review: FewSum line %d: %d fields, want %d", line, len(f), len(head))
		}
		p := FewSumProduct{Group: f[col["group_id"]]}
		if c, ok := col["cat"]; ok {
			p.Category = f[c]
		}
		for k := 1; ; k++ {
			c, ok := col["rev"+strconv.Itoa(k)]
			if !ok {
				break
			}
			rv := catalog.Review{ID: fmt.Sprintf("%s#%d", p.Group, k), Item: p.Group, Text: f[c]}
			if rc, ok := col["rating"+strconv.Itoa(k)]; ok {
				if v, err := strconv.ParseFloat(strings.TrimSpace(f[rc]), 64); err == nil {
					rv.Stars = v
				}
			}
			p.Reviews = append(p.Reviews, rv)
		}
		for k := 1; ; k++ {
			c, ok := col["summ"+strconv.Itoa(k)]
			if !ok {
				break
			}
			p.References = append(p.References, f[c])
		}
		out = append(out, p)
	}
	return out, sc.Err()
}
