//go:build js && wasm

package main

import (
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/aisle-rec/aisle/edge"
	"github.com/syumai/workers/cloudflare"
)

func main() { os.Exit(run()) }

// memoryLimit is the Go heap's soft limit inside an isolate. The isolate
// has 128 MB in all, and workerd's own share (the compiled module, the
// JavaScript heap, the snapshot's fetch, which streams into the decoder
// 256 KiB at a time) measured about 40 MiB with a small index and 80 MiB
// with a 19 MB snapshot held whole before streaming (aisle bench edge: RSS
// beyond the Go heap), so a Go heap past about 70 MiB cannot fit anyway. A 100,000-item index keeps about 44 MiB live; with the default
// GOGC the heap would grow to twice that between collections, and Wasm
// memory never shrinks. Under the limit the collector runs more often only
// when the index is that large (aisle bench edge at 100,000 items: the peak
// after the run 8 MiB lower than under 80 MiB, CPU p99 unchanged); a lower
// GOGC instead made every index collect more often and put Beauty's CPU p99
// over 3 ms.
const memoryLimit = 72 << 20

// run wires the edge from the Worker's bindings and serves it until the
// isolate goes away. A configuration error is logged and answered 503 on
// every route, rather than failing each request's instance start.
func run() int {
	// An isolate has 128 MB for the JavaScript heap, the Wasm memory and
	// everything else, and Wasm memory never shrinks: keep the Go heap's
	// growth under a soft limit so the collector works harder instead.
	debug.SetMemoryLimit(memoryLimit)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := handler(log)
	if err != nil {
		log.Error("worker: not configured", "err", err)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"edge not configured; see the worker's logs"}` + "\n"))
		})
	}
	err = edge.ServeWorkers(h, log)
	log.Error("worker: cannot serve", "err", err)
	return 1
}

// handler builds the edge from the bindings.
func handler(log *slog.Logger) (http.Handler, error) {
	ns := cloudflare.GetBinding(kvBindingID)
	haveKV := !ns.IsUndefined() && !ns.IsNull()
	s, err := loadSettings(cloudflare.Getenv, haveKV)
	if err != nil {
		return nil, err
	}
	p := platform{log: log, hub: func(base, region, secret string) (edge.Source, *edge.HTTPHub, error) {
		// Each request to the hub carries a JavaScript timer (the
		// FetchDoer's Timeout), so a hub that never answers cannot hold
		// a visitor's request: the pointer check inside a request gives
		// up after pointerTimeout, a snapshot fetch after contentTimeout,
		// chat and summaries (answered degraded) after hubTimeout.
		pointer, err := edge.NewFetchSource(base, region, secret, &edge.FetchDoer{MaxBytes: edge.MaxPointerBytes, Timeout: pointerTimeout})
		if err != nil {
			return nil, nil, err
		}
		content, err := edge.NewFetchSource(base, region, secret, &edge.FetchDoer{MaxBytes: maxSnapshotBytes, Timeout: contentTimeout, Stream: true})
		if err != nil {
			return nil, nil, err
		}
		content.MaxBytes = maxSnapshotBytes
		hub, err := edge.NewFetchHub(base, secret, &edge.FetchDoer{MaxBytes: maxSnapshotBytes, Timeout: hubTimeout})
		return split{pointer: pointer, content: content}, hub, err
	}}
	if haveKV {
		kv, err := edge.NewKVSource(ns, s.edge.Region)
		if err != nil {
			return nil, err
		}
		kv.MaxBytes = maxSnapshotBytes
		p.kv = kv
	}
	return newEdge(s, p)
}
