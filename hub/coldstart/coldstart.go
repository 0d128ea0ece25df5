// Package coldstart measures how well brand-new items, with a title and no
// behaviour yet, are placed: it holds out every interaction of a share of
// items, positions them by text alone, and scores next-item predictions
// whose target is one of them.
package coldstart

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	hubembed "github.com/aisle-rec/aisle/hub/embed"
	"github.com/aisle-rec/aisle/hub/eval"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/wire"
)

// Options tunes ColdStart.
type Options struct {
	// HoldOut is the share of items whose every training interaction is
	// removed: they enter the catalog with a title and no behaviour.
	HoldOut float64
	// Seed picks the held-out items.
	Seed uint64
	// K is the cutoff of Recall@K and NDCG@K.
	K int
	// Train builds the snapshot whose item vectors are the targets.
	Train train.Config
	// Static trains the embedder.
	Static hubembed.StaticOptions
	// Workers bounds parallelism (0: GOMAXPROCS).
	Workers int
	// Split is the leave-one-out split scored: "test", or "valid" to tune.
	Split string
}

// DefaultOptions returns the protocol of the acceptance figures:
// 10 % of items held out, Recall@10.
func DefaultOptions() Options {
	return Options{HoldOut: 0.1, Seed: 1, K: 10, Train: train.DefaultConfig(), Static: hubembed.DefaultStaticOptions(), Split: "test"}
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case !(o.HoldOut > 0 && o.HoldOut < 1):
		return fmt.Errorf("embed: cold start hold-out share %v outside (0, 1)", o.HoldOut)
	case o.K < 1:
		return fmt.Errorf("embed: cold start cutoff %d, want ≥ 1", o.K)
	case o.Workers < 0:
		return fmt.Errorf("embed: cold start workers %d, want ≥ 0", o.Workers)
	}
	if err := o.Train.Validate(); err != nil {
		return err
	}
	return o.Static.Validate()
}

// ColdMetrics are the ranking metrics of one method.
type ColdMetrics struct {
	Recall, NDCG float64
}

// Result holds the figures of a cold-start run. Each method ranks
// candidates by cosine to the user's profile (the mean of the history's
// item vectors), history items excluded; only the item vectors differ.
type Result struct {
	Items, HeldOut int
	// TrainItems is how many items (with behaviour and a title) the
	// embedder learnt from; Vocab its vocabulary size.
	TrainItems, Vocab int
	// Cases is the number of test cases whose target is a held-out item.
	Cases int
	K     int
	// Over all items: held-out items placed by the trained embedder from
	// their titles (Embedder), by the snapshot's text-only TF-IDF position
	// (Text), and plain training popularity, which can never rank an item
	// without behaviour (Popularity).
	Embedder, Text, Popularity ColdMetrics
	// The same, ranking only the held-out items: how well each places the
	// target among the new items.
	EmbedderCold, TextCold, PopularityCold ColdMetrics
	BuildTime, TrainTime, EvalTime         time.Duration
	// Model is the trained embedder.
	Model *embed.Embedder
}

