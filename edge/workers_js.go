//go:build js && wasm

package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"syscall/js"
	"time"

	"github.com/syumai/workers"
)

// This file is the Cloudflare Workers adapter: it lets the entry module
// (cmd/worker/entry.mjs) call an http.Handler that lives in one long-lived
// Go instance per isolate. The contract with the entry module is:
//
//   - the entry module passes globalThis.context = {env, ctx, binding}
//     before it runs the Go program (syumai/workers reads env from there);
//   - ServeWorkers sets binding.serve and then calls workers.Ready, the
//     wasm import "workers.ready", which resolves the entry module's ready
//     promise;
//   - for each fetch event the entry module reads the body with
//     arrayBuffer() (at most WorkersMaxBodyBytes) and calls
//     binding.serve(method, url, headers, body, resolve), where headers is a
//     flat array [name, value, name, value, ...] and body a Uint8Array or
//     null; resolve receives {status, headers, body} in the same shapes.
//
// Bodies cross the boundary as whole byte arrays (js.CopyBytesToGo and
// js.CopyBytesToJS), never through syumai's ReadableStream⇄io.Reader
// adapters, which cost hundreds of milliseconds per megabyte.

// WorkersMaxBodyBytes is the most request-body bytes the entry module hands
// to Go; a longer body arrives cut to WorkersMaxBodyBytes+1 bytes, so that
// the handler's own limit (at most wire.MaxBodyBytes) answers 413.
const WorkersMaxBodyBytes = 1 << 20

// ServeWorkers serves h to the entry module, signals that the Go side is
// ready, and blocks forever: the Go program must stay alive, because its
// memory (the loaded index) is what later requests reuse. It returns only
// if it cannot start, when the program was not started by the entry module.
// A panic in h is recovered and answered 500, as net/http does; log
// receives one line about it (nil: discarded).
func ServeWorkers(h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	binding := js.Global().Get("context").Get("binding")
	if binding.Type() != js.TypeObject {
		return errors.New("edge: serve workers: globalThis.context.binding is missing; start the program through cmd/worker/entry.mjs")
	}
	serve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		// A non-nil return is a usage error the entry module rejects with.
		if len(args) != 5 || args[4].Type() != js.TypeFunction {
			return fmt.Sprintf("edge: binding.serve: want (method, url, headers, body, resolve), got %d arguments", len(args))
		}
		abandonOverdue(time.Now())
		resolve := args[4]
		r, err := jsRequest(args[0], args[1], args[2], args[3])
		if err != nil {
			// The error repeats the URL, which may carry visitor data.
			log.Warn("edge: could not read a request from the runtime")
			resolve.Invoke(jsResponse(http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
				[]byte(`{"error":"could not read the request"}`)))
			return nil
		}
		go func() {
			w := &bufferedWriter{header: http.Header{}}
			serveRecover(h, w, r, log)
			resolve.Invoke(jsResponse(w.statusCode(), w.header, w.body.Bytes()))
		}()
		return nil
	})
	binding.Set("serve", serve) // never released: it lives as long as the program
	workers.Ready()
	select {}
}

// serveRecover runs h, turning a panic into a 500 answer.
func serveRecover(h http.Handler, w *bufferedWriter, r *http.Request, log *slog.Logger) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("edge: handler panic", "route", truncate(r.URL.Path, 64), "panic", truncate(fmt.Sprint(p), 200))
			w.header = http.Header{"Content-Type": {"application/json"}}
			w.status = http.StatusInternalServerError
			w.body.Reset()
			w.body.WriteString(`{"error":"internal error"}`)
		}
	}()
	h.ServeHTTP(w, r)
}

