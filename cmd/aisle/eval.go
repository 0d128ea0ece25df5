package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/hub/coldstart"
	"github.com/aisle-rec/aisle/hub/eval"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	evals := []struct {
		name, summary string
		run           func(context.Context, []string, io.Writer, io.Writer) error
	}{
		{"recs", "next-item recommendation (Amazon Beauty, session data) against baselines", runEvalRecs},
		{"coldstart", "items without behaviour, placed by the text model", runEvalColdStart},
		{"intents", "the assistant's intent detection (Bitext)", runEvalIntents},
		{"summaries", "\"customers say\" review summaries (FewSum, ROUGE)", runEvalSummaries},
		{"sentiment", "review sentiment learned from star ratings (held-out macro-F1)", runEvalSentiment},
		{"qa", "product questions answered from earlier questions and answers (Amazon QA, ROUGE)", runEvalQA},
	}
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: aisle eval KIND [flags]\n\nkinds:")
		for _, e := range evals {
			fmt.Fprintf(w, "  %-10s %s\n", e.name, e.summary)
		}
		fmt.Fprintln(w, "\nRun \"aisle eval KIND -h\" for its flags.")
	}
	if len(args) > 0 {
		for _, e := range evals {
			if args[0] == e.name {
				return e.run(ctx, args[1:], stdout, stderr)
			}
		}
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			usage(stdout)
			return nil
		}
	}
	usage(stderr)
	return errUsage
}

// dataFlags name the interaction data a command reads.
type dataFlags struct {
	sequences, titles           string
	sessionsTrain, sessionsTest string
	diginetica                  string
	minSupport                  int
}

func (d *dataFlags) register(fs *flagSet) {
	fs.StringVar(&d.sequences, "sequences", "", "`FILE` of `user item item …` lines (e.g. Amazon Beauty user_sequence.txt)")
	fs.StringVar(&d.titles, "titles", "", "`FILE` of item titles, asin<TAB>number<TAB>title with a header (optional, with -sequences)")
	fs.StringVar(&d.sessionsTrain, "sessions-train", "", "training sessions `FILE`, tab-separated SessionId ItemId Time with a header")
	fs.StringVar(&d.sessionsTest, "sessions-test", "", "test sessions `FILE`, same format")
	fs.StringVar(&d.diginetica, "diginetica", "", "Diginetica item-views `FILE` (;-separated), split by date: last 7 days test")
	fs.IntVar(&d.minSupport, "min-support", 5, "with -diginetica: drop items seen fewer than `N` times (SR-GNN preprocessing)")
}

// dataset is a loaded training set with its evaluation cases.
type dataset struct {
	name        string // eval.DatasetBeauty, eval.DatasetDiginetica or "sessions"
	train       *eval.Data
	cases       []eval.Case
	excludeSeen bool
	about       string
}

func (d *dataFlags) load(split string) (*dataset, error) {
	n := 0
	for _, s := range []string{d.sequences, d.sessionsTrain, d.diginetica} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("give exactly one of -sequences, -sessions-train with -sessions-test, or -diginetica")
	}
	if split != "test" && split != "valid" {
		return nil, fmt.Errorf("-split %q: want valid or test", split)
	}
	switch {
	case d.sequences != "":
		seq, err := eval.LoadSequences(d.sequences)
		if err != nil {
			return nil, err
		}
		if d.titles != "" {
			if err := eval.LoadTitles(d.titles, seq); err != nil {
				return nil, err
			}
		}
		train, cases, err := seq.Split(split)
		if err != nil {
			return nil, err
		}
		return &dataset{
			name: eval.DatasetBeauty, train: train, cases: cases, excludeSeen: true,
			about: fmt.Sprintf("%d users, %d items; leave-one-out %s split, full ranking, history excluded", len(seq.Users), len(seq.Items), split),
		}, nil
	case d.sessionsTrain != "":
		if d.sessionsTest == "" {
			return nil, fmt.Errorf("-sessions-train needs -sessions-test")
		}
		tr, err := eval.LoadSessions(d.sessionsTrain)
		if err != nil {
			return nil, err
		}
		te, err := eval.LoadSessions(d.sessionsTest)
		if err != nil {
			return nil, err
		}
		train := tr.Data()
		if split == "valid" {
			sp, err := eval.SplitByDate(tr, 7)
			if err != nil {
				return nil, err
			}
			train, te = sp.Train, sp.Test
		}
		cases, skipped := eval.SessionCases(train, te)
		return &dataset{
			name: "sessions", train: train, cases: cases,
			about: fmt.Sprintf("%d training sessions, %d test sessions, %d cases (%d targets unseen in training skipped); repeats eligible", len(train.Sessions), len(te.Sessions), len(cases), skipped),
		}, nil
	default:
		sp, err := eval.LoadDiginetica(d.diginetica, d.minSupport)
		if err != nil {
			return nil, err
		}
		if split == "valid" {
			inner := &eval.SessionSet{Items: sp.Train.Items, Sessions: sp.Train.Sessions, Times: sp.Train.Times}
			for i := range sp.Train.Sessions {
				inner.IDs = append(inner.IDs, "train-"+strconv.Itoa(i))
			}
			if sp, err = eval.SplitByDate(inner, 7); err != nil {
				return nil, err
			}
		}
		cases, skipped := eval.SessionCases(sp.Train, sp.Test)
		return &dataset{
			name: eval.DatasetDiginetica, train: sp.Train, cases: cases,
			about: fmt.Sprintf("%s; %s split, %d cases (%d skipped); repeats eligible", sp.Stats.String(), split, len(cases), skipped),
		}, nil
	}
}

