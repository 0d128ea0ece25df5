//go:build !(js && wasm)

package main

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEdgeJS runs package edge's Workers unit tests (edge/*_js_test.go,
// every test named TestJS...) as GOOS=js GOARCH=wasm under Node, with the
// runtime context and the "workers.ready" import that entry.mjs provides
// in workerd. Like the workerd tests it skips without Node unless
// AISLE_REQUIRE_WORKERD=1.
func TestEdgeJS(t *testing.T) {
	require := os.Getenv("AISLE_REQUIRE_WORKERD") == "1"
	if testing.Short() && !require {
		t.Skip("builds package edge for js/wasm; skipped in -short mode")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if require {
			t.Fatal("node is not installed (AISLE_REQUIRE_WORKERD=1): install Node.js 20")
		}
		t.Skip("node is not installed; it runs the js/wasm tests of package edge")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	dir := t.TempDir()
	// What entry.mjs gives the Go program in workerd: the same bridge
	// module, also handed to the tests as globalThis.aisleBridge.
	bridge := (&url.URL{Scheme: "file", Path: filepath.Join(root(t), "cmd", "worker", "bridge.mjs")}).String()
	preload := filepath.Join(dir, "preload.mjs")
	if err := os.WriteFile(preload, []byte(`import * as bridge from `+strconv.Quote(bridge)+`;
globalThis.aisleBridge = bridge;
globalThis.context = { env: {}, ctx: {}, binding: bridge.newBinding() };
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (source, imports) => instantiate(source, { workers: { ready() {} }, ...imports });
`), 0o644); err != nil {
		t.Fatal(err)
	}
	runner := filepath.Join(dir, "go_js_wasm_exec")
	script := "#!/bin/sh\nexec " + shellQuote(node) + " --import " + shellQuote((&url.URL{Scheme: "file", Path: preload}).String()) + " --stack-size=8192 " +
		shellQuote(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js")) + ` "$@"` + "\n"
	if err := os.WriteFile(runner, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-exec", runner, "-run", "^TestJS", "-v", "./edge")
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go test ./edge -run ^TestJS: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestJS") {
		t.Fatalf("no TestJS test ran:\n%s", out)
	}
	t.Logf("%s", out)
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
