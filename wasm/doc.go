// Package wasm hosts the ranking core compiled to WebAssembly: the WASI
// reactor module built from wasm/guest and embedded here as ranker.wasm,
// run with wazero. Local edge regions (`aisle edge serve`, `aisle demo`) rank
// through it, and its parity tests prove that the Wasm artifact ranks
// byte for byte like native Go (shared/rank) on the golden requests in
// testdata/golden, which the Workers parity test reuses.
//
// A Runtime compiles the module once and keeps a pool of instances, each
// used by one goroutine at a time (wazero functions are not goroutine-safe).
// Every instance holds its own decoded copy of the current snapshot, so
// memory grows with Config.Instances.
//
// Snapshot swaps never replace a good snapshot with a bad one: Load first
// loads the new snapshot into one instance, which validates it (the other
// instances keep serving meanwhile); only then does it take every other
// instance out of the pool, load them in parallel and put them back, rolling
// all of them back to the previous snapshot if any one fails. Rank calls
// wait while that second step runs, so once Load returns every instance
// answers with the new version.
//
// A guest that traps (out of memory, a context done during a call with
// Config.Interruptible, a runtime fault) is closed and replaced by a fresh
// instance loaded with the current snapshot; the call that hit the trap
// returns an error wrapping ErrTrap or ErrOutOfMemory. The guest's memory
// is capped by Config.MemoryLimitPages; the Go runtime's own "out of
// memory" message is kept in the error.
//
// Speed: a Rank through the module costs about 9x the native core's
// msgpack-in, msgpack-out path, and about 50x with Config.Interruptible,
// whose check at every guest loop back-edge dominates (see
// BenchmarkRankWasm and BenchmarkRankWasmNoInterrupt).
//
// The artifact is committed; after changing the guest or anything it
// imports, run
//
//	go generate ./wasm
//
// TestArtifactUpToDate fails when ranker.wasm is stale.
package wasm

//go:generate go run ./internal/gen -o ranker.wasm
