package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/hub/assistant/intent"
)

// runEvalIntents implements "aisle eval intents": it trains the assistant's
// intent classifier on --train and scores it, beside a majority-class and a
// keyword (nearest-centroid) baseline, on --test or on a stratified 20 %
// hold-out of --train.
func runEvalIntents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval intents", "eval intents --train FILE [--test FILE] [--json]", stderr)
	trainPath := fs.String("train", "", "labelled examples, Bitext CSV (instruction,intent columns) (required)")
	testPath := fs.String("test", "", "held-out examples, same format; default: a stratified 20 % of --train (seed 1)")
	asJSON := fs.Bool("json", false, `print {"accuracy":…,"macro_f1":…} for Aisle only`)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *trainPath == "" {
		return fs.usageErr("--train is required")
	}
	train, err := intent.LoadBitext(*trainPath)
	if err != nil {
		return err
	}
	var test []intent.Example
	note := ""
	if *testPath != "" {
		if test, err = intent.LoadBitext(*testPath); err != nil {
			return err
		}
		note = fmt.Sprintf("train %s (%d examples), test %s (%d examples)", *trainPath, len(train), *testPath, len(test))
	} else {
		all := len(train)
		train, test = intent.Split(train, 0.2, 1)
		note = fmt.Sprintf("no --test: stratified 80/20 split of %s (seed 1): %d train, %d test of %d examples", *trainPath, len(train), len(test), all)
	}
	if len(test) == 0 {
		return fmt.Errorf("eval intents: no test examples")
	}

	type row struct {
		name  string
		train time.Duration
		pred  time.Duration
		res   intent.Result
	}
	score := func(name string, fit func() (intent.Classifier, error)) (row, error) {
		if err := ctx.Err(); err != nil {
			return row{}, err
		}
		start := time.Now()
		c, err := fit()
		if err != nil {
			return row{}, fmt.Errorf("eval intents: %s: %w", name, err)
		}
		r := row{name: name, train: time.Since(start)}
		start = time.Now()
		r.res = intent.Evaluate(c, test)
		r.pred = time.Since(start)
		return r, nil
	}
	aisle, err := score("aisle", func() (intent.Classifier, error) { return intent.Train(train, intent.DefaultOptions()) })
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Accuracy float64 `json:"accuracy"`
			MacroF1  float64 `json:"macro_f1"`
		}{aisle.res.Accuracy, aisle.res.MacroF1})
	}
	rows := []row{aisle}
	for _, b := range []struct {
		name string
		fit  func() (intent.Classifier, error)
	}{
		{"keyword (nearest centroid)", func() (intent.Classifier, error) { return intent.TrainKeyword(train), nil }},
		{"majority class", func() (intent.Classifier, error) { return intent.TrainMajority(train), nil }},
	} {
		r, err := score(b.name, b.fit)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	fmt.Fprintln(stdout, note)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\taccuracy\tmacro-F1\ttrain\tpredict/s")
	for _, r := range rows {
		perSec := float64(len(test)) / max(r.pred.Seconds(), 1e-9)
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%v\t%.0f\n", r.name, r.res.Accuracy, r.res.MacroF1, r.train.Round(time.Millisecond), perSec)
	}
	return tw.Flush()
}
