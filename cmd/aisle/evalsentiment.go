package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/hub/assistant/review"
)

// runEvalSentiment implements "aisle eval sentiment": the review sentiment
// model, trained from star ratings alone, scored on a held-out fifth of the
// file (every fifth review), stars ≥ 4 positive and ≤ 2 negative.
func runEvalSentiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval sentiment", "eval sentiment --reviews FILE [--json]", stderr)
	path := fs.String("reviews", "", "rated reviews as JSON lines, plain or .gz (Amazon 2018 format: overall, reviewText, summary) (required)")
	asJSON := fs.Bool("json", false, `print {"macro_f1":…,"accuracy":…} and the other figures as one JSON object`)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *path == "" {
		return fs.usageErr("--reviews is required")
	}
	f, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	texts, stars, err := review.ReadRated(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	r, err := review.HoldOutSentiment(texts, stars, review.SentimentOptions{})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s: %d reviews; trained on 4 in 5, scored on the other %d rated ≥ 4 or ≤ 2 stars (%d positive, %d negative) in %v\n\n",
		*path, len(texts), r.N, r.Positive, r.Negative, time.Since(start).Round(time.Millisecond))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tmacro-F1\taccuracy\tAUC")
	fmt.Fprintf(tw, "aisle (from star ratings)\t%.4f\t%.4f\t%.4f\n", r.MacroF1, r.Accuracy, r.AUC)
	fmt.Fprintf(tw, "majority class\t%.4f\t%.4f\t–\n", r.MajorityMacroF1, r.MajorityAccuracy)
	return tw.Flush()
}
