package snapshot

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPureImports keeps the package pure: it runs on the edge (Wasm) as
// well as the hub, so it does no I/O, reads no clock and starts nothing.
func TestPureImports(t *testing.T) {
	forbidden := []string{"os", "net", "syscall", "time", "log", "io/fs", "os/exec", "runtime/cgo", "plugin"}
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
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s; package snapshot must stay pure (no I/O, clock or platform packages)", name, path)
				}
			}
			if strings.Contains(path, ".") {
				t.Errorf("%s imports %s; package snapshot uses the standard library only", name, path)
			}
		}
	}
}
