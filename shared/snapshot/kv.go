package snapshot

import "strconv"

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

// KVPointerValue is the pointer value the hub writes: the version and the
// snapshot's length, {"version":"…","bytes":N}. The length lets an edge
// stream the content value into the decoder (KV's streamed reads give no
// length); a reader that finds a plain version, or no length, reads the
// value whole.
func KVPointerValue(version string, n int) []byte {
	return []byte(`{"version":"` + version + `","bytes":` + strconv.Itoa(n) + `}`)
}