func runEvalRecs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval recs", "eval recs (-sequences FILE [-titles FILE] | -sessions-train FILE -sessions-test FILE | -diginetica FILE) [flags]", stderr)
	var data dataFlags
	data.register(fs)
	split := fs.String("split", "test", "which leave-one-out or date split to score: `valid` (tune here) or test")
	asJSON := fs.Bool("json", false, "print one JSON object with Aisle's figures instead of the table")
	preds := fs.String("predictions", "", "write Aisle's top-20 per case as JSON lines to `FILE`")
	compress := fs.Bool("compress", false, "deflate the snapshot (the edge decodes it either way)")
	quiet := fs.Bool("q", false, "no progress bars")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageErr("unexpected argument %q", fs.Arg(0))
	}
	ds, err := data.load(*split)
	if err != nil {
		return err
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	opt := eval.Options{Progress: progress}

	aisle := eval.NewAisle()
	aisle.Compress = *compress
	t0 := time.Now()
	if err := aisle.Fit(ds.train); err != nil {
		return fmt.Errorf("fit Aisle: %w", err)
	}
	fit := time.Since(t0)
	aOpt := opt
	var pf *os.File
	var pw *bufio.Writer
	if *preds != "" {
		if pf, err = os.Create(*preds); err != nil {
			return err
		}
		defer pf.Close()
		pw = bufio.NewWriter(pf)
		aOpt.Predictions, aOpt.ItemIDs = pw, ds.train.Items
	}
	res, err := eval.Evaluate(ctx, aisle, ds.cases, ds.excludeSeen, aOpt)
	if err != nil {
		return err
	}
	res.FitTime = fit
	if pw != nil {
		if err := pw.Flush(); err != nil {
			return err
		}
		if err := pf.Close(); err != nil {
			return err
		}
	}
	if *asJSON {
		return eval.WriteJSON(stdout, res)
	}
	baselines := eval.Baselines()
	if !ds.excludeSeen {
		baselines = eval.SessionBaselines()
	}
	base, err := eval.Run(ctx, ds.train, baselines, ds.cases, ds.excludeSeen, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "data: %s\n", ds.about)
	fmt.Fprintf(stdout, "Aisle snapshot: %d items, %d bytes (%.0f bytes/item), built and ranked through the edge codec and core\n\n",
		aisle.Items, aisle.SnapshotBytes, float64(aisle.SnapshotBytes)/float64(max(aisle.Items, 1)))
	return eval.WriteTable(stdout, ds.name, append([]eval.Result{res}, base...), eval.PublishedResults(ds.name))
}

func runEvalColdStart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval coldstart", "eval coldstart -sequences FILE -titles FILE [flags]", stderr)
	seqs := fs.String("sequences", "", "`FILE` of `user item item …` lines (Amazon Beauty user_sequence.txt)")
	titles := fs.String("titles", "", "item titles `FILE` (items_asin_title.tsv)")
	opt := coldstart.DefaultOptions()
	fs.Float64Var(&opt.HoldOut, "holdout", opt.HoldOut, "`share` of items whose every training interaction is removed")
	fs.StringVar(&opt.Split, "split", opt.Split, "`valid` (tune here) or test")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *seqs == "" || *titles == "" {
		return fs.usageErr("-sequences and -titles are required")
	}
	seq, err := eval.LoadSequences(*seqs)
	if err != nil {
		return err
	}
	if err := eval.LoadTitles(*titles, seq); err != nil {
		return err
	}
	res, err := coldstart.Run(ctx, seq, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]float64{
			fmt.Sprintf("embedder_recall@%d", res.K): res.Embedder.Recall, fmt.Sprintf("embedder_ndcg@%d", res.K): res.Embedder.NDCG,
			fmt.Sprintf("tfidf_recall@%d", res.K): res.Text.Recall, fmt.Sprintf("popularity_recall@%d", res.K): res.Popularity.Recall,
		})
	}
	fmt.Fprintf(stdout, "cold start: %d of %d items held out (every training interaction removed); %d %s cases whose target is one of them; text model learnt from %d items, %d words\n\n",
		res.HeldOut, res.Items, res.Cases, opt.Split, res.TrainItems, res.Vocab)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "held-out items placed by\tR@%d all items\tN@%d all items\tR@%d among new items\tN@%d among new items\n", res.K, res.K, res.K, res.K)
	for _, r := range []struct {
		name      string
		all, cold coldstart.ColdMetrics
	}{
		{"Aisle text model (trained from behaviour)", res.Embedder, res.EmbedderCold},
		{"title TF-IDF position", res.Text, res.TextCold},
		{"popularity", res.Popularity, res.PopularityCold},
	} {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\n", r.name, r.all.Recall, r.all.NDCG, r.cold.Recall, r.cold.NDCG)
	}
	return tw.Flush()
}
