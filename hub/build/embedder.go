package build

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	hubembed "github.com/aisle-rec/aisle/hub/embed"
	"github.com/aisle-rec/aisle/hub/train"
	"github.com/aisle-rec/aisle/shared/embed"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// minBehaviourItems is how many items need behaviour before a text model
// can be learned from them.
const minBehaviourItems = 50

// EmbedResult describes the text model of one region.
type EmbedResult struct {
	// Source is "trained" (learned from the shop's behaviour), "distilled"
	// (from a teacher model) or "" (none: too little behaviour, no teacher).
	Source string
	Vocab  int
	Dims   int
	// Cold is how many items without behaviour were placed by their text.
	Cold int
	// Dir holds the exported model.onnx, tokenizer.json and config.json.
	Dir string
}

// itemText is what the text model reads of an item.
func itemText(it train.Item) string {
	return strings.TrimSpace(it.Title + " " + it.Category + " " + it.Text)
}

// embedCold gives snap a text model and places the items without behaviour
// by it. With no teacher the model is learned so that an item's text lands
// near its behaviour vector; with a teacher (any Hugging Face ONNX sentence
// embedding directory, run through hugot) it is distilled from it. Either
// way the model is exported as an ONNX directory under dir and every cold
// item is embedded by loading that directory back through hugot, the path
// a shop's own model takes; the table also goes into the snapshot so the
// edge embeds queries the same way.
func embedCold(ctx context.Context, snap *snapshot.Snapshot, in *train.Input, teacherDir, dir string) (EmbedResult, error) {
	num := make(map[string]int, snap.Len())
	for i, id := range snap.Items.IDs {
		num[id] = i
	}
	warm := make([]bool, snap.Len())
	for _, s := range in.Sessions {
		for _, e := range s {
			warm[num[in.Items[e.Item].ID]] = true
		}
	}
	d := snap.Dims
	var docs []hubembed.Doc
	var targets [][]float32
	var cold []int
	texts := make([]string, snap.Len())
	for _, it := range in.Items {
		i := num[it.ID]
		texts[i] = itemText(it)
		if !warm[i] {
			if texts[i] != "" {
				cold = append(cold, i)
			}
			continue
		}
		if texts[i] == "" || snap.Scales[i] == 0 {
			continue
		}
		v := make([]float32, d)
		for j, q := range snap.Vectors[i*d : (i+1)*d] {
			v[j] = float32(q) * snap.Scales[i]
		}
		docs = append(docs, hubembed.Doc{ID: it.ID, Text: texts[i], Weight: 1})
		targets = append(targets, v)
	}
	var e *embed.Embedder
	var res EmbedResult
	switch {
	case teacherDir != "":
		teacher, err := hubembed.OpenHugot(teacherDir)
		if err != nil {
			return res, err
		}
		defer teacher.Close()
		var vocab []string
		seen := map[string]bool{}
		for _, t := range texts {
			for _, w := range train.Tokens(t) {
				if !seen[w] {
					seen[w] = true
					vocab = append(vocab, w)
				}
			}
		}
		if e, err = hubembed.Distil(ctx, teacher, vocab, d, hubembed.DefaultDistilOptions()); err != nil {
			return res, err
		}
		res.Source = "distilled"
		// A distilled model places every item by its text.
		cold = cold[:0]
		for i, t := range texts {
			if t != "" {
				cold = append(cold, i)
			}
		}
	case len(docs) >= minBehaviourItems:
		var err error
		if e, err = hubembed.TrainStatic(ctx, docs, targets, d, hubembed.DefaultStaticOptions()); err != nil {
			return res, err
		}
		res.Source = "trained"
	default:
		// Too little behaviour to learn from (a new shop): every item's
		// vector comes from its text alone, so the model learns to place
		// text where those vectors are. The items keep their vectors; the
		// model serves queries (search at the edge, retrieval in chat).
		docs, targets = docs[:0], targets[:0]
		for _, it := range in.Items {
			i := num[it.ID]
			if texts[i] == "" || snap.Scales[i] == 0 {
				continue
			}
			v := make([]float32, d)
			for j, q := range snap.Vectors[i*d : (i+1)*d] {
				v[j] = float32(q) * snap.Scales[i]
			}
			docs = append(docs, hubembed.Doc{ID: it.ID, Text: texts[i], Weight: 1})
			targets = append(targets, v)
		}
		if len(docs) < minBehaviourItems {
			return res, nil
		}
		var err error
		if e, err = hubembed.TrainStatic(ctx, docs, targets, d, hubembed.DefaultStaticOptions()); err != nil {
			return res, err
		}
		res.Source = "trained on text vectors"
		cold = cold[:0]
	}
	res.Vocab, res.Dims, res.Dir = e.Len(), e.Dims(), dir
	if err := hubembed.ExportONNX(e, dir, hubembed.ExportOptions{}); err != nil {
		return res, err
	}
	model, err := hubembed.OpenHugot(dir)
	if err != nil {
		return res, fmt.Errorf("build: load the exported model back through hugot: %w", err)
	}
	defer model.Close()
	batch := make([]string, len(cold))
	for j, i := range cold {
		batch[j] = texts[i]
	}
	vecs, err := model.Embed(ctx, batch)
	if err != nil {
		return res, err
	}
	k := snap.Clusters()
	for j, i := range cold {
		v := vecs[j]
		var m float32
		for _, x := range v {
			m = max(m, float32(math.Abs(float64(x))))
		}
		if m == 0 {
			continue
		}
		s := m / 127
		row := snap.Vectors[i*d : (i+1)*d]
		for t, x := range v {
			row[t] = int8(math.Round(float64(x / s)))
		}
		snap.Scales[i] = s
		// Move the item to its nearest cluster, so candidate search by
		// cluster finds it.
		best, bestS := 0, float32(math.Inf(-1))
		for c := range k {
			var dot float32
			for t, x := range v {
				dot += x * snap.Centroids[c*d+t]
			}
			if dot > bestS {
				best, bestS = c, dot
			}
		}
		snap.Items.Cluster[i] = uint16(best)
		res.Cold++
	}
	snap.Sections = append(snap.Sections, snapshot.Section{Name: embed.SectionName, Data: e.Marshal()})
	return res, nil
}

// modelDir is where a region's exported text model goes.
func modelDir(root, region string) string { return filepath.Join(root, "models", region) }
