// Command gen rebuilds the ranker Wasm artifact, wasm/ranker.wasm, from
// wasm/guest and records the Go version that built it in
// ranker.wasm.version. `go generate ./wasm` runs it; TestArtifactUpToDate
// runs it into a temporary directory and compares the bytes, so this file is
// the one place that says how the artifact is built.
//
// Usage (from the wasm directory):
//
//	go run ./internal/gen [-o ranker.wasm]
//
// The build is reproducible for a given Go version: -trimpath drops local
// paths, -buildvcs=false keeps the commit out of the build info, the
// environment is fixed (GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0, GOFLAGS and
// GOWASM cleared), and -ldflags='-s -w' drops the symbol table and DWARF.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "ranker.wasm", "output `file`; the Go version goes to file.version")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := build(ctx, *out); err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 1
	}
	return 0
}

// build compiles the guest package (./guest, relative to the wasm
// directory this runs in) into out and writes out+".version".
func build(ctx context.Context, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWASM=")
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", out, "./guest")
	cmd.Env = env
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./guest: %w\n%s", err, msg.Bytes())
	}
	ver := exec.CommandContext(ctx, "go", "env", "GOVERSION")
	ver.Env = env
	v, err := ver.Output()
	if err != nil {
		return fmt.Errorf("go env GOVERSION: %w", err)
	}
	return os.WriteFile(out+".version", []byte(strings.TrimSpace(string(v))+"\n"), 0o644)
}
