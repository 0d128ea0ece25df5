package wasm

import (
	"encoding/binary"
	"errors"
	"sync"
)

// minPages returns the initial size, in pages, of the memory the embedded
// module defines: the least Config.MemoryLimitPages it can run under.
var minPages = sync.OnceValues(func() (uint32, error) { return memoryMin(module) })

// memoryMin reads the minimum of the first memory defined in the memory
// section of a Wasm binary.
func memoryMin(b []byte) (uint32, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return 0, errors.New("not a Wasm binary")
	}
	b = b[8:]
	for len(b) > 0 {
		id := b[0]
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || size > uint64(len(b)-1-n) {
			return 0, errors.New("truncated section")
		}
		body := b[1+n : 1+n+int(size)]
		b = b[1+n+int(size):]
		if id != 5 { // memory section
			continue
		}
		count, n := binary.Uvarint(body)
		if n <= 0 || count == 0 || len(body) <= n {
			return 0, errors.New("empty memory section")
		}
		min, m := binary.Uvarint(body[n+1:]) // after the limits flag
		if m <= 0 || min > 65536 {
			return 0, errors.New("bad memory limits")
		}
		return uint32(min), nil
	}
	return 0, errors.New("no memory section")
}
