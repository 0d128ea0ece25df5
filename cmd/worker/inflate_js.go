//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"

	"github.com/aisle-rec/aisle/edge"
	"github.com/klauspost/compress/flate"
)

// newInflater returns the inflater for deflated snapshot bodies
// (snapshot.DecodeOptions.Inflate): the runtime's native
// DecompressionStream("deflate-raw"), fed the compressed bytes as the
// decoder reads them (hashed on the way) and read back into Go in large
// chunks; inflating in Go under Wasm was about a third of a 100,000-item
// cold start. If the runtime has no DecompressionStream, klauspost/compress
// inflates in Go.
func newInflater(r io.Reader) io.ReadCloser {
	z, err := newJSInflater(r)
	if err != nil {
		return flate.NewReader(r)
	}
	return z
}

// jsInflater inflates src through a DecompressionStream. At most
// inflateAhead writes of compressed bytes and one read of inflated bytes
// are in flight at a time, and the inflater waits for whichever settles
// first: a read that
// waits for output while the stream waits for input would otherwise never
// settle. All compressed bytes are written, then the writer is closed; the
// runtime rejects a stream that is corrupt, cut short or followed by other
// bytes, and that rejection is the inflater's error (the decoder reports
// it as a corrupt body). The compressed chunks and the output buffer are
// reused, so the runtime holds no garbage in proportion to the snapshot.
type jsInflater struct {
	src    io.Reader
	writer js.Value               // the writable side's writer
	reader js.Value               // the readable side's reader
	byob   bool                   // reader is a BYOB reader with readAtLeast
	buf    js.Value               // the BYOB reader's ArrayBuffer, handed back by each read
	in     []byte                 // the compressed chunk being read from src
	inJS   [inflateAhead]js.Value // the chunks for the stream, in turn, each reused once its write settles
	next   int                    // the next of them

	events  chan inflateEvent
	reading bool         // a read in flight
	writing int          // writes (and the close) in flight
	closed  bool         // all input written, the writer closed
	chunk   edge.JSChunk // inflated bytes not yet copied
	err     error        // io.EOF at the end of the output
}

// inflateEvent is a settled read or write.
type inflateEvent struct {
	write bool
	v     js.Value
	err   error
}

// inflateIn is the most compressed bytes one write hands the stream, and
// inflateAhead how many writes may be in flight; a BYOB read waits for at
// least inflateMin inflated bytes and takes at most inflateOut.
const (
	inflateIn    = 64 << 10
	inflateAhead = 2
	inflateMin   = 1
	inflateOut   = 256 << 10
)

func newJSInflater(src io.Reader) (z *jsInflater, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception
			z, err = nil, fmt.Errorf("inflate: %v", r)
		}
	}()
	ds := js.Global().Get("DecompressionStream")
	if ds.Type() != js.TypeFunction {
		return nil, errors.New("inflate: no DecompressionStream")
	}
	s := ds.New("deflate-raw")
	z = &jsInflater{src: src, events: make(chan inflateEvent, inflateAhead+2)}
	z.writer = s.Get("writable").Call("getWriter")
	readable := s.Get("readable")
	func() {
		defer func() { _ = recover() }() // not a byte stream: a default reader
		opts := js.Global().Get("Object").New()
		opts.Set("mode", "byob")
		if r := readable.Call("getReader", opts); r.Get("readAtLeast").Type() == js.TypeFunction {
			z.reader, z.byob = r, true
			z.buf = js.Global().Get("ArrayBuffer").New(inflateOut)
		} else {
			r.Call("releaseLock")
		}
	}()
	if !z.byob {
		z.reader = readable.Call("getReader")
	}
	return z, nil
}

// settle delivers p's outcome as an event.
func (z *jsInflater) settle(p js.Value, write bool) {
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		z.events <- inflateEvent{write: write, v: v}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		msg := "rejected"
		if len(args) > 0 {
			msg = js.Global().Get("String").Invoke(args[0]).String()
		}
		z.events <- inflateEvent{write: write, err: errors.New("inflate: " + msg)}
		return nil
	})
	p.Call("then", then, catch)
}

func (z *jsInflater) Read(p []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception
			z.fail(fmt.Errorf("inflate: %v", r))
			n, err = 0, z.err
		}
	}()
	if len(p) == 0 {
		return 0, nil
	}
	for z.chunk.Len() == 0 {
		if z.err != nil {
			return 0, z.err
		}
		if !z.reading {
			if z.byob {
				z.settle(z.reader.Call("readAtLeast", inflateMin, js.Global().Get("Uint8Array").New(z.buf)), false)
			} else {
				z.settle(z.reader.Call("read"), false)
			}
			z.reading = true
		}
		for z.writing < inflateAhead && !z.closed && z.err == nil {
			z.feed()
		}
		if z.err != nil {
			return 0, z.err
		}
		ev := <-z.events
		switch {
		case ev.write:
			z.writing--
			if ev.err != nil {
				z.fail(ev.err)
			}
		case ev.err != nil:
			z.reading = false
			z.fail(ev.err)
		default:
			z.reading = false
			value := ev.v.Get("value")
			if z.byob && !value.IsUndefined() {
				z.buf = value.Get("buffer") // the view's buffer was transferred
			}
			if ev.v.Get("done").Bool() {
				z.err = io.EOF
				continue
			}
			z.chunk.Set(value)
		}
	}
	return z.chunk.CopyTo(p), nil
}

// feed writes the next chunk of compressed bytes, or closes the writer
// at the end of src.
func (z *jsInflater) feed() {
	if z.in == nil {
		z.in = make([]byte, inflateIn)
		for i := range z.inJS {
			z.inJS[i] = js.Global().Get("Uint8Array").New(inflateIn)
		}
	}
	k, err := io.ReadAtLeast(z.src, z.in, 1)
	if k > 0 {
		chunk := z.inJS[z.next].Call("subarray", 0, k)
		z.next = (z.next + 1) % inflateAhead
		js.CopyBytesToJS(chunk, z.in[:k])
		z.settle(z.writer.Call("write", chunk), true)
		z.writing++
		return
	}
	if errors.Is(err, io.EOF) {
		z.settle(z.writer.Call("close"), true)
		z.writing++
		z.closed = true
		return
	}
	z.fail(err)
}

// fail records err, unless an error is recorded already.
func (z *jsInflater) fail(err error) {
	if z.err == nil {
		z.err = err
	}
}

// Close drops the stream; reads and writes still in flight settle into
// the event buffer, which holds them all.
func (z *jsInflater) Close() error {
	if z.err != io.EOF || !z.closed {
		func() {
			defer func() { _ = recover() }()
			if !z.closed {
				z.writer.Call("abort").Call("catch", ignore)
			}
			z.reader.Call("cancel").Call("catch", ignore)
		}()
	}
	z.fail(errors.New("inflate: closed"))
	z.chunk.Reset()
	z.in = nil
	return nil
}

// ignore handles a rejection nobody waits for.
var ignore = js.FuncOf(func(js.Value, []js.Value) any { return nil })
