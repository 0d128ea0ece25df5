package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aisle-rec/aisle/hub/eval"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("build", "build (-sequences FILE [-titles FILE] | -sessions FILE) -out FILE [flags]", stderr)
	seqs := fs.String("sequences", "", "`FILE` of `user item item …` lines; items count as purchases")
	titles := fs.String("titles", "", "`FILE` of item titles, asin<TAB>number<TAB>title with a header (with -sequences)")
	sessions := fs.String("sessions", "", "sessions `FILE`, tab-separated SessionId ItemId Time with a header; items count as views")
	out := fs.String("out", "", "write the snapshot to `FILE`")
	shop := fs.String("shop", "default", "shop id stamped in the snapshot")
	region := fs.String("region", "default", "region stamped in the snapshot")
	compress := fs.Bool("compress", true, "deflate the snapshot body")
	cfg := train.DefaultConfig()
	fs.IntVar(&cfg.Dims, "dims", cfg.Dims, "item vector `dimensions`")
	fs.IntVar(&cfg.Neighbors, "neighbors", cfg.Neighbors, "co-visitation neighbours kept per item")
	if err := fs.parse(args); err != nil {
		return err
	}
	if (*seqs == "") == (*sessions == "") {
		return fs.usageErr("give exactly one of -sequences or -sessions")
	}
	if *out == "" {
		return fs.usageErr("-out is required")
	}
	in := &train.Input{Shop: *shop, Region: *region}
	if *seqs != "" {
		seq, err := eval.LoadSequences(*seqs)
		if err != nil {
			return err
		}
		if *titles != "" {
			if err := eval.LoadTitles(*titles, seq); err != nil {
				return err
			}
		}
		fill(in, seq.Items, seq.Titles, seq.Seqs, nil, wire.Purchase)
	} else {
		set, err := eval.LoadSessions(*sessions)
		if err != nil {
			return err
		}
		fill(in, set.Items, nil, set.Sessions, set.Times, wire.View)
	}
	snap, err := train.Build(cfg, in)
	if err != nil {
		return err
	}
	b, err := snapshot.Encode(snap, snapshot.EncodeOptions{Compress: *compress})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, b); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d items, %d bytes (%.0f bytes/item), version %s\n", *out, snap.Len(), len(b), float64(len(b))/float64(snap.Len()), snap.Version)
	return nil
}

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

// writeFileAtomic writes b to path through a temporary file and a rename,
// so a reader never sees a half-written file.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
