package edge

import "runtime/metrics"

// Memory is what the Go runtime serving an edge holds, from runtime/metrics
// (read without stopping the world). Under Workers the runtime's memory is
// the Go instance's Wasm linear memory, which never shrinks: Runtime is its
// high-water mark, the figure to keep well under the isolate's 128 MB.
type Memory struct {
	// Runtime is every byte the Go runtime has mapped: the heap, stacks
	// and its own structures (under Workers, the Wasm memory's size).
	Runtime uint64 `json:"runtime_bytes"`
	// Heap is the heap's objects, live or not yet collected.
	Heap uint64 `json:"heap_bytes"`
	// Live is the heap found live by the last collection (the loaded
	// index, mostly).
	Live uint64 `json:"live_bytes"`
	// Goal is the heap size at which the next collection starts.
	Goal uint64 `json:"goal_bytes"`
	// Collections counts completed garbage collections.
	Collections uint64 `json:"gc_cycles"`
}

var memoryMetrics = [...]string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/gc/cycles/total:gc-cycles",
}

// readMemory samples the runtime's memory figures.
func readMemory() Memory {
	var s [len(memoryMetrics)]metrics.Sample
	for i, name := range memoryMetrics {
		s[i].Name = name
	}
	metrics.Read(s[:])
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return Memory{Runtime: u(0), Heap: u(1), Live: u(2), Goal: u(3), Collections: u(4)}
}
