package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aisle-rec/aisle/hub/build"
	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/eval"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("build", "build (-db PATH [-shop ID] | -sequences FILE [-titles FILE] | -sessions FILE) (-data DIR | -out FILE) [flags]", stderr)
	db := fs.String("db", "", "read the shop's catalog and events from the hub store at `PATH` (see aisle ingest)")
	shop := fs.String("shop", "default", "shop `id`")
	seqs := fs.String("sequences", "", "or read `FILE` of `user item item …` lines; items count as purchases")
	titles := fs.String("titles", "", "item titles `FILE`, asin<TAB>number<TAB>title with a header (with -sequences)")
	sessions := fs.String("sessions", "", "or read sessions `FILE`, tab-separated SessionId ItemId Time with a header; items count as views")
	dataDir := fs.String("data", "", "publish one snapshot per region into the hub data `DIR` (served by aisle hub serve)")
	out := fs.String("out", "", "or write one region's snapshot to `FILE`")
	regions := fs.String("regions", "eu,us", "comma-separated `regions` (with -data; with -out the first one)")
	compress := fs.Bool("compress", true, "deflate snapshots")
	budget := fs.Int("max-bytes", snapshot.KVMaxValueBytes, "size `budget` of one region's snapshot")
	textModel := fs.Bool("embed", true, "with -data: learn a text model from the shop's behaviour (exported as ONNX, read back through hugot) and place items without behaviour by their text")
	teacher := fs.String("model", "", "with -data: distil the text model from this Hugging Face ONNX sentence-embedding `DIR` (e.g. an exported all-MiniLM-L6-v2) instead")
	cfg := build.DefaultConfig()
	fs.IntVar(&cfg.Train.Dims, "dims", cfg.Train.Dims, "item vector `dimensions`")
	fs.IntVar(&cfg.Train.Neighbors, "neighbors", cfg.Train.Neighbors, "co-visitation neighbours kept per `item`")
	fs.BoolVar(&cfg.Evaluate, "eval", cfg.Evaluate, "with -data: score Aisle and two baselines on the shop's own sessions (each session's last item held out) and keep the result for the dashboard")
	if err := fs.parse(args); err != nil {
		return err
	}
	sources := 0
	for _, s := range []string{*db, *seqs, *sessions} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return fs.usageErr("give exactly one of -db, -sequences or -sessions")
	}
	if (*dataDir == "") == (*out == "") {
		return fs.usageErr("give exactly one of -data or -out")
	}
	cfg.Regions = splitList(*regions)
	if len(cfg.Regions) == 0 {
		return fs.usageErr("-regions is empty")
	}
	cfg.Compress, cfg.MaxBytes = *compress, *budget

	t0 := time.Now()
	var d *build.Data
	var st *store.Store // the shop's store, when building from one
	var err error
	switch {
	case *db != "":
		if st, err = store.Open(ctx, *db); err != nil {
			return err
		}
		defer st.Close()
		if d, err = build.Load(ctx, st, *shop); err != nil {
			return err
		}
	case *seqs != "":
		seq, err := eval.LoadSequences(*seqs)
		if err != nil {
			return err
		}
		if *titles != "" {
			if err := eval.LoadTitles(*titles, seq); err != nil {
				return err
			}
		}
		d = fileData(seq.Items, seq.Titles, seq.Users, seq.Seqs, nil, wire.Purchase)
	default:
		set, err := eval.LoadSessions(*sessions)
		if err != nil {
			return err
		}
		d = fileData(set.Items, nil, set.IDs, set.Sessions, set.Times, wire.View)
	}
	loaded := time.Since(t0)

	if *out != "" {
		region := cfg.Regions[0]
		snap, err := trainBuild(cfg, d, *shop, region)
		if err != nil {
			return err
		}
		b, err := snapshot.Encode(snap, snapshot.EncodeOptions{Compress: cfg.Compress})
		if err != nil {
			return err
		}
		if len(b) > cfg.MaxBytes {
			return fmt.Errorf("snapshot of %d bytes exceeds the budget of %d: lower -neighbors or -dims", len(b), cfg.MaxBytes)
		}
		if err := publish.WriteFileAtomic(*out, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d items, %d bytes (%.0f bytes/item), version %s\n", *out, snap.Len(), len(b), float64(len(b))/float64(snap.Len()), snap.Version)
		return nil
	}
	pub, err := publish.Open(filepath.Join(*dataDir, "snapshots"))
	if err != nil {
		return err
	}
	cfg.Now = time.Now().UnixMilli()
	cfg.Embed, cfg.Teacher, cfg.ModelRoot = *textModel || *teacher != "", *teacher, *dataDir
	sum, err := build.Run(ctx, d, *shop, cfg, pub, stderr)
	if err != nil {
		return err
	}
	if st != nil && sum.Eval != nil {
		if err := build.SaveEvaluation(ctx, st, *shop, *sum.Eval); err != nil {
			return err
		}
	}
	writeEvaluation(stdout, sum.Eval)
	fmt.Fprintf(stdout, "read %d products, %d sessions, %d events in %s\n", sum.Products, sum.Sessions, sum.Events, loaded.Round(time.Millisecond))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "region\titems\tclusters\tsegments\ttext model\tplaced by text\tbytes\tbytes/item\ttook\tversion\t")
	for _, r := range sum.Regions {
		text := "none"
		if r.Text.Source != "" {
			text = fmt.Sprintf("%s, %d words", r.Text.Source, r.Text.Vocab)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%.0f\t%s\t%s\t\n", r.Region, r.Items, r.Clusters, r.Segments, text, r.Text.Cold, r.Bytes, float64(r.Bytes)/float64(max(r.Items, 1)), r.Took.Round(time.Millisecond), r.Version[:12])
	}
	tw.Flush()
	fmt.Fprintf(stdout, "published to %s in %s\n", *dataDir, time.Since(t0).Round(time.Millisecond))
	return nil
}

