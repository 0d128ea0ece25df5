package embed

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPureImports keeps the package pure: it runs on the edge (Wasm) as
// well as the hub, so it imports only computation from the standard
// library — no I/O, clock, platform packages, hugot or ONNX.
func TestPureImports(t *testing.T) {
	allowed := map[string]bool{
		"encoding/binary": true, "errors": true, "fmt": true, "math": true,
		"strings": true, "unicode": true, "unicode/utf8": true,
	}
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s; package embed runs at the edge and may import only %v", name, path, allowed)
			}
		}
	}
}