// jsRequest builds an *http.Request from the entry module's arguments.
func jsRequest(method, rawURL, headers, body js.Value) (*http.Request, error) {
	u, err := url.Parse(rawURL.String())
	if err != nil {
		return nil, fmt.Errorf("edge: workers request: url: %w", err)
	}
	h := http.Header{}
	if headers.Type() == js.TypeObject {
		n := headers.Length()
		for i := 0; i+1 < n; i += 2 {
			h.Add(headers.Index(i).String(), headers.Index(i+1).String())
		}
	}
	var b []byte
	if body.Type() == js.TypeObject {
		b = make([]byte, body.Get("byteLength").Int())
		js.CopyBytesToGo(b, body)
	}
	r := &http.Request{
		Method:     method.String(),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
		RequestURI: u.RequestURI(),
		Body:       http.NoBody,
	}
	if len(b) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	return r, nil
}

// jsResponse builds the {status, headers, body} object the entry module
// turns into a Response.
func jsResponse(status int, h http.Header, body []byte) js.Value {
	obj := js.Global().Get("Object").New()
	obj.Set("status", status)
	hs := make([]any, 0, 2*len(h))
	for k, vs := range h {
		for _, v := range vs {
			hs = append(hs, k, v)
		}
	}
	obj.Set("headers", js.ValueOf(hs))
	arr := js.Global().Get("Uint8Array").New(len(body))
	js.CopyBytesToJS(arr, body)
	obj.Set("body", arr)
	return obj
}

// bufferedWriter is an http.ResponseWriter that keeps the whole answer:
// edge answers are small JSON documents.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *bufferedWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Errors of calls into JavaScript.
var (
	// errPromise: a promise rejected.
	errPromise = errors.New("promise rejected")
	// ErrAbandoned: a promise stayed unsettled past AwaitLimit, and a
	// later request gave up on it.
	ErrAbandoned = errors.New("edge: workers: no answer from the runtime in time; abandoned")
)

// AwaitLimit is how long a call into the runtime (a fetch, a KV read) may
// stay unsettled before the next request to reach the program abandons it.
//
// Go timers cannot bound these waits under Workers, and the platform does
// not always: if the request that started a refresh is cancelled (its
// client went away), its pending promises never settle, and its goroutine
// would hold the edge's refresh lock forever. So every request, on
// arrival, fails the waits that are overdue by the clock (reading the clock
// is fine; only timers are not), and the refresh ends with ErrAbandoned.
const AwaitLimit = 60 * time.Second

// awaiting is one wait for a promise.
type awaiting struct {
	deadline time.Time
	ch       chan awaitResult // buffered: the first delivery wins
}

type awaitResult struct {
	v   js.Value
	err error
}

func (a *awaiting) deliver(r awaitResult) {
	select {
	case a.ch <- r:
	default: // already settled or abandoned
	}
}

// inFlight holds the waits not yet settled.
var inFlight = struct {
	sync.Mutex
	m map[*awaiting]struct{}
}{m: map[*awaiting]struct{}{}}

// abandonOverdue fails every wait whose deadline is before now.
func abandonOverdue(now time.Time) {
	inFlight.Lock()
	defer inFlight.Unlock()
	for a := range inFlight.m {
		if now.After(a.deadline) {
			delete(inFlight.m, a)
			a.deliver(awaitResult{err: ErrAbandoned})
		}
	}
}

// await waits for a JavaScript promise, for ctx, or until a request
// arriving after AwaitLimit abandons the wait. A rejection becomes an error
// carrying the rejection's message; the callbacks are released when the
// promise settles, even if the wait ended first.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	a := &awaiting{deadline: time.Now().Add(AwaitLimit), ch: make(chan awaitResult, 1)}
	inFlight.Lock()
	inFlight.m[a] = struct{}{}
	inFlight.Unlock()
	defer func() {
		inFlight.Lock()
		delete(inFlight.m, a)
		inFlight.Unlock()
	}()
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		a.deliver(awaitResult{v: v})
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		msg := "unknown reason"
		if len(args) > 0 {
			msg = jsErrorString(args[0])
		}
		a.deliver(awaitResult{err: fmt.Errorf("%w: %s", errPromise, msg)})
		return nil
	})
	p.Call("then", then, catch)
	select {
	case r := <-a.ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// jsErrorString renders a thrown JavaScript value for an error message.
func jsErrorString(v js.Value) string {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	return truncate(js.Global().Get("String").Invoke(v).String(), 200)
}
