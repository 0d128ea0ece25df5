package wasm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactUpToDate rebuilds the guest exactly as go generate does (by
// running the same generator into a temporary directory) and requires the
// bytes of the embedded ranker.wasm. Builds are reproducible for one Go
// version only, so a different toolchain skips with the reason.
func TestArtifactUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilding the guest takes a while; skipped in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to rebuild the guest: %v", err)
	}
	recorded, err := os.ReadFile("ranker.wasm.version")
	if err != nil {
		t.Fatalf("%v: run go generate ./wasm", err)
	}
	out, err := exec.Command(goTool, "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	built, have := strings.TrimSpace(string(recorded)), strings.TrimSpace(string(out))
	if built != have {
		t.Skipf("ranker.wasm was built with %s and this toolchain is %s: Go builds are reproducible only with the same version, so the bytes cannot be compared here (run go generate ./wasm with %s to refresh it)", built, have, built)
	}
	onDisk, err := os.ReadFile("ranker.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, module) {
		t.Fatal("the embedded module differs from ranker.wasm on disk: rebuild the test binary")
	}

	dir := t.TempDir()
	fresh := filepath.Join(dir, "ranker.wasm")
	cmd := exec.CommandContext(context.Background(), goTool, "run", "./internal/gen", "-o", fresh)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, module) {
		t.Fatalf("ranker.wasm is stale (the guest or something it imports changed; embedded %d bytes, fresh build %d bytes): run go generate ./wasm", len(module), len(got))
	}
	ver, err := os.ReadFile(fresh + ".version")
	if err != nil || !bytes.Equal(ver, recorded) {
		t.Fatalf("ranker.wasm.version = %q, a fresh build records %q (%v): run go generate ./wasm", recorded, ver, err)
	}
}

// TestImports keeps the layout's rules: nothing in shared/ imports wazero
// (or any other host-only package), and the guest does not either.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	tests := []struct {
		name string
		env  []string
		pkgs string
	}{
		{"shared", nil, "../shared/..."},
		{"guest", []string{"GOOS=wasip1", "GOARCH=wasm"}, "./guest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", tt.pkgs)
			cmd.Env = append(os.Environ(), tt.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for dep := range strings.Lines(string(out)) {
				dep = strings.TrimSpace(dep)
				for _, bad := range []string{"github.com/tetratelabs/wazero", "syscall/js", "github.com/syumai/"} {
					if strings.HasPrefix(dep, bad) {
						t.Errorf("%s depends on %s", tt.pkgs, dep)
					}
				}
			}
		})
	}
}
