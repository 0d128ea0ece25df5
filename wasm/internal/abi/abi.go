// Package abi is the contract between the ranker's Wasm guest
// (wasm/guest) and its wazero host (package wasm): the names of the exported
// functions, the status codes they return and how results are packed. Both
// sides import it, so they cannot drift apart; it imports nothing.
//
// Every exported function takes and returns only scalars (a
// //go:wasmexport function cannot take Go strings or slices). Bytes travel
// through one guest-owned input buffer and one guest-owned output buffer:
//
//  1. the host calls Alloc(n) and writes n bytes at the returned address;
//  2. it calls Load(ptr, n) or Rank(ptr, n), which only read from that
//     buffer (any other ptr or an n past its end is StatusBadArgument);
//  3. Rank and the other functions that return bytes return a Packed
//     address and length into guest memory, valid until the next call.
//
// A failed call leaves a message that ErrorMessage returns.
package abi

// Version is the ABI version that the guest's ABIVersion export returns; the
// host refuses a module with another one.
const Version = 1

// Names of the guest's exports.
const (
	// ABIVersion: abi_version() uint32, returns Version.
	ABIVersion = "abi_version"
	// Alloc: alloc(size uint32) uint32, returns the address of the input
	// buffer grown to at least size bytes, or 0 when size is over MaxInput.
	Alloc = "alloc"
	// Load: load(ptr, len uint32) uint32, decodes and validates the
	// snapshot in the input buffer and, if it is good, ranks from it from
	// then on. Returns a Status; on failure the previous snapshot stays.
	Load = "load"
	// Rank: rank(ptr, len uint32) uint64, ranks the msgpack
	// RecommendRequest in the input buffer and returns the msgpack
	// RecommendResponse as Pack(ptr, len), or Pack(0, status) on failure.
	Rank = "rank"
	// SnapshotVersion: snapshot_version() uint64, returns the loaded
	// snapshot's version as Pack(ptr, len), or 0 when none is loaded.
	SnapshotVersion = "snapshot_version"
	// ErrorMessage: error_message() uint64, returns the last failure's
	// message as Pack(ptr, len) (0 when there is none).
	ErrorMessage = "error_message"
)

// Status is the outcome of a guest call.
type Status uint32

// Statuses returned by Load and, in the low half of a Pack with a zero
// address, by Rank.
const (
	StatusOK          Status = 0
	StatusBadArgument Status = 1 // ptr/len do not name the input buffer
	StatusBadSnapshot Status = 2 // snapshot.Decode or rank.New rejected it
	StatusBadRequest  Status = 3 // the request is not a valid msgpack RecommendRequest
	StatusNoSnapshot  Status = 4 // rank before any snapshot was loaded
	StatusRankFailed  Status = 5 // the ranking core or response encoding failed
	StatusInternal    Status = 6 // a guest bug (a recovered panic)
)

// String returns a short lower-case description of s.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusBadArgument:
		return "bad argument"
	case StatusBadSnapshot:
		return "bad snapshot"
	case StatusBadRequest:
		return "bad request"
	case StatusNoSnapshot:
		return "no snapshot loaded"
	case StatusRankFailed:
		return "rank failed"
	case StatusInternal:
		return "internal error"
	}
	return "unknown status"
}

// MaxInput is the largest input buffer Alloc hands out: a snapshot may be up
// to 256 MiB (snapshot.DefaultLimits), requests far less.
const MaxInput = 256 << 20

// Pack packs an address and a length (or a status) into one uint64, the
// address in the high half.
func Pack(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// Unpack splits a Pack result.
func Unpack(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }
