//go:build js && wasm

package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/aisle-rec/aisle/edge"
	"github.com/aisle-rec/aisle/shared/snapshot"
)

// newDigest returns a snapshot.Hasher for n bytes on the runtime's native
// digest (crypto.DigestStream): Go's crypto/sha256 runs several times
// slower under Wasm, about 0.1 s for a 19 MB snapshot. Each chunk the
// decoder writes is copied over once and written to two digests, one for
// the trailer's input (all but the last 32 bytes) and one for all of them,
// so JavaScript never holds a whole copy. If the runtime has no
// DigestStream, Go computes the sums.
func newDigest(n int) snapshot.Hasher {
	d, err := newJSDigest(n)
	if err != nil {
		return snapshot.NewHasher(n)
	}
	return d
}

// jsDigest is a snapshot.Hasher on crypto.DigestStream. A JavaScript error
// stops it; Sums then reports the error.
type jsDigest struct {
	pre, all js.Value // the DigestStreams
	pw, aw   js.Value // their writers
	cut, off int
	pending  js.Value // the writes' promises not yet awaited
	queued   int      // the bytes they write, from the start of stage
	stage    js.Value // a Uint8Array of digestAhead bytes the writes read from
	err      error
}

func newJSDigest(n int) (d *jsDigest, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception
			d, err = nil, fmt.Errorf("digest: %v", r)
		}
	}()
	ds := js.Global().Get("crypto").Get("DigestStream")
	if ds.Type() != js.TypeFunction {
		return nil, errors.New("digest: no crypto.DigestStream")
	}
	d = &jsDigest{pre: ds.New("SHA-256"), all: ds.New("SHA-256"), cut: max(0, n-sha256.Size), pending: js.Global().Get("Array").New()}
	d.pw, d.aw = d.pre.Call("getWriter"), d.all.Call("getWriter")
	return d, nil
}

func (d *jsDigest) Write(b []byte) {
	if d.err != nil || len(b) == 0 {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			d.err = fmt.Errorf("digest: %v", r)
		}
	}()
	// The chunks are views of one staging buffer, reused once the writes
	// reading it have settled: a fresh buffer per chunk left the whole
	// snapshot's size in unreachable ArrayBuffers until V8 next collected
	// (19 MiB of the isolate right after a 100,000-item load).
	if d.queued > 0 && d.queued+len(b) > digestAhead {
		d.wait()
	}
	u8 := js.Global().Get("Uint8Array")
	var chunk js.Value
	if len(b) > digestAhead {
		chunk = u8.New(len(b))
	} else {
		if d.stage.IsUndefined() {
			d.stage = u8.New(digestAhead)
		}
		chunk = d.stage.Call("subarray", d.queued, d.queued+len(b))
	}
	js.CopyBytesToJS(chunk, b)
	writes := []any{d.aw.Call("write", chunk)}
	if d.off < d.cut {
		writes = append(writes, d.pw.Call("write", chunk.Call("subarray", 0, min(len(b), d.cut-d.off))))
	}
	d.off += len(b)
	// The writes are not awaited one by one: each wait is a round trip
	// through the event loop, and the digests run meanwhile anyway (a
	// streamed snapshot waits for its next bytes between writes). They
	// are awaited when the staging buffer is full, and at the end.
	for _, w := range writes {
		d.pending.Call("push", w)
	}
	d.queued += len(b)
}

// digestAhead is how many bytes may be written to the digests before
// their writes are awaited: the staging buffer's size.
const digestAhead = 4 << 20

// wait awaits the writes not yet awaited.
func (d *jsDigest) wait() {
	p := js.Global().Get("Promise").Call("all", d.pending)
	d.pending, d.queued = js.Global().Get("Array").New(), 0
	if _, err := edge.Await(context.Background(), p); err != nil && d.err == nil {
		d.err = err
	}
}

func (d *jsDigest) Sums() (prefix, whole [32]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("digest: %v", r)
		}
	}()
	if d.wait(); d.err != nil {
		return prefix, whole, d.err
	}
	if _, err := edge.Await(context.Background(), js.Global().Get("Promise").Call("all", []any{d.pw.Call("close"), d.aw.Call("close")})); err != nil {
		return prefix, whole, err
	}
	u8 := js.Global().Get("Uint8Array")
	for _, s := range []struct {
		stream js.Value
		sum    *[32]byte
	}{{d.pre, &prefix}, {d.all, &whole}} {
		v, err := edge.Await(context.Background(), s.stream.Get("digest"))
		if err != nil {
			return prefix, whole, err
		}
		if n := js.CopyBytesToGo(s.sum[:], u8.New(v)); n != sha256.Size {
			return prefix, whole, fmt.Errorf("digest: %d bytes, want %d", n, sha256.Size)
		}
	}
	return prefix, whole, nil
}
