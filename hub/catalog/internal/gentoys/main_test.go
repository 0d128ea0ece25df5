package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestRun(t *testing.T) {
	data := t.TempDir()
	csvPath := filepath.Join(data, catalog.ToysDataPath)
	if err := os.MkdirAll(filepath.Dir(csvPath), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "amazon_uk_toys_rules.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-data", data, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "5 products (1 without price, 1 with unknown stock), 7 reviews (5 malformed chunks skipped)") {
		t.Errorf("stdout %q", stdout.String())
	}
	n := 0
	f, err := os.Open(filepath.Join(out, "catalog.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := catalog.ReadProducts(f, "catalog.jsonl", func(catalog.Product) error { n++; return nil }); err != nil || n != 5 {
		t.Errorf("read back %d products: %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(out, "reviews.jsonl")); err != nil {
		t.Error(err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".gentoys-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	stderr.Reset()
	if code := run([]string{"-data", t.TempDir(), "-out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "set -data or $AISLE_DATA") {
		t.Errorf("missing data: exit %d, %q", code, stderr.String())
	}
	if code := run([]string{"-nope"}, &stdout, &stderr); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := run([]string{"extra"}, &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
}
