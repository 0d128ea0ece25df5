package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/aisle-rec/aisle/hub/assistant/review"
	"github.com/aisle-rec/aisle/web"
)

// Defaults for the summary text scored by eval summaries, tuned on the
// FewSum Amazon train split (see hub/assistant/review tests).
const (
	evalSummaryWords   = 70
	evalSummaryVerdict = false
)

// runEvalSummaries scores "customers say" summaries against the FewSum
// Amazon gold summaries with ROUGE-1/2/L F1 (mean over the three
// references, then over products), beside two extractive baselines
// computed in the same run and the published test-split figures.
func runEvalSummaries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval summaries", "eval summaries -fewsum DIR|FILE [-split val|train] [-json]", stderr)
	dir := fs.String("fewsum", "", "FewSum folder (holding amazon/{train,val}.csv, or the amazon folder itself) or one tab-separated file")
	split := fs.String("split", "val", "which split to score: val or train (the published figures are on the withheld test split)")
	asJSON := fs.Bool("json", false, `print {"rouge1":…,"rouge2":…,"rougeL":…} for Aisle only`)
	words := fs.Int("words", evalSummaryWords, "summary length in words")
	verdict := fs.Bool("verdict", evalSummaryVerdict, "start the summary with the one-line verdict")
	reviewsFile := fs.String("reviews", "", "JSON lines of rated reviews (plain or .gz) to train sentiment on; default the demo shop's reviews")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fs.usageErr("-fewsum is required")
	}
	if *split != "val" && *split != "train" {
		return fs.usageErr("-split must be val or train, not %q", *split)
	}
	path := *dir
	if st, err := os.Stat(path); err != nil {
		return err
	} else if st.IsDir() {
		path = filepath.Join(*dir, "amazon", *split+".csv")
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(*dir, *split+".csv")
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	products, err := review.ReadFewSum(f)
	f.Close()
	if err != nil {
		return err
	}
	if len(products) == 0 {
		return fmt.Errorf("eval summaries: no products in %s", path)
	}

	var src io.Reader = web.DemoReviews()
	if *reviewsFile != "" {
		rf, err := os.Open(*reviewsFile)
		if err != nil {
			return err
		}
		defer rf.Close()
		src = rf
	}
	texts, stars, err := review.ReadRated(src)
	if err != nil {
		return err
	}
	sent, err := review.TrainSentiment(texts, stars, review.SentimentOptions{})
	if err != nil {
		return err
	}

	var aisle, centroid, first review.Rouge
	for _, p := range products {
		if err := ctx.Err(); err != nil {
			return err
		}
		sum := review.Summarize(p.Reviews, sent, review.SummaryOptions{})
		add(&aisle, review.ScoreMulti(sum.Text(*words, *verdict), p.References))
		add(&centroid, review.ScoreMulti(review.CentroidReview(p.Reviews, *words), p.References))
		add(&first, review.ScoreMulti(firstWords(p.Reviews[0].Text, *words), p.References))
	}
	n := float64(len(products))
	for _, r := range []*review.Rouge{&aisle, &centroid, &first} {
		r.R1, r.R2, r.RL = r.R1/n, r.R2/n, r.RL/n
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]float64{
			"rouge1": round4(aisle.R1), "rouge2": round4(aisle.R2), "rougeL": round4(aisle.RL),
		})
	}
	fmt.Fprintf(stdout, "FewSum %s: %d products, %s; ROUGE F1 ×100, no stemming, mean over 3 references\n\n", *split, len(products), path)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tsplit\tR-1\tR-2\tR-L\t")
	row := func(name, sp string, r review.Rouge) {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f\t\n", name, sp, 100*r.R1, 100*r.R2, 100*r.RL)
	}
	row(fmt.Sprintf("Aisle (extractive, %d words)", *words), *split, aisle)
	row(fmt.Sprintf("baseline: centroid review, %d words", *words), *split, centroid)
	row(fmt.Sprintf("baseline: first review, %d words", *words), *split, first)
	row("FewSum (published)", "test*", review.Rouge{R1: .3356, R2: .0716, RL: .2149})
	row("Copycat (published)", "test*", review.Rouge{R1: .2888, R2: .0544, RL: .1972})
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\n* published figures are on the withheld Amazon test split, not comparable row for row")
	return nil
}

func add(dst *review.Rouge, x review.Rouge) { dst.R1 += x.R1; dst.R2 += x.R2; dst.RL += x.RL }

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
