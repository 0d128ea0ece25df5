//go:build !(js && wasm)

package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Stderr)) }

// run explains that this command is the Workers build.
func run(stderr io.Writer) int {
	fmt.Fprintln(stderr, "cmd/worker is the Cloudflare Workers build of the Aisle edge; build it with\n"+
		"  GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o build/app.wasm ./cmd/worker\n"+
		"or sh cmd/worker/build.sh, and run it with npx wrangler dev (see wrangler.toml).")
	return 2
}
