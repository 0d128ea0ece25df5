package snapshot

// Workers KV layout shared by the hub, which writes it, and the Workers
// edge, which reads it: the content key holds a snapshot's bytes and is
// written first; the pointer key holds the current version and is written
// last, so a reader never follows a pointer to a missing snapshot.

// KVPointerKey is the key of region's pointer.
func KVPointerKey(region string) string { return "snapshot:" + region + ":pointer" }

// KVContentKey is the key of one snapshot version of region.
func KVContentKey(region, version string) string { return "snapshot:" + region + ":" + version }

// KVMaxValueBytes is the largest value Workers KV stores (25 MiB).
const KVMaxValueBytes = 25 << 20
