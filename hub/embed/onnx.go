package embed

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/aisle-rec/aisle/shared/embed"
)

// Files ExportONNX writes.
const (
	ModelFile     = "model.onnx"
	TokenizerFile = "tokenizer.json"
	ConfigFile    = "config.json"
	// OutputName is the exported model's only output, [batch, dims].
	OutputName = "sentence_embedding"
	// TokenOutputName is the output of a TokenVectors export,
	// [batch, seq, dims].
	TokenOutputName = "last_hidden_state"
)

// ExportOptions tunes ExportONNX.
type ExportOptions struct {
	// Float32 exports the dequantised table as float32 instead of int8 with
	// per-row scales: the same model, four times the size, no Cast. It
	// is the "float teacher of the same shape" throughput comparisons use.
	Float32 bool
	// TokenVectors exports the per-token vectors, output
	// "last_hidden_state" [batch, seq, dims], and leaves mean pooling to
	// the runtime, as most Hugging Face sentence-embedding exports do. The
	// graph then does not truncate: hugot's pure-Go path pools every token.
	TokenVectors bool
}

// ExportONNX writes e as a Hugging Face style model directory that hugot
// (and onnxruntime) load: model.onnx, tokenizer.json and config.json. The
// graph, opset 13, with B batch, S sequence, V vocabulary, D dims:
//
//	ids  = Slice(input_ids, [0], [maxTokens], axes [1])            int64 [B, S]
//	mask = Cast<float>(Slice(attention_mask, [0], [maxTokens], [1]))  float [B, S]
//	q    = Gather(table, ids)                 table int8 [V, D] → int8  [B, S, D]
//	s    = Gather(scales, ids)                scales float [V]  → float [B, S]
//	x    = Cast<float>(q)                                          float [B, S, D]
//	w    = Unsqueeze(s * mask, axis 2)                             float [B, S, 1]
//	sum  = ReduceSum(x * w, axis 1)                                float [B, D]
//	sentence_embedding = sum / Max(ReduceSum(mask, axis 1), 1)     float [B, D]
//
// that is, Gather before dequantising (only the rows of the text's tokens
// are touched, never the whole table), the per-row scale folded into the
// pooling weights, and mean pooling over the attention mask of the first
// maxTokens tokens — exactly what embed.Embedder.Embed computes before
// normalising. token_type_ids is declared (hugot feeds it) and unused.
// With opt.Float32 the table is the dequantised float32 table and the
// weights are the mask alone. (Pooling with one batched MatMul instead of
// Mul+ReduceSum runs about 20 % faster on hugot's Go backend, but that
// backend's matmul kernel (gomlx/compute v0.1.2) dies under -race's
// checkptr, so the exported graph avoids MatMul.)
//
// dir is created if needed; another *.onnx file there is an error, since
// hugot needs exactly one.
func ExportONNX(e *embed.Embedder, dir string, opt ExportOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("embed: export: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("embed: export: %w", err)
	}
	for _, ent := range ents {
		if strings.HasSuffix(ent.Name(), ".onnx") && ent.Name() != ModelFile {
			return fmt.Errorf("embed: export: %s already holds %s; hugot needs exactly one .onnx file per directory", dir, ent.Name())
		}
	}
	tok, err := TokenizerJSON(e)
	if err != nil {
		return err
	}
	cfg, err := configJSON(e)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ModelFile, modelProto(e, opt)},
		{TokenizerFile, tok},
		{ConfigFile, cfg},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("embed: export: %w", err)
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// TokenizerJSON returns the tokenizer.json that makes hugot's tokenizer
// produce exactly the ids e.Tokenize produces (before truncation, which the
// graph applies). See package shared/embed for the rules.
func TokenizerJSON(e *embed.Embedder) ([]byte, error) {
	vocab := make(map[string]int, e.Len())
	for i, t := range e.Vocab() {
		vocab[t] = i
	}
	f := false
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": []any{},
		"normalizer": map[string]any{
			"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": &f, "lowercase": true,
		},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "WordPiece", "prefix": embed.ContinuingPrefix, "cleanup": true},
		"model": map[string]any{
			"type":                      "WordPiece",
			"unk_token":                 embed.UnkToken,
			"continuing_subword_prefix": embed.ContinuingPrefix,
			"max_input_chars_per_word":  embed.MaxWordBytes,
			"vocab":                     vocab,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("embed: tokenizer.json: %w", err)
	}
	return b, nil
}

