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
