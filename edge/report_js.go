//go:build js && wasm

package edge

// clockAdvances is false under Workers: the runtime's clock stands still
// while code runs (it moves only across I/O), so latencies would all read 0.
const clockAdvances = false