// configJSON is the config.json hugot reads max_position_embeddings from
// (the Rust tokenizer path truncates there; the graph truncates itself).
func configJSON(e *embed.Embedder) ([]byte, error) {
	b, err := json.MarshalIndent(map[string]any{
		"architectures":           []string{"AisleStaticEmbedding"},
		"model_type":              "aisle-static",
		"hidden_size":             e.Dims(),
		"vocab_size":              e.Len(),
		"max_position_embeddings": e.MaxTokens(),
		"pad_token_id":            embed.PadID,
		"pooling":                 "mean",
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("embed: config.json: %w", err)
	}
	return b, nil
}

// ONNX protobuf field numbers (onnx/onnx.proto) and enum values used here.
const (
	modelIRVersion   = 1
	modelProducer    = 2
	modelProducerVer = 3
	modelGraph       = 7
	modelOpset       = 8

	opsetDomain  = 1
	opsetVersion = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5

	attrName = 1
	attrI    = 3
	attrInts = 8
	attrType = 20

	attrTypeInt  = 2
	attrTypeInts = 7

	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9

	valueInfoName = 1
	valueInfoType = 2

	typeTensor = 1

	tensorTypeElem  = 1
	tensorTypeShape = 2

	shapeDim = 1

	dimValue = 1
	dimParam = 2

	dtFloat = 1
	dtInt8  = 3
	dtInt64 = 7

	irVersion = 8
	opset     = 13
)

// msg appends a length-delimited sub-message field.
func msg(b []byte, field protowire.Number, sub []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, sub)
}

