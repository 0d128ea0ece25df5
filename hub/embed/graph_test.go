package embed

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fields decodes one protobuf message into its fields, in order.
func fields(t *testing.T, b []byte) []struct {
	num protowire.Number
	v   uint64
	b   []byte
} {
	t.Helper()
	var out []struct {
		num protowire.Number
		v   uint64
		b   []byte
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := struct {
			num protowire.Number
			v   uint64
			b   []byte
		}{num: num}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("unexpected wire type %v", typ)
		}
		if n < 0 {
			t.Fatalf("bad field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out
}

type onnxNode struct {
	op      string
	inputs  []string
	outputs []string
}

// decodeGraph returns the opset, the nodes, the initializer names and
// types, and the graph input and output names.
func decodeGraph(t *testing.T, model []byte) (opsetVer uint64, nodes []onnxNode, inits map[string]uint64, inputs, outputs []string) {
	inits = map[string]uint64{}
	for _, f := range fields(t, model) {
		switch f.num {
		case modelOpset:
			for _, g := range fields(t, f.b) {
				if g.num == opsetVersion {
					opsetVer = g.v
				}
			}
		case modelGraph:
			for _, g := range fields(t, f.b) {
				switch g.num {
				case graphNode:
					var n onnxNode
					for _, h := range fields(t, g.b) {
						switch h.num {
						case nodeOpType:
							n.op = string(h.b)
						case nodeInput:
							n.inputs = append(n.inputs, string(h.b))
						case nodeOutput:
							n.outputs = append(n.outputs, string(h.b))
						}
					}
					nodes = append(nodes, n)
				case graphInitializer:
					var name string
					var dt uint64
					for _, h := range fields(t, g.b) {
						switch h.num {
						case tensorName:
							name = string(h.b)
						case tensorDataType:
							dt = h.v
						}
					}
					inits[name] = dt
				case graphInput, graphOutput:
					for _, h := range fields(t, g.b) {
						if h.num == valueInfoName {
							if g.num == graphInput {
								inputs = append(inputs, string(h.b))
							} else {
								outputs = append(outputs, string(h.b))
							}
						}
					}
				}
			}
		}
	}
	return
}

// TestExportedGraph checks the graph's shape: opset 13, the three inputs
// hugot feeds, the int8 table touched only by Gather, and dequantising
// (Cast) after gathering.
func TestExportedGraph(t *testing.T) {
	e := trainedEmbedder(t, 32)
	for _, tc := range []struct {
		name   string
		opt    ExportOptions
		table  uint64
		output string
		ops    []string
	}{
		{"int8", ExportOptions{}, dtInt8, OutputName,
			[]string{"Slice", "Slice", "Cast", "Gather", "Gather", "Cast", "Mul", "Unsqueeze", "Mul", "ReduceSum", "ReduceSum", "Max", "Div"}},
		{"float32", ExportOptions{Float32: true}, dtFloat, OutputName,
			[]string{"Slice", "Slice", "Cast", "Gather", "Unsqueeze", "Mul", "ReduceSum", "ReduceSum", "Max", "Div"}},
		{"int8 token vectors", ExportOptions{TokenVectors: true}, dtInt8, TokenOutputName,
			[]string{"Gather", "Gather", "Cast", "Unsqueeze", "Mul"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ver, nodes, inits, inputs, outputs := decodeGraph(t, modelProto(e, tc.opt))
			if ver != opset {
				t.Errorf("opset %d, want %d", ver, opset)
			}
			if want := []string{"input_ids", "attention_mask", "token_type_ids"}; !slices.Equal(inputs, want) {
				t.Errorf("inputs %v, want %v", inputs, want)
			}
			if !slices.Equal(outputs, []string{tc.output}) {
				t.Errorf("outputs %v, want [%s]", outputs, tc.output)
			}
			if inits["table"] != tc.table {
				t.Errorf("table data type %d, want %d", inits["table"], tc.table)
			}
			var ops []string
			for _, n := range nodes {
				ops = append(ops, n.op)
				if slices.Contains(n.inputs, "table") && n.op != "Gather" {
					t.Errorf("%s reads the whole table; only Gather may", n.op)
				}
				for _, in := range n.inputs {
					if _, ok := inits[in]; ok {
						continue
					}
					found := slices.Contains(inputs, in)
					for _, m := range nodes {
						found = found || slices.Contains(m.outputs, in)
					}
					if !found {
						t.Errorf("%s reads %q, which nothing produces", n.op, in)
					}
				}
			}
			if !slices.Equal(ops, tc.ops) {
				t.Errorf("ops %v, want %v", ops, tc.ops)
			}
		})
	}
}
