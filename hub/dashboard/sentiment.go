package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Sentiment thresholds: a review scoring above posAbove is positive, below
// negBelow negative, neutral between.
const (
	posAbove = 0.1
	negBelow = -0.1
	// MaxWorst is how many items with the most negative reviews are listed.
	MaxWorst = 8
)

// sentimentView is the page's review-sentiment section.
type sentimentView struct {
	Source                       string // what the scores come from
	Positive, Neutral, Negative  int
	PosShare, NeuShare, NegShare string
	Chart                        *barChart
	Worst                        []worstRow
}

type worstRow struct {
	Item, Title       string
	Negative, Reviews int
	Share             string
}

// sentiment scores every review of shop with the shop's own model (or its
// star ratings when Deps.Sentiment has none) and lists the items with the
// most negative reviews.
func (h *handler) sentiment(ctx context.Context, shop string) (*sentimentView, error) {
	rs, err := h.deps.Store.Reviews(ctx, shop, "")
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	v := &sentimentView{Source: "star ratings (4–5 positive, 1–2 negative)"}
	var score func(string) float64 // a review's text in [-1, 1], negative to positive
	if h.deps.Sentiment != nil {
		if score, err = h.deps.Sentiment(ctx, shop); err != nil {
			return nil, err
		}
		if score != nil {
			v.Source = fmt.Sprintf("the shop's own sentiment model, learned from its %d star ratings", len(rs))
		}
	}
	type tally struct{ neg, all int }
	per := map[string]*tally{}
	for _, r := range rs {
		var s float64
		if score != nil {
			s = score(r.Title + ". " + r.Text)
		} else {
			s = (r.Stars - 3) / 2
		}
		t := per[r.Item]
		if t == nil {
			t = &tally{}
			per[r.Item] = t
		}
		t.all++
		switch {
		case s > posAbove:
			v.Positive++
		case s < negBelow:
			v.Negative++
			t.neg++
		default:
			v.Neutral++
		}
	}
	n := float64(len(rs))
	pct := func(k int) string { return fmt.Sprintf("%.1f %%", 100*float64(k)/n) }
	v.PosShare, v.NeuShare, v.NegShare = pct(v.Positive), pct(v.Neutral), pct(v.Negative)
	v.Chart = newBarChart("reviews by sentiment", []series{{"", fillCount}}, []string{"positive", "neutral", "negative"},
		[][]float64{{float64(v.Positive)}, {float64(v.Neutral)}, {float64(v.Negative)}},
		[][]string{{fmt.Sprint(v.Positive)}, {fmt.Sprint(v.Neutral)}, {fmt.Sprint(v.Negative)}})
	titles := map[string]string{}
	if ps, err := h.deps.Store.Products(ctx, shop); err == nil {
		for _, p := range ps {
			titles[p.ID] = p.Title
		}
	}
	for id, t := range per {
		if t.neg > 0 {
			v.Worst = append(v.Worst, worstRow{Item: id, Title: titles[id], Negative: t.neg, Reviews: t.all,
				Share: fmt.Sprintf("%.0f %%", 100*float64(t.neg)/float64(t.all))})
		}
	}
	slices.SortFunc(v.Worst, func(a, b worstRow) int {
		if c := cmp.Compare(b.Negative, a.Negative); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Negative*a.Reviews, a.Negative*b.Reviews); c != 0 {
			return c
		}
		return cmp.Compare(a.Item, b.Item)
	})
	v.Worst = v.Worst[:min(len(v.Worst), MaxWorst)]
	return v, nil
}
