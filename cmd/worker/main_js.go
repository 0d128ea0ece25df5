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

// memoryLimit is the Go heap's soft limit inside an isolate.
const memoryLimit = 104 << 20

// gcPercent is the Go heap's growth between collections (GOGC). With the
// default 100 the heap grows to about twice the live index before a
// collection, and Wasm memory never shrinks: 25 keeps the high-water mark of
// a 100,000-item load about 12 MiB lower (measured). The index is mostly
// pointer-free arrays, so the extra collections cost little.
const gcPercent = 25

// run wires the edge from the Worker's bindings and serves it until the
// isolate goes away. A configuration error is logged and answered 503 on
// every route, rather than failing each request's instance start.
func run() int {
	// An isolate has 128 MB for the JavaScript heap, the Wasm memory and
	// everything else, and Wasm memory never shrinks: keep the Go heap's
	// growth small and under a soft limit so the collector works harder
	// instead.
	debug.SetMemoryLimit(memoryLimit)
	debug.SetGCPercent(gcPercent)
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
	doer := edge.NewFetchDoer()
	doer.MaxBytes = maxSnapshotBytes
	p := platform{log: log, hub: func(base, region, secret string) (*edge.HTTPSource, *edge.HTTPHub, error) {
		src, err := edge.NewFetchSource(base, region, secret, doer)
		if err != nil {
			return nil, nil, err
		}
		// Chat and summaries answer degraded rather than keep a visitor
		// waiting: their own doer carries the hub timeout.
		hubDoer := edge.NewFetchDoer()
		hubDoer.MaxBytes, hubDoer.Timeout = maxSnapshotBytes, hubTimeout
		hub, err := edge.NewFetchHub(base, secret, hubDoer)
		return src, hub, err
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
