package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/store"
)

func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "aisle.db")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cat := write("catalog.csv", "sku,name,cost,stock_eu\nA1,Train,9.99,3\nA2,Track,1.50,0\n")
	bad := write("bad.jsonl", `{"id":"x","title":""}`+"\n"+`{"id":"y","title":"ok","price":-1,"currency":"GBP"}`+"\n")
	seq := write("user_sequence.txt", "u1 A1 A2\nu2 A2\n")

	steps := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"csv with flags after the files", []string{"ingest", "-db", db, "-shop", "toys", "catalog", cat, "-map", "id=sku,title=name,price=cost", "-currency", "GBP"},
			0, "catalog → shop \"toys\": read 2, changed 2, unchanged 0", "created shop \"toys\""},
		{"again: nothing changes", []string{"ingest", "-db", db, "-shop", "toys", "-map", "id=sku,title=name,price=cost", "-currency", "GBP", "catalog", cat},
			0, "read 2, changed 0, unchanged 2", ""},
		{"bad rows", []string{"ingest", "-db", db, "-shop", "toys", "catalog", bad},
			1, "", "bad.jsonl:1: title: is empty\n" + bad + ":2: price: -1 is negative\naisle ingest: 2 problem(s) in the input; nothing was written"},
		{"sequences as events", []string{"ingest", "-db", db, "-shop", "toys", "events", seq},
			0, "events → shop \"toys\": read 3, changed 3", ""},
		{"no kind", []string{"ingest", "-db", db}, 2, "", "say what to ingest"},
		{"no db", []string{"ingest", "catalog", cat}, 2, "", "-db is required"},
		{"bad kind", []string{"ingest", "-db", db, "orders", cat}, 2, "", "unknown kind"},
		{"bad format", []string{"ingest", "-db", db, "-format", "csv", "reviews", cat}, 2, "", "cannot be read as"},
		{"bad map", []string{"ingest", "-db", db, "-map", "colour=c", "catalog", cat}, 2, "", "unknown field"},
		{"missing file", []string{"ingest", "-db", db, "catalog", filepath.Join(dir, "nope.jsonl")}, 1, "", "no such file"},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.err) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", s.name, code, out, errOut, s.code, s.out, s.err)
		}
	}

	// token prints a fresh token that the store accepts.
	code, out, errOut := runCLI(t, "ingest", "-db", db, "-shop", "toys", "token")
	token := strings.TrimSpace(out)
	if code != 0 || len(token) < store.MinTokenBytes || !strings.Contains(errOut, "shown once") {
		t.Fatalf("token: exit %d, %q, %q", code, out, errOut)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.CheckToken(context.Background(), "toys", token) {
		t.Error("the printed token does not work")
	}
	c, _ := st.Counts(context.Background(), "toys")
	if c.Products != 2 || c.Events != 3 || c.Sessions != 2 {
		t.Errorf("counts %+v", c)
	}
	ps, _ := st.Products(context.Background(), "toys")
	if ps[0].Currency != "GBP" || ps[0].Stock["eu"] != 3 {
		t.Errorf("product %+v", ps[0])
	}
}
