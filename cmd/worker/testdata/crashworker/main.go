//go:build js && wasm

// Command crashworker is a Worker whose Go program can be made to exit or
// crash on request, for testing entry.mjs's instance handling in workerd:
//
//	GET /count          requests this Go instance has served, from 1
//	GET /exit           os.Exit(3) while the request is in flight
//	GET /crash          an unrecovered panic in another goroutine
//	GET /handler-panic  a panic in the handler (recovered: 500)
package main

import (
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/aisle-rec/aisle/edge"
)

func main() {
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := n.Add(1)
		switch r.URL.Path {
		case "/count":
			fmt.Fprint(w, c)
		case "/exit":
			os.Exit(3)
		case "/crash":
			done := make(chan struct{})
			go func() { defer close(done); panic("crashworker: crash") }()
			<-done
		case "/handler-panic":
			panic("crashworker: handler panic")
		default:
			http.NotFound(w, r)
		}
	})
	if err := edge.ServeWorkers(h, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