// ColdStart measures cold start on sequence data with titles (Amazon
// Beauty): it holds out all training interactions of a random
// opt.HoldOut of the items, builds the snapshot with train.Build (held-out
// items get text-only TF-IDF positions there), trains the static embedder
// on the titles → vectors of the items that have behaviour, embeds the
// held-out items' titles with it, and scores the leave-one-out test cases
// whose target is a held-out item (see Result).
func Run(ctx context.Context, seq *eval.Sequences, opt Options) (Result, error) {
	var res Result
	if err := opt.Validate(); err != nil {
		return res, err
	}
	if len(seq.Titles) != len(seq.Items) {
		return res, fmt.Errorf("embed: cold start needs titles (load them with eval.LoadTitles)")
	}
	data, cases, err := seq.Split(opt.Split)
	if err != nil {
		return res, err
	}
	n := len(seq.Items)
	res.Items, res.K = n, opt.K
	held := make([]bool, n)
	rng := rand.New(rand.NewPCG(opt.Seed, 0xc01d))
	res.HeldOut = int(math.Round(opt.HoldOut * float64(n)))
	for _, i := range rng.Perm(n)[:res.HeldOut] {
		held[i] = true
	}

	// Training data without the held-out items.
	start := time.Now()
	in := &train.Input{Shop: "coldstart", Region: "coldstart", Items: make([]train.Item, n)}
	for i, id := range seq.Items {
		in.Items[i] = train.Item{ID: id, Title: seq.Titles[i], InStock: true}
	}
	count := make([]int, n)
	for _, s := range data.Sessions {
		var sess []train.Interaction
		for _, it := range s {
			if !held[it] {
				sess = append(sess, train.Interaction{Item: it, Type: wire.Purchase})
				count[it]++
			}
		}
		if len(sess) > 0 {
			in.Sessions = append(in.Sessions, sess)
		}
	}
	snap, err := train.Build(opt.Train, in)
	if err != nil {
		return res, fmt.Errorf("embed: cold start: build: %w", err)
	}
	dims := snap.Dims
	num := make(map[string]int, n)
	for i, id := range seq.Items {
		num[id] = i
	}
	base := make([]float32, n*dims) // by dataset item number
	for s, id := range snap.Items.IDs {
		i, ok := num[id]
		if !ok {
			return res, fmt.Errorf("embed: cold start: snapshot item %q is not in the dataset", id)
		}
		sc := snap.Scales[s]
		for j, q := range snap.Vectors[s*dims : (s+1)*dims] {
			base[i*dims+j] = float32(q) * sc
		}
	}
	res.BuildTime = time.Since(start)

	start = time.Now()
	// Items with more behaviour have better-founded vectors.
	var docs []hubembed.Doc
	var targets [][]float32
	for i := range n {
		if !held[i] && count[i] > 0 && seq.Titles[i] != "" {
			docs = append(docs, hubembed.Doc{ID: seq.Items[i], Text: seq.Titles[i], Weight: 1 + math.Log(float64(count[i]))})
			targets = append(targets, base[i*dims:(i+1)*dims])
		}
	}
	res.TrainItems = len(docs)
	st := opt.Static
	st.Workers = opt.Workers
	emb, err := hubembed.TrainStatic(ctx, docs, targets, dims, st)
	if err != nil {
		return res, fmt.Errorf("embed: cold start: train: %w", err)
	}
	res.Vocab, res.Model = emb.Len(), emb
	withEmb := slices.Clone(base)
	for i := range n {
		if held[i] {
			emb.Embed(seq.Titles[i], withEmb[i*dims:(i+1)*dims])
		}
	}
	res.TrainTime = time.Since(start)

	start = time.Now()
	var coldCases []eval.Case
	for _, c := range cases {
		if held[c.Target] {
			coldCases = append(coldCases, c)
		}
	}
	res.Cases = len(coldCases)
	if res.Cases == 0 {
		return res, fmt.Errorf("embed: cold start: no test case targets a held-out item")
	}
	popRank := make([]float32, n) // higher is more popular; ties by item number
	for i := range n {
		popRank[i] = float32(count[i]) - float32(i)/float32(n)
	}
	var coldItems []int32
	for i := range n {
		if held[i] {
			coldItems = append(coldItems, int32(i))
		}
	}
	score := func(vecs []float32, all bool) ColdMetrics {
		return scoreCases(ctx, coldCases, vecs, nil, dims, n, coldItems, all, opt.K, opt.Workers)
	}
	pop := func(all bool) ColdMetrics {
		return scoreCases(ctx, coldCases, nil, popRank, dims, n, coldItems, all, opt.K, opt.Workers)
	}
	res.Embedder, res.EmbedderCold = score(withEmb, true), score(withEmb, false)
	res.Text, res.TextCold = score(base, true), score(base, false)
	res.Popularity, res.PopularityCold = pop(true), pop(false)
	res.EvalTime = time.Since(start)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// scoreCases ranks, for every case, either all n items or only cold ones
// (history excluded) by cosine between the profile — the mean of the
// history's vectors — and each candidate's vector, or by a fixed score when
// vecs is nil, and averages Recall@k and NDCG@k of the targets.
func scoreCases(ctx context.Context, cases []eval.Case, vecs, fixed []float32, dims, n int, cold []int32, all bool, k, workers int) ColdMetrics {
	cands := cold
	if all {
		cands = make([]int32, n)
		for i := range cands {
			cands[i] = int32(i)
		}
	}
	recall := make([]float64, len(cases))
	ndcg := make([]float64, len(cases))
	hubembed.Parallel(len(cases), workers, func(lo, hi int) {
		prof := make([]float32, dims)
		for ci := lo; ci < hi; ci++ {
			if ctx.Err() != nil {
				return
			}
			c := &cases[ci]
			if vecs != nil {
				// The sum ranks like the mean.
				clear(prof)
				for _, h := range c.History {
					for j, x := range vecs[int(h)*dims : (int(h)+1)*dims] {
						prof[j] += x
					}
				}
			}
			target := scoreOf(c.Target, vecs, fixed, prof, dims)
			// Rank = candidates scoring above the target (ties: lower item
			// number first), history items excluded.
			rank := 0
			for _, it := range cands {
				if it == c.Target || slices.Contains(c.History, it) {
					continue
				}
				s := scoreOf(it, vecs, fixed, prof, dims)
				if s > target || s == target && it < c.Target {
					rank++
					if rank >= k {
						break
					}
				}
			}
			if rank < k {
				recall[ci] = 1
				ndcg[ci] = 1 / math.Log2(float64(rank)+2)
			}
		}
	})
	var m ColdMetrics
	for i := range cases {
		m.Recall += recall[i]
		m.NDCG += ndcg[i]
	}
	m.Recall /= float64(len(cases))
	m.NDCG /= float64(len(cases))
	return m
}

// scoreOf is item it's score: fixed[it], or the cosine of its vector with
// the profile (vectors are unit length or zero, so the dot product ranks
// like the cosine for a fixed profile).
func scoreOf(it int32, vecs, fixed, prof []float32, dims int) float32 {
	if vecs == nil {
		return fixed[it]
	}
	var s float32
	for j, x := range vecs[int(it)*dims : (int(it)+1)*dims] {
		s += x * prof[j]
	}
	return s
}