func str(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func varint(b []byte, field protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// dim is one dimension of a shape: a fixed size, or a named dynamic one.
type dim struct {
	value int64
	param string
}

func valueInfo(name string, elem int32, dims ...dim) []byte {
	var shape []byte
	for _, d := range dims {
		var db []byte
		if d.param != "" {
			db = str(db, dimParam, d.param)
		} else {
			db = varint(db, dimValue, d.value)
		}
		shape = msg(shape, shapeDim, db)
	}
	var tt []byte
	tt = varint(tt, tensorTypeElem, int64(elem))
	tt = msg(tt, tensorTypeShape, shape)
	var typ []byte
	typ = msg(typ, typeTensor, tt)
	var b []byte
	b = str(b, valueInfoName, name)
	return msg(b, valueInfoType, typ)
}

func tensor(name string, dataType int32, dims []int64, raw []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = varint(b, tensorDims, d)
	}
	b = varint(b, tensorDataType, int64(dataType))
	b = str(b, tensorName, name)
	b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func int64Tensor(name string, vals ...int64) []byte {
	raw := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	return tensor(name, dtInt64, []int64{int64(len(vals))}, raw)
}

func float32Raw(vals []float32) []byte {
	raw := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return raw
}

// attr is an int (ints == nil) or ints attribute.
type attr struct {
	name string
	i    int64
	ints []int64
}

func node(op, name string, inputs, outputs []string, attrs ...attr) []byte {
	var b []byte
	for _, in := range inputs {
		b = str(b, nodeInput, in)
	}
	for _, out := range outputs {
		b = str(b, nodeOutput, out)
	}
	b = str(b, nodeName, name)
	b = str(b, nodeOpType, op)
	for _, a := range attrs {
		var ab []byte
		ab = str(ab, attrName, a.name)
		if a.ints != nil {
			for _, v := range a.ints {
				ab = varint(ab, attrInts, v)
			}
			ab = varint(ab, attrType, attrTypeInts)
		} else {
			ab = varint(ab, attrI, a.i)
			ab = varint(ab, attrType, attrTypeInt)
		}
		b = msg(b, nodeAttribute, ab)
	}
	return b
}

// modelProto encodes the ONNX ModelProto described at ExportONNX.
func modelProto(e *embed.Embedder, opt ExportOptions) []byte {
	v, d := int64(e.Len()), int64(e.Dims())
	table, scales := e.Table()
	var g []byte
	g = str(g, graphName, "aisle_static_embedding")

	// Initializers: the table, then the small constants.
	if opt.Float32 {
		w := make([]float32, 0, len(table))
		row := make([]float32, 0, e.Dims())
		for id := range e.Len() {
			w = append(w, e.Row(id, row)...)
		}
		g = msg(g, graphInitializer, tensor("table", dtFloat, []int64{v, d}, float32Raw(w)))
	} else {
		raw := make([]byte, len(table))
		for i, q := range table {
			raw[i] = byte(q)
		}
		g = msg(g, graphInitializer, tensor("table", dtInt8, []int64{v, d}, raw))
		g = msg(g, graphInitializer, tensor("scales", dtFloat, []int64{v}, float32Raw(scales)))
	}
	g = msg(g, graphInitializer, int64Tensor("const_slice_starts", 0))
	g = msg(g, graphInitializer, int64Tensor("const_slice_ends", int64(e.MaxTokens())))
	g = msg(g, graphInitializer, int64Tensor("const_axis_1", 1))
	g = msg(g, graphInitializer, int64Tensor("const_axis_2", 2))
	g = msg(g, graphInitializer, tensor("const_one", dtFloat, nil, float32Raw([]float32{1})))

	if opt.TokenVectors {
		g = tokenVectorNodes(g, opt)
		batch, seq := dim{param: "batch_size"}, dim{param: "sequence_length"}
		for _, in := range []string{"input_ids", "attention_mask", "token_type_ids"} {
			g = msg(g, graphInput, valueInfo(in, dtInt64, batch, seq))
		}
		g = msg(g, graphOutput, valueInfo(TokenOutputName, dtFloat, batch, seq, dim{value: d}))
		return modelBytes(g)
	}
	nodes := [][]byte{
		node("Slice", "truncate_ids", []string{"input_ids", "const_slice_starts", "const_slice_ends", "const_axis_1"}, []string{"ids"}),
		node("Slice", "truncate_mask", []string{"attention_mask", "const_slice_starts", "const_slice_ends", "const_axis_1"}, []string{"mask_i"}),
		node("Cast", "mask_float", []string{"mask_i"}, []string{"mask"}, attr{name: "to", i: dtFloat}),
	}
	if opt.Float32 {
		nodes = append(nodes,
			node("Gather", "gather_rows", []string{"table", "ids"}, []string{"x"}, attr{name: "axis", i: 0}),
			node("Unsqueeze", "weight_3d", []string{"mask", "const_axis_2"}, []string{"w3"}),
		)
	} else {
		nodes = append(nodes,
			node("Gather", "gather_rows", []string{"table", "ids"}, []string{"q"}, attr{name: "axis", i: 0}),
			node("Gather", "gather_scales", []string{"scales", "ids"}, []string{"s"}, attr{name: "axis", i: 0}),
			node("Cast", "dequantize_cast", []string{"q"}, []string{"x"}, attr{name: "to", i: dtFloat}),
			node("Mul", "scale_mask", []string{"s", "mask"}, []string{"w"}),
			node("Unsqueeze", "weight_3d", []string{"w", "const_axis_2"}, []string{"w3"}),
		)
	}
	nodes = append(nodes,
		node("Mul", "pool_weighted", []string{"x", "w3"}, []string{"xw"}),
		node("ReduceSum", "pool_sum", []string{"xw", "const_axis_1"}, []string{"sum"}, attr{name: "keepdims", i: 0}),
		node("ReduceSum", "pool_count", []string{"mask", "const_axis_1"}, []string{"count"}, attr{name: "keepdims", i: 1}),
		node("Max", "count_at_least_one", []string{"count", "const_one"}, []string{"count1"}),
		node("Div", "pool_mean", []string{"sum", "count1"}, []string{OutputName}),
	)
	for _, n := range nodes {
		g = msg(g, graphNode, n)
	}

	batch, seq := dim{param: "batch_size"}, dim{param: "sequence_length"}
	for _, in := range []string{"input_ids", "attention_mask", "token_type_ids"} {
		g = msg(g, graphInput, valueInfo(in, dtInt64, batch, seq))
	}
	g = msg(g, graphOutput, valueInfo(OutputName, dtFloat, batch, dim{value: d}))

	return modelBytes(g)
}

// tokenVectorNodes appends the nodes of the TokenVectors graph:
// last_hidden_state = Cast<float>(Gather(table, ids)) * Unsqueeze(Gather(scales, ids), 2).
func tokenVectorNodes(g []byte, opt ExportOptions) []byte {
	var nodes [][]byte
	if opt.Float32 {
		nodes = append(nodes, node("Gather", "gather_rows", []string{"table", "input_ids"}, []string{TokenOutputName}, attr{name: "axis", i: 0}))
	} else {
		nodes = append(nodes,
			node("Gather", "gather_rows", []string{"table", "input_ids"}, []string{"q"}, attr{name: "axis", i: 0}),
			node("Gather", "gather_scales", []string{"scales", "input_ids"}, []string{"s"}, attr{name: "axis", i: 0}),
			node("Cast", "dequantize_cast", []string{"q"}, []string{"x"}, attr{name: "to", i: dtFloat}),
			node("Unsqueeze", "scale_3d", []string{"s", "const_axis_2"}, []string{"s3"}),
			node("Mul", "dequantize_scale", []string{"x", "s3"}, []string{TokenOutputName}),
		)
	}
	for _, n := range nodes {
		g = msg(g, graphNode, n)
	}
	return g
}

// modelBytes wraps a graph into a ModelProto.
func modelBytes(g []byte) []byte {
	var m []byte
	m = varint(m, modelIRVersion, irVersion)
	m = str(m, modelProducer, "aisle")
	m = str(m, modelProducerVer, "1")
	var op []byte
	op = str(op, opsetDomain, "")
	op = varint(op, opsetVersion, opset)
	m = msg(m, modelOpset, op)
	return msg(m, modelGraph, g)
}
