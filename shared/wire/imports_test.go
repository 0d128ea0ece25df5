package wire

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package pure: it runs natively, under wazero, on
// Workers and in a browser, so it may not import I/O, networking, clocks or
// platform bindings. Extend allowed deliberately.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"bytes": true, "encoding/binary": true, "encoding/json": true, "errors": true,
		"fmt": true, "math": true, "reflect": true, "strconv": true, "strings": true,
		"unicode/utf8":                      true,
		"github.com/vmihailenco/msgpack/v5": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %q, which package wire may not use", name, path)
			}
		}
	}
}
