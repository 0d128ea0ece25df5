//go:build js && wasm

package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall/js"

	"github.com/syumai/workers/cloudflare/fetch"
)

// FetchDoer is a Doer for the Workers build: net/http's client panics
// inside Workers, so requests go out through syumai/workers' fetch client
// (the runtime's fetch()). Redirects are not followed, so that the hub
// secret in the Authorization header is never sent on to another host; a
// 3xx answer reaches the caller as it is.
//
// The response body is read whole with arrayBuffer() and copied into Go in
// one js.CopyBytesToGo, instead of through the client's ReadableStream
// reader, which takes hundreds of milliseconds per megabyte.
type FetchDoer struct {
	// MaxBytes caps a response body; a longer one is an ErrBodyTooLarge
	// error. Zero means snapshot-sized: 256 MiB.
	MaxBytes int64

	client *fetch.Client
}

// NewFetchDoer returns a FetchDoer on the runtime's global fetch.
func NewFetchDoer() *FetchDoer { return &FetchDoer{client: fetch.NewClient()} }

// rawBody is implemented by the client's response bodies: the
// ReadableStream behind them.
type rawBody interface{ GetRawJSBody() js.Value }

// Do sends req and returns the answer with its body already read. It
// honours req's context while waiting for the body; the fetch itself is
// bounded by the platform.
func (d *FetchDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := d.client.Do(&fetch.Request{Request: req}, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	max := d.MaxBytes
	if max <= 0 {
		max = 256 << 20
	}
	rb, ok := resp.Body.(rawBody)
	if !ok { // not expected from this client; fall back to the slow path
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		if err != nil {
			return nil, fmt.Errorf("fetch: read body: %w", err)
		}
		return withBody(resp, b, max)
	}
	stream := rb.GetRawJSBody()
	if stream.IsNull() || stream.IsUndefined() {
		return withBody(resp, nil, max)
	}
	if resp.ContentLength > max {
		_, _ = call(stream, "cancel")
		return nil, fmt.Errorf("fetch: %w: %d bytes, limit %d", ErrBodyTooLarge, resp.ContentLength, max)
	}
	p, err := call(js.Global().Get("Response").New(stream), "arrayBuffer")
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

// withBody replaces resp's body with b, already read.
func withBody(resp *http.Response, b []byte, max int64) (*http.Response, error) {
	if int64(len(b)) > max {
		return nil, fmt.Errorf("fetch: %w: over %d bytes", ErrBodyTooLarge, max)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
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
