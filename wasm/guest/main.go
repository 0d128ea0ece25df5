//go:build wasip1

// Command guest is the ranking core built as a WASI reactor module: the
// wasm/ranker.wasm artifact that package wasm embeds and hosts with wazero.
//
// Build it with go generate ./wasm (see wasm/internal/gen), which runs
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w' -o wasm/ranker.wasm ./wasm/guest
//
// The host starts it with _initialize (never _start) and then calls the
// exports named in wasm/internal/abi, one call at a time. The guest reads
// only from its own input buffer, keeps the last good snapshot when a new
// one is rejected, and reuses the response and output buffer between calls.
package main

import (
	"bytes"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/aisle-rec/aisle/shared/rank"
	"github.com/aisle-rec/aisle/shared/snapshot"
	"github.com/aisle-rec/aisle/shared/wire"
	"github.com/aisle-rec/aisle/wasm/internal/abi"
	"github.com/vmihailenco/msgpack/v5"
)

// keepInput is the largest input buffer kept after a load; a snapshot's
// buffer is dropped so that the garbage collector can reuse its memory.
const keepInput = 1 << 20

var (
	in     []byte // the input buffer handed out by alloc
	index  *rank.Index
	resp   wire.RecommendResponse // reused: Rank appends to resp.Items[:0]
	out    bytes.Buffer
	enc    = msgpack.NewEncoder(&out) // plain defaults, as wire.MarshalResponse uses
	errMsg []byte
)

func main() {} // a reactor: the host calls the exports after _initialize

//go:wasmexport abi_version
func abiVersion() uint32 { return abi.Version }

//go:wasmexport alloc
func alloc(size uint32) uint32 {
	if size > abi.MaxInput {
		fail(fmt.Errorf("alloc: %d bytes, limit %d", size, abi.MaxInput))
		return 0
	}
	if cap(in) < int(size) || cap(in) == 0 {
		in = nil // let the old buffer go before allocating the new one
		in = make([]byte, max(size, 4096))
	}
	in = in[:cap(in)]
	return addr(in)
}

//go:wasmexport load
func load(ptr, n uint32) (st abi.Status) {
	defer recoverTo(&st)
	b, st := input(ptr, n)
	if st != abi.StatusOK {
		return st
	}
	defer release()
	s, err := snapshot.Decode(b, snapshot.DefaultLimits())
	if err != nil {
		return failWith(abi.StatusBadSnapshot, err)
	}
	x, err := rank.New(s, rank.DefaultConfig())
	if err != nil {
		return failWith(abi.StatusBadSnapshot, err)
	}
	index = x
	errMsg = errMsg[:0]
	return abi.StatusOK
}

//go:wasmexport rank
func rankExport(ptr, n uint32) (packed uint64) {
	defer func() {
		if r := recover(); r != nil {
			packed = abi.Pack(0, uint32(failWith(abi.StatusInternal, fmt.Errorf("panic: %v", r))))
		}
	}()
	b, st := input(ptr, n)
	if st != abi.StatusOK {
		return abi.Pack(0, uint32(st))
	}
	if index == nil {
		return abi.Pack(0, uint32(failWith(abi.StatusNoSnapshot, fmt.Errorf("rank: no snapshot loaded"))))
	}
	req, err := wire.UnmarshalRequest(b)
	if err != nil {
		return abi.Pack(0, uint32(failWith(abi.StatusBadRequest, err)))
	}
	if err := index.Rank(req, &resp); err != nil {
		return abi.Pack(0, uint32(failWith(abi.StatusRankFailed, err)))
	}
	// The same checks and encoder settings as wire.MarshalResponse, into a
	// buffer kept between calls.
	if err := resp.Validate(); err != nil {
		return abi.Pack(0, uint32(failWith(abi.StatusRankFailed, err)))
	}
	out.Reset()
	if err := enc.Encode(&resp); err != nil {
		return abi.Pack(0, uint32(failWith(abi.StatusRankFailed, fmt.Errorf("encode response: %w", err))))
	}
	return abi.Pack(addr(out.Bytes()), uint32(out.Len()))
}

//go:wasmexport snapshot_version
func snapshotVersion() uint64 {
	if index == nil {
		return 0
	}
	v := index.Snapshot().Version
	if v == "" {
		return 0
	}
	return abi.Pack(uint32(uintptr(unsafe.Pointer(unsafe.StringData(v)))), uint32(len(v)))
}

//go:wasmexport error_message
func errorMessage() uint64 {
	if len(errMsg) == 0 {
		return 0
	}
	return abi.Pack(addr(errMsg), uint32(len(errMsg)))
}

// input returns the first n bytes of the input buffer if ptr is its address.
func input(ptr, n uint32) ([]byte, abi.Status) {
	if len(in) == 0 || ptr != addr(in) || int(n) > len(in) {
		return nil, failWith(abi.StatusBadArgument, fmt.Errorf("input %#x+%d is not the buffer alloc returned", ptr, n))
	}
	return in[:n], abi.StatusOK
}

// release drops a snapshot-sized input buffer and collects the garbage of a
// load, so that the next load has the most room under the memory limit.
func release() {
	if cap(in) > keepInput {
		in = nil
	}
	runtime.GC()
}

func addr(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

func fail(err error) {
	errMsg = append(errMsg[:0], err.Error()...)
}

func failWith(st abi.Status, err error) abi.Status {
	fail(err)
	return st
}

func recoverTo(st *abi.Status) {
	if r := recover(); r != nil {
		*st = failWith(abi.StatusInternal, fmt.Errorf("panic: %v", r))
	}
}
