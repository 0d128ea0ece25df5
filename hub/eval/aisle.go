package eval

import (
	"encoding/json"
	"fmt"

	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Aisle evaluates the production path end to end: train.Build makes the
// snapshot, it is encoded and decoded through the snapshot codec, and every
// prediction is a storefront JSON request decoded by the wire codec and
// ranked by the ranking core — exactly what an edge does.
type Aisle struct {
	Train train.Config
	Rank  rank.Config
	// Compress deflates the snapshot body.
	Compress bool

	idx *rank.Index
	ids []string // dataset item number → id
	num map[string]int32
	// SnapshotBytes is the encoded snapshot size after Fit.
	SnapshotBytes int
	// Items is the number of items in the snapshot after Fit.
	Items int
}

// NewAisle returns Aisle with the tuned defaults.
func NewAisle() *Aisle {
	return &Aisle{Train: train.DefaultConfig(), Rank: rank.DefaultConfig()}
}

// Name implements Recommender.
func (a *Aisle) Name() string { return "Aisle" }

// Fit implements Recommender. Training sessions are recorded as purchases
// when the dataset is a purchase history (reviews, orders) and as views
// otherwise; Aisle's rules then exclude bought items, and keep viewed ones
// eligible, just as they do for a live shop.
func (a *Aisle) Fit(d *Data) error {
	typ := wire.View
	if d.Times == nil {
		typ = wire.Purchase
	}
	in := &train.Input{Shop: "eval", Region: "eval", Items: make([]train.Item, len(d.Items))}
	for i, id := range d.Items {
		in.Items[i] = train.Item{ID: id, InStock: true}
		if i < len(d.Titles) {
			in.Items[i].Title = d.Titles[i]
		}
	}
	in.Sessions = make([][]train.Interaction, len(d.Sessions))
	for i, s := range d.Sessions {
		sess := make([]train.Interaction, len(s))
		for j, it := range s {
			sess[j] = train.Interaction{Item: it, Type: typ}
			if d.Times != nil {
				sess[j].Time = d.Times[i][j]
			}
		}
		in.Sessions[i] = sess
	}
	snap, err := train.Build(a.Train, in)
	if err != nil {
		return err
	}
	return a.FitSnapshot(snap, d)
}

// FitSnapshot prepares a snapshot built elsewhere (by the hub's own
// pipeline, say) as Fit prepares its own: encoded and decoded through the
// snapshot codec, then indexed by the ranking core. d names the items the
// evaluation numbers; an item the snapshot lacks is never recommended, and
// a snapshot item outside d is dropped from answers.
func (a *Aisle) FitSnapshot(snap *snapshot.Snapshot, d *Data) error {
	b, err := snapshot.Encode(snap, snapshot.EncodeOptions{Compress: a.Compress})
	if err != nil {
		return err
	}
	dec, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		return err
	}
	idx, err := rank.New(dec, a.Rank)
	if err != nil {
		return err
	}
	a.idx, a.SnapshotBytes, a.Items = idx, len(b), dec.Len()
	a.ids = d.Items
	a.num = make(map[string]int32, len(d.Items))
	for i, id := range d.Items {
		a.num[id] = int32(i)
	}
	return nil
}

// Recommend implements Recommender. The history becomes the request's
// events (the most recent wire.MaxEvents of them; with excludeSeen, older
// ones go to the exclude filter), the request travels as JSON, and the
// response's ids map back to item numbers.
func (a *Aisle) Recommend(history []int32, times []int64, k int, excludeSeen bool, dst []int32) []int32 {
	if a.idx == nil {
		return dst
	}
	req := wire.RecommendRequest{Placement: wire.ForYou, K: min(k, wire.MaxResults)}
	typ := wire.View
	if excludeSeen {
		typ = wire.Purchase
	}
	from := max(0, len(history)-wire.MaxEvents)
	for i, it := range history[from:] {
		e := wire.Event{Type: typ, Item: a.ids[it]}
		if times != nil {
			e.Time = times[from+i]
		}
		req.Events = append(req.Events, e)
	}
	if excludeSeen && from > 0 {
		seen := map[int32]bool{}
		for _, it := range history[from:] {
			seen[it] = true
		}
		for _, it := range history[:from] {
			if !seen[it] && len(req.Filters.Exclude) < wire.MaxList {
				seen[it] = true
				req.Filters.Exclude = append(req.Filters.Exclude, a.ids[it])
			}
		}
	}
	body, err := json.Marshal(&req)
	if err != nil {
		panic(fmt.Sprintf("eval: encode request: %v", err)) // a bug, not input
	}
	dreq, err := wire.DecodeRecommendRequestJSON(body)
	if err != nil {
		return dst // the harness counts the miss
	}
	var resp wire.RecommendResponse
	if err := a.idx.Rank(dreq, &resp); err != nil {
		return dst
	}
	for _, r := range resp.Items {
		if n, ok := a.num[r.ID]; ok {
			dst = append(dst, n)
		}
	}
	return dst
}
