//go:build js && wasm

package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
	"time"
)

// FetchDoer is a Doer for the Workers build: net/http's client panics
// inside Workers, so requests go out through the runtime's fetch().
// Redirects are not followed, so that the hub secret in the Authorization
// header is never sent on to another host; a 3xx answer reaches the caller
// as it is.
//
// The response body is read whole with arrayBuffer() and copied into Go in
// one js.CopyBytesToGo (unless Stream is set), instead of through
// syumai/workers' stream-to-io.Reader adapter, which takes hundreds of
// milliseconds per megabyte.
type FetchDoer struct {
	// MaxBytes caps a response body; a longer one is an ErrBodyTooLarge
	// error. Zero means snapshot-sized: 256 MiB.
	MaxBytes int64
	// Timeout, when positive, aborts a request whose answer (headers and
	// body) has not arrived within it. It is the runtime's
	// AbortSignal.timeout, a JavaScript timer: Go timers cannot be used
	// under Workers (see the package documentation), and the platform
	// bounds a request only by its own, much longer, limits.
	Timeout time.Duration
	// Stream, when set, hands a body of known length (Content-Length)
	// over as it arrives, one chunk of the response's ReadableStream at
	// a time, copied into Go by the body's own reader (not syumai's
	// stream adapter, the slow path above), instead of reading it whole
	// first: HTTPSource.FetchStream then decodes a snapshot while it
	// streams in, and its bytes are never held whole. Reads wait at most
	// as long as the request's context allows.
	Stream bool
}

// NewFetchDoer returns a FetchDoer on the runtime's global fetch.
func NewFetchDoer() *FetchDoer { return &FetchDoer{} }

// Do sends req and returns the answer with its body already read (or, with
// Stream, streaming). It
// honours req's context while waiting; the fetch itself is bounded by
// Timeout and by the platform.
func (d *FetchDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	init := js.Global().Get("Object").New()
	init.Set("method", req.Method)
	init.Set("redirect", "manual")
	h := js.Global().Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			h.Call("append", k, v)
		}
	}
	init.Set("headers", h)
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("fetch: read request body: %w", err)
		}
		body := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(body, b)
		init.Set("body", body)
	}
	if d.Timeout > 0 {
		signal, err := call(js.Global().Get("AbortSignal"), "timeout", d.Timeout.Milliseconds())
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		init.Set("signal", signal)
	}
	p, err := call(js.Global(), "fetch", req.URL.String(), init)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	res, err := await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	resp := &http.Response{
		Status:     strconv.Itoa(res.Get("status").Int()) + " " + res.Get("statusText").String(),
		StatusCode: res.Get("status").Int(),
		Header:     http.Header{},
		Request:    req,
	}
	entries := js.Global().Get("Array").Call("from", res.Get("headers").Call("entries"))
	for i := range entries.Length() {
		e := entries.Index(i)
		resp.Header.Add(e.Index(0).String(), e.Index(1).String())
	}
	resp.ContentLength, _ = strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	max := d.MaxBytes
	if max <= 0 {
		max = 256 << 20
	}
	stream := res.Get("body")
	if stream.IsNull() || stream.IsUndefined() {
		return withBody(resp, nil, max)
	}
	if resp.ContentLength > max {
		_, _ = call(stream, "cancel")
		return nil, fmt.Errorf("fetch: %w: %d bytes, limit %d", ErrBodyTooLarge, resp.ContentLength, max)
	}
	if d.Stream && resp.ContentLength > 0 {
		resp.Body, err = newStreamReader(ctx, stream, resp.ContentLength)
		if err != nil {
			return nil, fmt.Errorf("fetch: read body: %w", err)
		}
		return resp, nil
	}
	p, err = call(res, "arrayBuffer")
	if err != nil {
		return nil, fmt.Errorf("fetch: read body: %w", err)
	}
	ab, err := await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("fetch: read body: %w", err)
	}
	n := ab.Get("byteLength").Int()
	if int64(n) > max {
		return nil, fmt.Errorf("fetch: %w: %d bytes, limit %d", ErrBodyTooLarge, n, max)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(ab))
	return withBody(resp, b, max)
}

// streamReader reads a fetch response's body through its ReadableStream
// reader, one chunk (a Uint8Array) per promise, copying each into the
// caller's buffer with js.CopyBytesToGo, as much at a time as the buffer
// takes. Each chunk costs a round trip through the event loop, and a
// default reader's chunks are small, so where the runtime offers it (workerd
// does) a BYOB reader's readAtLeast fills one reused buffer of
// streamChunk bytes per round trip instead. A body that goes on past its
// Content-Length is an error; one that stops short ends with
// io.ErrUnexpectedEOF.
type streamReader struct {
	ctx    context.Context
	reader js.Value
	byob   bool     // reader is a ReadableStreamBYOBReader with readAtLeast
	buf    js.Value // the BYOB reader's ArrayBuffer, handed back by each read
	chunk  JSChunk  // the part of the last chunk not yet copied
	left   int64    // bytes the Content-Length still promises
	err    error
}