// writeEvaluation prints the build-time evaluation, if any.
func writeEvaluation(w io.Writer, ev *build.Evaluation) {
	if ev == nil {
		return
	}
	if ev.Cases == 0 {
		fmt.Fprintf(w, "evaluation: %s\n", ev.Note)
		return
	}
	fmt.Fprintf(w, "evaluation on the shop's own sessions (%s), region %s, %d cases:\n", ev.Protocol, ev.Region, ev.Cases)
	for _, s := range ev.Systems {
		fmt.Fprintf(w, "  %-28s R@10 %.4f  N@10 %.4f\n", s.System, s.Recall10, s.NDCG10)
	}
}

func trainBuild(cfg build.Config, d *build.Data, shop, region string) (*snapshot.Snapshot, error) {
	return train.Build(cfg.Train, build.Input(d, shop, region, time.Now().UnixMilli()))
}

// fileData turns evaluation-format files into build data.
func fileData(items, titles, sessionIDs []string, seqs [][]int32, times [][]int64, typ wire.EventType) *build.Data {
	d := &build.Data{Products: make([]catalog.Product, len(items))}
	for i, id := range items {
		d.Products[i] = catalog.Product{ID: id}
		if i < len(titles) {
			d.Products[i].Title = titles[i]
		}
	}
	d.Sessions = make([][]store.Event, len(seqs))
	for i, s := range seqs {
		evs := make([]store.Event, len(s))
		for j, it := range s {
			evs[j] = store.Event{Seq: int64(j + 1), Type: typ, Item: items[it]}
			if i < len(sessionIDs) {
				evs[j].Session = sessionIDs[i]
			} else {
				evs[j].Session = strconv.Itoa(i)
			}
			if times != nil {
				evs[j].Time = times[i][j]
			}
		}
		d.Sessions[i] = evs
	}
	return d
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "inspect FILE", stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageErr("want one snapshot file")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	s, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	edges := func(g snapshot.Graph) int { return len(g.Nbr) }
	fmt.Fprintf(stdout, "version   %s\nshop      %s\nregion    %s\nbuilt     %d\nitems     %d\ndims      %d\nclusters  %d\nco-visit  %d edges\nbought    %d edges\ntrending  %d\nsections  %d\nbytes     %d (%.0f/item)\n",
		s.Version, s.Shop, s.Region, s.Built, s.Len(), s.Dims, s.Clusters(), edges(s.CoVisit), edges(s.BoughtTogether), len(s.Trending), len(s.Sections), len(b), float64(len(b))/float64(max(s.Len(), 1)))
	return nil
}

func readInfo(b []byte) (snapshot.Info, error) {
	return snapshot.ReadInfo(b, snapshot.DefaultLimits())
}

// fill fills in from evaluation-format data: one item per id (with its
// title where known), one session per sequence, every event of type typ.
func fill(in *train.Input, items, titles []string, seqs [][]int32, times [][]int64, typ wire.EventType) {
	in.Items = make([]train.Item, len(items))
	for i, id := range items {
		in.Items[i] = train.Item{ID: id, InStock: true}
		if i < len(titles) {
			in.Items[i].Title = titles[i]
		}
	}
	in.Sessions = make([][]train.Interaction, len(seqs))
	for i, s := range seqs {
		in.Sessions[i] = make([]train.Interaction, len(s))
		for j, it := range s {
			in.Sessions[i][j] = train.Interaction{Item: it, Type: typ}
			if times != nil {
				in.Sessions[i][j].Time = times[i][j]
			}
		}
	}
}
