//go:build js && wasm

package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
//     before it runs the Go program (syumai/workers reads env from there),
//     binding being cmd/worker/bridge.mjs's newBinding(): a long-lived
//     byte buffer binding.io and the functions grow(n) and done(id,
//     status, n);
//   - ServeWorkers sets binding.serve and then calls workers.Ready, the
//     wasm import "workers.ready", which resolves the entry module's ready
//     promise;
//   - for each fetch event the entry module reads the body with
//     arrayBuffer() (at most WorkersMaxBodyBytes), writes the request into
//     binding.io and calls binding.serve(id, n); once the handler has
//     answered, Go writes the answer into binding.io and calls
//     binding.done(id, status, n). bridge.mjs specifies the bytes.
//
// The calls carry numbers only. A JavaScript object that Go receives stays
// in the Go runtime's value table until a Go collection finalizes its
// js.Value, so passing each request as fresh strings and arrays kept every
// request's objects alive between Go collections, however long apart (on a
// 100,000-item index, after 3,000 requests, 2.8 MiB of JavaScript heap and
// buffers survived a V8 collection that way, 1.5 MiB with the bridge; aisle
// bench edge -json, isolate_after_run_collected), and Go no longer calls
// back into JavaScript for each header.
// Bodies never go through syumai's ReadableStream⇄io.Reader adapters,
// which cost hundreds of milliseconds per megabyte.

// WorkersMaxBodyBytes is the most request-body bytes the entry module hands
// to Go; a longer body arrives cut to WorkersMaxBodyBytes+1 bytes, so that
// the handler's own limit (at most wire.MaxBodyBytes) answers 413.
const WorkersMaxBodyBytes = 1 << 20

// maxBridgeRequest bounds a request in binding.io: the body, and a URL and
// headers within what the runtime accepts.
const maxBridgeRequest = WorkersMaxBodyBytes + 1 + 1<<20

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
	if binding.Type() != js.TypeObject || binding.Get("io").Type() != js.TypeObject ||
		binding.Get("done").Type() != js.TypeFunction || binding.Get("grow").Type() != js.TypeFunction {
		return errors.New("edge: serve workers: globalThis.context.binding is missing or has no io, done and grow; start the program through cmd/worker/entry.mjs")
	}
	b := &bridge{binding: binding}
	serve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		// A non-nil return is a usage error the entry module throws.
		if len(args) != 2 || args[0].Type() != js.TypeNumber || args[1].Type() != js.TypeNumber {
			return fmt.Sprintf("edge: binding.serve: want (id, length), got %d arguments", len(args))
		}
		abandonOverdue(time.Now())
		id, n := args[0].Int(), args[1].Int()
		io := binding.Get("io")
		if n < 0 || n > maxBridgeRequest || n > io.Length() {
			return fmt.Sprintf("edge: binding.serve: a request of %d bytes (buffer %d, limit %d)", n, io.Length(), maxBridgeRequest)
		}
		buf := make([]byte, n)
		js.CopyBytesToGo(buf, io)
		r, err := readBridgeRequest(buf)
		if err != nil {
			// The request may carry visitor data; the error does not repeat it.
			log.Warn("edge: could not read a request from the runtime", "err", err)
			b.answer(id, http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
				[]byte(`{"error":"could not read the request"}`))
			return nil
		}
		go func() {
			w := &bufferedWriter{header: http.Header{}}
			serveRecover(h, w, r, log)
			b.answer(id, w.statusCode(), w.header, w.body.Bytes())
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

// bridge answers through the entry module's binding.
type bridge struct {
	binding js.Value
	mu      sync.Mutex // binding.io, from writing an answer to done()
	out     []byte     // the last answer's bytes, reused
}

// answer hands request id's answer to the entry module.
func (b *bridge) answer(id, status int, h http.Header, body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out = appendBridgeAnswer(b.out[:0], h, body)
	io := b.binding.Get("io")
	if io.Length() < len(b.out) {
		b.binding.Call("grow", len(b.out))
		io = b.binding.Get("io")
	}
	js.CopyBytesToJS(io, b.out)
	b.binding.Call("done", id, status, len(b.out))
	if cap(b.out) > 256<<10 {
		b.out = nil // keep no large answer's buffer
	}
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

// Await waits for a JavaScript promise the way the edge's own calls into
// the runtime do (see await): a rejection is an error carrying its message,
// and a wait still pending AwaitLimit later is abandoned by the next
// request to arrive.
func Await(ctx context.Context, p js.Value) (js.Value, error) { return await(ctx, p) }

// jsErrorString renders a thrown JavaScript value for an error message.
func jsErrorString(v js.Value) string {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	return truncate(js.Global().Get("String").Invoke(v).String(), 200)
}
