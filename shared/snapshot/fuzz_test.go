package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden fuzz seeds in testdata/fuzz/FuzzDecode")

// fuzzSeed is one named seed input.
type fuzzSeed struct {
	name   string
	data   []byte
	golden bool  // the bytes are pinned (no deflate output in them)
	want   error // what Decode returns
}

// fuzzSeeds returns the seed inputs of FuzzDecode: valid snapshots and the
// usual ways of breaking one.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	valid := mustEncode(t, smallSnapshot(), EncodeOptions{})
	deflated := mustEncode(t, smallSnapshot(), EncodeOptions{Compress: true})
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 0x04
	corrupt := bytes.Clone(valid)
	corrupt[prefixLen+int(binary.LittleEndian.Uint32(valid[len(Magic)+2:]))]++ // string bytes
	return []fuzzSeed{
		{"valid", valid, true, nil},
		{"valid-deflate", deflated, false, nil},
		{"truncated", valid[:len(valid)/2], true, ErrCorrupt},
		{"bitflip", flipped, true, ErrChecksum},
		{"resigned-corrupt", resign(corrupt), true, ErrCorrupt},
		{"dd-ffffffff", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, true, ErrCorrupt},
	}
}

func seedFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzDecode current: the pinned seeds
// are also the golden bytes of the format (go test -update rewrites them).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, seed := range fuzzSeeds(t) {
		if _, err := Decode(seed.data, Limits{}); !errors.Is(err, seed.want) || (seed.want == nil) != (err == nil) {
			t.Errorf("seed %s: Decode error %v, want %v", seed.name, err, seed.want)
		}
		path := filepath.Join(dir, seed.name)
		want := seedFile(seed.data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFuzzSeeds -update)", err)
		}
		if seed.golden && !bytes.Equal(got, want) {
			t.Errorf("%s is stale: the encoded format changed (if that is intended, bump FormatVersion and run go test -run TestFuzzSeeds -update)", path)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed.data)
	}
	f.Add([]byte{})
	f.Add([]byte(Magic))
	f.Add(mustEncode(f, &Snapshot{}, EncodeOptions{}))
	f.Add(mustEncode(f, Synthetic(12, 3, 4, 3, 1), EncodeOptions{}))
	f.Add(mustEncode(f, Synthetic(12, 3, 4, 3, 2), EncodeOptions{Compress: true, Level: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		if len(b) >= prefixLen+trailerLen {
			// Fixing the checksum lets mutations reach the body parser.
			checkDecode(t, resign(b))
		}
	})
}

// checkDecode decodes b and checks the result: an error wrapping a
// sentinel and no snapshot, or a snapshot that validates and survives
// re-encoding; either way, allocation in proportion to the input.
func checkDecode(t *testing.T, b []byte) {
	var declared uint64
	if h, err := readHeader(b, DefaultLimits()); err == nil && h.deflate {
		declared = uint64(h.bodyLen) + 64<<10 // plus the inflater's state
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Decode(b, Limits{})
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if bound := 64*(uint64(len(b))+declared) + 64<<10; alloc > bound {
		t.Fatalf("Decode of %d bytes (declared body %d) allocated %d bytes, over %d", len(b), declared, alloc, bound)
	}
	compact, cerr := DecodeWith(b, DecodeOptions{CompactWeights: true})
	if (err == nil) != (cerr == nil) {
		t.Fatalf("Decode: %v; with compact weights: %v", err, cerr)
	}
	if err != nil {
		if s != nil {
			t.Fatalf("Decode returned a snapshot and %v", err)
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("Decode error wraps no sentinel: %v", err)
		}
		return
	}
	if err := Validate(s); err != nil {
		t.Fatalf("decoded snapshot does not validate: %v", err)
	}
	if a, b := mustEncode(t, s, EncodeOptions{}), mustEncode(t, compact, EncodeOptions{}); !bytes.Equal(a, b) {
		t.Fatal("the compact snapshot encodes differently")
	}
	for _, opt := range []EncodeOptions{{}, {Compress: true, Level: 1}} {
		c := *s
		e, err := Encode(&c, opt)
		if err != nil {
			t.Fatalf("re-encode (%s): %v", optName(opt), err)
		}
		again, err := Decode(e, Limits{})
		if err != nil {
			t.Fatalf("decode of re-encoded (%s): %v", optName(opt), err)
		}
		again.Version = s.Version
		if d := diff(again, s); d != "" {
			t.Fatalf("re-encoded (%s) decodes differently: %s", optName(opt), d)
		}
	}
}