// streamChunk is how much a BYOB read waits for.
const streamChunk = 256 << 10

func newStreamReader(ctx context.Context, stream js.Value, n int64) (*streamReader, error) {
	s := &streamReader{ctx: ctx, left: n}
	opts := js.Global().Get("Object").New()
	opts.Set("mode", "byob")
	if r, err := call(stream, "getReader", opts); err == nil && r.Get("readAtLeast").Type() == js.TypeFunction {
		s.reader, s.byob = r, true
		s.buf = js.Global().Get("ArrayBuffer").New(min(n, streamChunk))
		return s, nil
	}
	r, err := call(stream, "getReader")
	s.reader = r
	return s, err
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for s.chunk.Len() == 0 {
		var prom js.Value
		var err error
		if s.byob {
			size := max(1, min(s.left, streamChunk))
			prom, err = call(s.reader, "readAtLeast", size, js.Global().Get("Uint8Array").New(s.buf, 0, size))
		} else {
			prom, err = call(s.reader, "read")
		}
		if err == nil {
			var v js.Value
			if v, err = await(s.ctx, prom); err == nil {
				value := v.Get("value")
				if s.byob && !value.IsUndefined() {
					s.buf = value.Get("buffer") // the view's buffer was transferred
				}
				if v.Get("done").Bool() {
					s.err = io.EOF
					if s.left > 0 {
						s.err = io.ErrUnexpectedEOF
					}
					return 0, s.err
				}
				s.chunk.Set(value)
				if int64(s.chunk.Len()) > s.left {
					err = fmt.Errorf("%w: more bytes than the Content-Length", ErrBodyTooLarge)
				}
			}
		}
		if err != nil {
			s.err = err
			return 0, err
		}
	}
	k := s.chunk.CopyTo(p)
	s.left -= int64(k)
	return k, nil
}

// Close cancels the rest of the body, if any.
func (s *streamReader) Close() error {
	if s.err != io.EOF {
		_, _ = call(s.reader, "cancel")
	}
	s.err = errors.New("fetch: body closed")
	return nil
}

// JSChunk is the part not yet read of a Uint8Array the runtime handed
// over (a stream's chunk), read into Go buffers as much at a time as they
// take.
type JSChunk struct {
	v js.Value
	n int
}

// Set makes u8, a Uint8Array, the chunk to read.
func (c *JSChunk) Set(u8 js.Value) { c.v, c.n = u8, u8.Get("byteLength").Int() }

// Len is the bytes left to read.
func (c *JSChunk) Len() int { return c.n }

// Reset drops what is left.
func (c *JSChunk) Reset() { c.v, c.n = js.Undefined(), 0 }

// CopyTo copies as much of the chunk as p takes into p and returns how
// much that was.
func (c *JSChunk) CopyTo(p []byte) int {
	k := min(len(p), c.n)
	if k == c.n {
		js.CopyBytesToGo(p[:k], c.v)
		c.Reset()
		return k
	}
	js.CopyBytesToGo(p[:k], c.v.Call("subarray", 0, k))
	c.v = c.v.Call("subarray", k)
	c.n -= k
	return k
}

// withBody replaces resp's body with b, already read.
func withBody(resp *http.Response, b []byte, max int64) (*http.Response, error) {
	if int64(len(b)) > max {
		return nil, fmt.Errorf("fetch: %w: over %d bytes", ErrBodyTooLarge, max)
	}
	resp.Body = heldBody{bytes.NewReader(b), b}
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// NewFetchSource is NewHTTPSource for the Workers build, with requests
// sent through d (see doer_js.go for why there is no fallback client).
func NewFetchSource(base, region, secret string, d *FetchDoer) (*HTTPSource, error) {
	if d == nil {
		return nil, errors.New("edge: fetch source: nil FetchDoer")
	}
	return NewHTTPSource(base, region, secret, d)
}

// NewFetchHub is NewHTTPHub for the Workers build, as NewFetchSource is
// NewHTTPSource.
func NewFetchHub(base, secret string, d *FetchDoer) (*HTTPHub, error) {
	if d == nil {
		return nil, errors.New("edge: fetch hub: nil FetchDoer")
	}
	return NewHTTPHub(base, secret, d)
}
