package embed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenHugotRejects(t *testing.T) {
	e := trainedEmbedder(t, 16)
	good := t.TempDir()
	if err := ExportONNX(e, good, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	copyDir := func(skip string, extra ...string) string {
		dir := t.TempDir()
		for _, f := range []string{ModelFile, TokenizerFile, ConfigFile} {
			if f == skip {
				continue
			}
			b, err := os.ReadFile(filepath.Join(good, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range extra {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name string
		dir  string
		opt  HugotOptions
	}{
		{"missing directory", filepath.Join(good, "nope"), DefaultHugotOptions()},
		{"a file, not a directory", filepath.Join(good, ModelFile), DefaultHugotOptions()},
		{"no onnx file", copyDir(ModelFile), DefaultHugotOptions()},
		{"two onnx files", copyDir("", "second.onnx"), DefaultHugotOptions()},
		{"no tokenizer", copyDir(TokenizerFile), DefaultHugotOptions()},
		{"corrupt model", func() string {
			d := copyDir("")
			os.WriteFile(filepath.Join(d, ModelFile), []byte("not a model"), 0o644)
			return d
		}(), DefaultHugotOptions()},
		{"batch size 0", good, HugotOptions{}},
		{"buckets not increasing", good, HugotOptions{BatchSize: 8, SequenceBuckets: []int{8, 8}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := OpenHugotWith(tc.dir, tc.opt)
			if err == nil {
				h.Close()
				t.Fatal("OpenHugot accepted an unusable model directory")
			}
			t.Log(err)
		})
	}
	// config.json is optional.
	h, err := OpenHugot(copyDir(ConfigFile))
	if err != nil {
		t.Fatalf("directory without config.json: %v", err)
	}
	h.Close()
}

func TestHugotLifecycle(t *testing.T) {
	e := trainedEmbedder(t, 16)
	dir := t.TempDir()
	if err := ExportONNX(e, dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHugotWith(dir, HugotOptions{BatchSize: 2, SequenceBuckets: []int{8, 16, 32}})
	if err != nil {
		t.Fatal(err)
	}
	var m Model = h // Hugot is a Model
	out, err := m.Embed(context.Background(), nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("no texts: %v, %v", out, err)
	}
	texts := []string{"red lipstick", "", "argan oil shampoo", "zzz", "pink gloss"}
	out, err = m.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if c := cosine(v, e.Embed(texts[i], nil)); !isZero(v) && c < 0.999 {
			t.Errorf("text %q with padded buckets: cosine %.5f", texts[i], c)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Embed(ctx, texts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// Two models open at once, then closed in any order.
	h2, err := OpenHugot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := h.Embed(context.Background(), texts); err == nil {
		t.Error("Embed after Close succeeded")
	}
	if _, err := h2.Embed(context.Background(), texts); err != nil {
		t.Errorf("the other model broke when the first closed: %v", err)
	}
	if err := h2.Close(); err != nil {
		t.Fatal(err)
	}
}
