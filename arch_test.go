package aisle_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// pkg is the part of `go list -json` output the rules read.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	args := append([]string{"list", "-json=ImportPath,Imports,Deps"}, patterns...)
	cmd := exec.Command("go", args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

const module = "github.com/aisle-rec/aisle/"

// TestArchitecture enforces the import rules: the shared core is pure (it
// runs natively, under wazero, on Workers and in browsers), and imports flow
// one way, shared ← wasm, edge, hub ← cmd.
func TestArchitecture(t *testing.T) {
	// What shared/ may import directly: computation only, no clock, no I/O.
	pure := map[string]bool{
		"bufio": true, "bytes": true, "cmp": true, "compress/flate": true, "crypto/sha256": true,
		"encoding/binary": true, "encoding/hex": true, "encoding/json": true,
		"errors": true, "fmt": true, "hash": true, "hash/maphash": true, "io": true, "iter": true,
		"math": true, "math/bits": true, "math/rand/v2": true, "reflect": true,
		"slices": true, "sort": true, "strconv": true, "strings": true,
		"sync": true, "sync/atomic": true, "unicode": true, "unicode/utf8": true,
		"unsafe": true, "github.com/vmihailenco/msgpack/v5": true,
	}
	// What nothing in shared/ may reach even indirectly.
	banned := []string{"syscall/js", "net", "net/http", "os/exec",
		"github.com/syumai/", "github.com/tetratelabs/", "github.com/knights-analytics/", "github.com/cloudflare/"}
	for _, p := range listPackages(t, "./shared/...") {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				if !strings.HasPrefix(imp, module+"shared/") {
					t.Errorf("%s imports %s: shared may only import shared", p.ImportPath, imp)
				}
				continue
			}
			if !pure[imp] {
				t.Errorf("%s imports %s, which is not on the pure list (no clock, I/O or platform code in shared)", p.ImportPath, imp)
			}
		}
		for _, d := range p.Deps {
			for _, b := range banned {
				if d == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(d, b)) {
					t.Errorf("%s depends on %s", p.ImportPath, d)
				}
			}
		}
	}
	// One-way flow between the top-level parts.
	forbidden := map[string][]string{
		"edge/": {"hub/", "cmd/"},
		"wasm/": {"hub/", "cmd/", "edge/"},
		"hub/":  {"edge/", "cmd/", "wasm/"},
	}
	for _, p := range listPackages(t, "./...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok {
			continue
		}
		for from, bad := range forbidden {
			if !strings.HasPrefix(rel, from) {
				continue
			}
			for _, imp := range p.Imports {
				for _, b := range bad {
					if strings.HasPrefix(imp, module+b) {
						t.Errorf("%s imports %s: %s must not depend on %s", p.ImportPath, imp, from, b)
					}
				}
			}
		}
	}
}
