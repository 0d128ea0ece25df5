// Package build runs the hub's pipeline for one shop: read its catalog and
// past events from the store, build one snapshot per region (items in stock
// there, graphs, vectors, clusters, segments), check each against the size
// budget, and publish them.
package build

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aisle-rec/aisle/hub/catalog"
	"github.com/aisle-rec/aisle/hub/progress"
	"github.com/aisle-rec/aisle/hub/publish"
	"github.com/aisle-rec/aisle/hub/store"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Config tunes a pipeline run.
type Config struct {
	Train train.Config
	// Regions are built one snapshot each.
	Regions []string
	// Compress deflates snapshots (smaller, slower to load).
	Compress bool
	// MaxBytes is the size budget of one region's snapshot; a larger one
	// fails the run. 0 means the Workers KV value limit.
	MaxBytes int
	// Now stamps the snapshots and anchors trending, Unix milliseconds.
	Now int64
	// Embed gives each snapshot a text model (see embedCold) exported under
	// ModelRoot; Teacher, when set, is a Hugging Face ONNX sentence-embedding
	// directory to distil it from.
	Embed     bool
	Teacher   string
	ModelRoot string
	// Evaluate scores Aisle against baselines on the shop's own past
	// sessions (see Evaluate) before building; the result is in
	// Summary.Eval.
	Evaluate bool
}

// DefaultConfig returns the defaults: two regions, compression on, the KV
// size limit, the evaluation on.
func DefaultConfig() Config {
	return Config{Train: train.DefaultConfig(), Regions: []string{"eu", "us"}, Compress: true, Embed: true, Evaluate: true}
}

// Data is what a build reads: the catalog and past sessions.
type Data struct {
	Products []catalog.Product
	// Sessions hold item ids; events of items missing from Products are
	// kept, and those items join the catalog without a title.
	Sessions [][]store.Event
}

// Load reads shop's catalog and sessions from st.
func Load(ctx context.Context, st *store.Store, shop string) (*Data, error) {
	ps, err := st.Products(ctx, shop)
	if err != nil {
		return nil, err
	}
	d := &Data{Products: ps}
	err = st.Sessions(ctx, shop, func(_ string, events []store.Event) error {
		d.Sessions = append(d.Sessions, events)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// RegionResult describes one published snapshot.
type RegionResult struct {
	Region   string
	Version  string
	Items    int
	Clusters int
	Segments int
	Bytes    int
	Took     time.Duration
	Text     EmbedResult
}

// Summary describes a run.
type Summary struct {
	Products, Sessions, Events int
	Regions                    []RegionResult
	Took                       time.Duration
	// Eval is the build-time evaluation; nil when Config.Evaluate is off.
	Eval *Evaluation
}

// Run builds and publishes one snapshot per region of cfg for shop. A
// region whose snapshot fails or exceeds the budget stops the run before it
// is published; regions published before it stay published.
func Run(ctx context.Context, d *Data, shop string, cfg Config, pub *publish.Store, progressW io.Writer) (Summary, error) {
	start := time.Now()
	if len(cfg.Regions) == 0 {
		return Summary{}, fmt.Errorf("build: no regions")
	}
	budget := cfg.MaxBytes
	if budget <= 0 {
		budget = snapshot.KVMaxValueBytes
	}
	sum := Summary{Products: len(d.Products), Sessions: len(d.Sessions)}
	for _, s := range d.Sessions {
		sum.Events += len(s)
	}
	if cfg.Evaluate {
		ev, err := Evaluate(ctx, d, shop, cfg)
		if err != nil {
			return sum, err
		}
		sum.Eval = &ev
	}
	bar := progress.New(progressW, "build snapshots", len(cfg.Regions))
	defer bar.Done()
	for _, region := range cfg.Regions {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		t0 := time.Now()
		in := Input(d, shop, region, cfg.Now)
		if len(in.Items) == 0 {
			return sum, fmt.Errorf("build: region %s: no item is in stock there", region)
		}
		snap, err := train.Build(cfg.Train, in)
		if err != nil {
			return sum, fmt.Errorf("build: region %s: %w", region, err)
		}
		var text EmbedResult
		if cfg.Embed {
			if cfg.ModelRoot == "" {
				return sum, fmt.Errorf("build: no directory for the text model")
			}
			if text, err = embedCold(ctx, snap, in, cfg.Teacher, modelDir(cfg.ModelRoot, region)); err != nil {
				return sum, fmt.Errorf("build: region %s: text model: %w", region, err)
			}
		}
		b, err := snapshot.Encode(snap, snapshot.EncodeOptions{Compress: cfg.Compress})
		if err != nil {
			return sum, fmt.Errorf("build: region %s: %w", region, err)
		}
		if len(b) > budget {
			return sum, fmt.Errorf("build: region %s: snapshot of %d bytes exceeds the budget of %d (Workers KV holds at most %d per value): lower -neighbors or -dims, or compress", region, len(b), budget, snapshot.KVMaxValueBytes)
		}
		v, err := pub.Publish(region, b)
		if err != nil {
			return sum, err
		}
		segs := 0
		if sb := snap.Section(rank.SegmentsSection); sb != nil {
			if sg, err := rank.UnmarshalSegments(sb, snap.Len(), snap.Dims); err == nil {
				segs = len(sg.Labels)
			}
		}
		sum.Regions = append(sum.Regions, RegionResult{Region: region, Version: v, Items: snap.Len(), Clusters: snap.Clusters(), Segments: segs, Bytes: len(b), Took: time.Since(t0), Text: text})
		bar.Add(1)
	}
	sum.Took = time.Since(start)
	return sum, nil
}

// Input makes the build input of one region: the products in stock there
// (an unknown stock count counts as in stock), items known only from events,
// and the sessions over them.
func Input(d *Data, shop, region string, now int64) *train.Input {
	var ps []catalog.Product
	for _, p := range d.Products {
		if n, ok := p.Stock[region]; ok && n == 0 {
			continue
		}
		if _, ok := p.Stock[region]; !ok && !p.InStock() {
			continue
		}
		ps = append(ps, p)
	}
	items := train.CatalogItems(ps, region)
	num := make(map[string]int32, len(items))
	for i, it := range items {
		num[it.ID] = int32(i)
	}
	known := make(map[string]bool, len(d.Products))
	for _, p := range d.Products {
		known[p.ID] = true
	}
	in := &train.Input{Shop: shop, Region: region, Now: now}
	for _, s := range d.Sessions {
		var sess []train.Interaction
		for _, e := range s {
			if e.Type == wire.Search || e.Item == "" {
				continue
			}
			n, ok := num[e.Item]
			if !ok {
				if known[e.Item] {
					continue // out of stock in this region
				}
				n = int32(len(items))
				num[e.Item] = n
				items = append(items, train.Item{ID: e.Item, InStock: true})
			}
			sess = append(sess, train.Interaction{Item: n, Type: e.Type, Time: e.Time})
		}
		if len(sess) > 0 {
			in.Sessions = append(in.Sessions, sess)
		}
	}
	in.Items = items
	return in
}
