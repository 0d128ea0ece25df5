package edge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPortable keeps the untagged files of the package runnable everywhere
// (native, wazero-backed edges, Workers): no platform packages, no hub or
// wasm code, and no goroutines or timers started by the handler. Timers
// armed through context.WithTimeout are allowed only behind the optional
// HubTimeout and SourceTimeout, which the Workers build sets to 0.
// script.go alone may import package web, for the embedded aisle.js (the
// linker keeps only what is referenced, so the demo shop stays out of the
// Workers build).
func TestPortable(t *testing.T) {
	forbidden := []string{"syscall", "os", "os/exec", "net/rpc", "unsafe", "plugin", "runtime/cgo",
		"github.com/aisle-rec/aisle/hub", "github.com/aisle-rec/aisle/wasm", "github.com/aisle-rec/aisle/cmd",
		"github.com/aisle-rec/aisle/web"}
	timers := map[string]bool{"Sleep": true, "After": true, "AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, ent := range ents {
		name := ent.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_js.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if name == "script.go" && path == "github.com/aisle-rec/aisle/web" {
				continue
			}
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s; package edge must build for every platform and depend only on shared", name, path)
				}
			}
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") && !strings.HasPrefix(path, "github.com/aisle-rec/aisle/shared/") {
				t.Errorf("%s imports %s; package edge uses the standard library and shared only", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement at %s; the handler must start no goroutines", name, fset.Position(n.Pos()))
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "time" {
						if timers[sel.Sel.Name] {
							t.Errorf("%s: time.%s at %s; the handler must arm no timers", name, sel.Sel.Name, fset.Position(n.Pos()))
						}
						if sel.Sel.Name == "Now" {
							t.Errorf("%s: time.Now() at %s; read the injected Clock", name, fset.Position(n.Pos()))
						}
					}
				}
			}
			return true
		})
	}
}
