#!/bin/sh
# Builds the Aisle Worker into a directory (default: build/ at the repository
# root): app.wasm (the edge, GOOS=js GOARCH=wasm), wasm_exec.js (the Go
# toolchain's own JavaScript runtime support, so it always matches the
# compiler), entry.mjs (the entry module that keeps one Go instance per
# isolate) and bridge.mjs (how requests and answers cross into Go).
# wrangler.toml's [build] command runs it; the workerd tests too.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-"$root/build"}
mkdir -p "$out"
# The build directory ignores itself, so that git status stays clean.
printf '*\n' >"$out/.gitignore"
cd "$root"
GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o "$out/app.wasm" ./cmd/worker
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
cp cmd/worker/entry.mjs "$out/entry.mjs"
cp cmd/worker/bridge.mjs "$out/bridge.mjs"
