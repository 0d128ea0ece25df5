//go:build js && wasm

package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// digestChunk is how many bytes go to the runtime's digest at a time.
const digestChunk = 1 << 20

// digest returns the SHA-256 of b[:len(b)-32] and of all of b, the sums a
// snapshot is checked with, computed by the runtime's native digest
// (crypto.DigestStream): Go's crypto/sha256 runs several times slower under
// Wasm, about 0.1 s for a 19 MB snapshot. The bytes go over in chunks, so
// JavaScript never holds a second whole copy. If the runtime cannot do it,
// Go computes them.
func digest(b []byte) (prefix, whole [32]byte) {
	p, w, err := digestJS(b)
	if err != nil {
		return snapshot.Hashes(b)
	}
	return p, w
}

func digestJS(b []byte) (prefix, whole [32]byte, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception
			err = fmt.Errorf("digest: %v", r)
		}
	}()
	ds := js.Global().Get("crypto").Get("DigestStream")
	if ds.Type() != js.TypeFunction {
		return prefix, whole, errors.New("digest: no crypto.DigestStream")
	}
	pre, all := ds.New("SHA-256"), ds.New("SHA-256")
	pw, aw := pre.Call("getWriter"), all.Call("getWriter")
	cut := max(0, len(b)-sha256.Size)
	u8 := js.Global().Get("Uint8Array")
	promises := js.Global().Get("Promise")
	for off := 0; off < len(b); off += digestChunk {
		end := min(off+digestChunk, len(b))
		chunk := u8.New(end - off)
		js.CopyBytesToJS(chunk, b[off:end])
		writes := []any{aw.Call("write", chunk)}
		if off < cut {
			writes = append(writes, pw.Call("write", chunk.Call("subarray", 0, min(end, cut)-off)))
		}
		if _, err := awaitJS(promises.Call("all", writes)); err != nil {
			return prefix, whole, err
		}
	}
	if _, err := awaitJS(promises.Call("all", []any{pw.Call("close"), aw.Call("close")})); err != nil {
		return prefix, whole, err
	}
	for _, d := range []struct {
		stream js.Value
		sum    *[32]byte
	}{{pre, &prefix}, {all, &whole}} {
		v, err := awaitJS(d.stream.Get("digest"))
		if err != nil {
			return prefix, whole, err
		}
		if n := js.CopyBytesToGo(d.sum[:], u8.New(v)); n != sha256.Size {
			return prefix, whole, fmt.Errorf("digest: %d bytes, want %d", n, sha256.Size)
		}
	}
	return prefix, whole, nil
}

// awaitJS waits for a promise that settles by itself (local work of the
// runtime, no I/O), so it needs no deadline.
func awaitJS(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		msg := "rejected"
		if len(args) > 0 {
			msg = js.Global().Get("String").Invoke(args[0]).String()
		}
		ch <- result{err: errors.New("promise rejected: " + msg)}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	return r.v, r.err
}
