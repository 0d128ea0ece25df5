package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalSentiment(t *testing.T) {
	// Rated reviews whose words carry their stars: a model trained on four
	// in five must sort the held-out fifth.
	var b strings.Builder
	good := []string{"love it, works great", "excellent quality, very happy", "great value and lovely smell", "wonderful, would buy again"}
	bad := []string{"terrible, broke after a day", "awful smell, very disappointed", "poor quality, waste of money", "horrible, returned it"}
	for i := range 200 {
		text, stars := good[i%4], 5
		if i%3 == 0 {
			text, stars = bad[i%4], 1
		}
		fmt.Fprintf(&b, `{"overall": %d.0, "reviewText": "%s", "summary": "review %d"}`+"\n", stars, text, i)
	}
	path := filepath.Join(t.TempDir(), "rated.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "eval", "sentiment", "-reviews", path, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		N        int     `json:"n"`
		MacroF1  float64 `json:"macro_f1"`
		Accuracy float64 `json:"accuracy"`
		Majority float64 `json:"majority_macro_f1"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if r.N != 40 || r.MacroF1 < 0.95 || r.Accuracy < 0.95 || r.Majority >= r.MacroF1 {
		t.Fatalf("%+v", r)
	}
	if code, _, errs := runCLI(t, "eval", "sentiment"); code != 2 || !strings.Contains(errs, "--reviews is required") {
		t.Fatalf("no file: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "eval", "sentiment", "-reviews", filepath.Join(t.TempDir(), "missing.json")); code != 1 || !strings.Contains(errs, "missing.json") {
		t.Fatalf("missing file: exit %d %q", code, errs)
	}
}
