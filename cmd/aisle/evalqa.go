package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/hub/assistant/chat"
	"github.com/aisle-rec/aisle/hub/catalog"
)

// runEvalQA implements "aisle eval qa": the assistant answers each product
// question from the questions and answers asked before it about the same
// product, scored by ROUGE against the real answer, beside the latest and a
// random earlier answer.
func runEvalQA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval qa", "eval qa --qa FILE [--json]", stderr)
	path := fs.String("qa", "", "product questions and answers: Amazon QA (Python dict lines, plain or .gz) or JSON lines of {id,item,question,answer,date} (.jsonl) (required)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *path == "" {
		return fs.usageErr("--qa is required")
	}
	f, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(*path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", *path, err)
		}
		r = zr
	}
	var pairs []catalog.QA
	add := func(q catalog.QA) error { pairs = append(pairs, q); return ctx.Err() }
	if strings.HasSuffix(strings.TrimSuffix(*path, ".gz"), ".jsonl") {
		err = catalog.ReadQA(r, *path, add)
	} else {
		err = catalog.ReadAmazonQA(r, *path, add)
	}
	if err != nil {
		return err
	}
	start := time.Now()
	res := chat.EvaluateQA(pairs)
	if res.Questions == 0 {
		return fmt.Errorf("%s: no product has two questions", *path)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s: %d questions about %d products, each answered from the earlier ones (%v)\n", *path, res.Questions, res.Products, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Aisle answered %d (%.1f %%); the rest it would pass to a person.\n\n", res.Answered, 100*res.Coverage)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "answer\tROUGE-L (answered)\tROUGE-1 (answered)\tROUGE-L (all)\tROUGE-1 (all)")
	for _, row := range []struct {
		name      string
		some, all chat.QAScore
	}{
		{"aisle: the earlier question that matches best", res.Aisle, res.AisleAll},
		{"the latest earlier answer", res.Recent, res.RecentAll},
		{"a random earlier answer", res.Random, res.RandomAll},
		{"best earlier answer (oracle, upper bound)", res.Oracle, res.OracleAll},
	} {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\n", row.name, row.some.RougeL, row.some.Rouge1, row.all.RougeL, row.all.Rouge1)
	}
	return tw.Flush()
}
