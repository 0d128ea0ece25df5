package snapshot

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"
)

var bothOptions = []EncodeOptions{{}, {Compress: true}, {Compress: true, Level: 1}}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap func() *Snapshot
	}{
		{"small", smallSnapshot},
		{"empty", func() *Snapshot { return &Snapshot{Shop: "acme"} }},
		{"synthetic", func() *Snapshot { return Synthetic(3000, 32, 12, 16, 7) }},
		{"synthetic tiny", func() *Snapshot { return Synthetic(3, 2, 20, 5, 1) }},
	} {
		for _, opt := range bothOptions {
			t.Run(tc.name+"/"+optName(opt), func(t *testing.T) {
				s := tc.snap()
				want := canonical(s)
				b := mustEncode(t, s, opt)
				if len(s.Version) != 64 {
					t.Fatalf("Version %q, want 64 hex digits", s.Version)
				}
				got, err := Decode(b, Limits{})
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				want.Version = s.Version
				if d := diff(got, want); d != "" {
					t.Fatalf("Decode(Encode(x)) != canonical(x): %s", d)
				}
				if err := Validate(got); err != nil {
					t.Fatalf("Validate(decoded): %v", err)
				}
				// Encode is a fixed point on the canonical form.
				again := mustEncode(t, got, opt)
				if !bytes.Equal(again, b) {
					t.Fatalf("Encode(Decode(Encode(x))) differs from Encode(x) (%d vs %d bytes)", len(again), len(b))
				}
				if got.Version != s.Version {
					t.Fatalf("Version changed on re-encode")
				}
			})
		}
	}
}

func TestWeightsQuantised(t *testing.T) {
	s := smallSnapshot()
	got, err := Decode(mustEncode(t, s, EncodeOptions{}), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m := float64(5) // the graph's max weight
	step := math.Log1p(m) / 255
	for k, w := range s.CoVisit.Weight {
		g := got.CoVisit.Weight[k]
		if d := math.Abs(math.Log1p(float64(g)) - math.Log1p(float64(w))); d > step/2+1e-6 {
			t.Errorf("weight %d: %v decoded as %v, %.4g apart in log1p (half step %.4g)", k, w, g, d, step/2)
		}
	}
	if got.CoVisit.Weight[0] != 5 {
		t.Errorf("max weight %v decoded as %v, want exact", 5, got.CoVisit.Weight[0])
	}
}

func TestWeightGrid(t *testing.T) {
	maxes := []float32{0x1p-126, 1.5e-38, 1e-30, 1e-6, 0.3, 1, 2.5, 255, 1e6, 3e20, math.MaxFloat32}
	for i := range 2000 {
		if m := float32(math.Exp(float64(i%170)-85) * (1 + float64(i)/2000)); m >= minWeightMax {
			maxes = append(maxes, m)
		}
	}
	for _, m := range maxes {
		g := newWeightGrid(m)
		if g.max != m {
			t.Fatalf("max %v stored as %v", m, g.max)
		}
		for q := range 256 {
			if c := g.code(g.value[q]); int(c) != q {
				t.Fatalf("max %v: code(value[%d] = %v) = %d", m, q, g.value[q], c)
			}
			if q > 0 && !(g.value[q] > g.value[q-1]) {
				t.Fatalf("max %v: value[%d] = %v not above value[%d] = %v", m, q, g.value[q], q-1, g.value[q-1])
			}
		}
		if g.code(m) != 255 || g.code(0) != 0 {
			t.Fatalf("max %v: code(max) %d, code(0) %d", m, g.code(m), g.code(0))
		}
	}
	for _, m := range []float32{0, 1e-40, 0x1p-127} {
		g := newWeightGrid(m)
		if g.max != 0 || g.code(m) != 0 || g.value[255] != 0 {
			t.Fatalf("max %v: want the all-zero grid", m)
		}
	}
}

func TestDeterminism(t *testing.T) {
	a, b := Synthetic(2000, 16, 8, 10, 42), Synthetic(2000, 16, 8, 10, 42)
	if d := diff(a, b); d != "" {
		t.Fatalf("Synthetic is not deterministic: %s", d)
	}
	if d := diff(a, Synthetic(2000, 16, 8, 10, 43)); d == "" {
		t.Fatalf("Synthetic ignores its seed")
	}
	for _, opt := range bothOptions {
		t.Run(optName(opt), func(t *testing.T) {
			x, y := mustEncode(t, a, opt), mustEncode(t, b, opt)
			if !bytes.Equal(x, y) || a.Version != b.Version {
				t.Fatalf("same snapshot, different bytes or Version")
			}
			// Section order does not matter.
			s1, s2 := smallSnapshot(), smallSnapshot()
			s2.Sections[0], s2.Sections[2] = s2.Sections[2], s2.Sections[0]
			if !bytes.Equal(mustEncode(t, s1, opt), mustEncode(t, s2, opt)) {
				t.Fatalf("section order changes the bytes")
			}
		})
	}
}

func TestDecodeSharesAndOwns(t *testing.T) {
	b := mustEncode(t, smallSnapshot(), EncodeOptions{})
	s, err := Decode(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Items.Categories
	if unsafe.StringData(c[0]) != unsafe.StringData(c[1]) || unsafe.StringData(c[0]) != unsafe.StringData(c[3]) {
		t.Errorf("equal categories do not share one string")
	}
	want := canonical(smallSnapshot())
	want.Version = s.Version
	for i := range b {
		b[i] ^= 0xff
	}
	if d := diff(s, want); d != "" {
		t.Errorf("decoded snapshot changed with its input: %s", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	small := mustEncode(t, smallSnapshot(), EncodeOptions{})
	// Offsets of the small encoding: body starts after the header.
	hlen := int(binary.LittleEndian.Uint32(small[len(Magic)+2:]))
	body := prefixLen + hlen
	for _, tc := range []struct {
		name string
		in   []byte
		lim  Limits
		want error
		msg  string
	}{
		{"empty", nil, Limits{}, ErrCorrupt, "truncated"},
		{"short magic", []byte("AISL"), Limits{}, ErrCorrupt, "truncated"},
		{"five bytes", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, Limits{}, ErrCorrupt, "magic"},
		{"other file", []byte(`{"items": []}`), Limits{}, ErrCorrupt, "magic"},
		{"version 2", func() []byte { b := bytes.Clone(small); b[8] = 2; return resign(b) }(), Limits{}, ErrVersion, "format version 2"},
		{"version 0 unsigned", func() []byte { b := bytes.Clone(small); b[8] = 0; return b }(), Limits{}, ErrVersion, "format version 0"},
		{"checksum", func() []byte { b := bytes.Clone(small); b[len(b)-1] ^= 1; return b }(), Limits{}, ErrChecksum, "does not match"},
		{"body bit", func() []byte { b := bytes.Clone(small); b[body+3] ^= 0x10; return b }(), Limits{}, ErrChecksum, "does not match"},
		{"total limit", small, Limits{MaxTotalBytes: 100}, ErrTooLarge, "exceed limit 100"},
		{"item limit", small, Limits{MaxItems: 4}, ErrTooLarge, "item count 5 at byte"},
		{"dims limit", small, Limits{MaxDims: 3}, ErrTooLarge, "dims 4"},
		{"cluster limit", small, Limits{MaxClusters: 1}, ErrTooLarge, "cluster count 2"},
		{"edge limit", small, Limits{MaxEdges: 5}, ErrTooLarge, "co-visitation edge count 6"},
		{"section limit", small, Limits{MaxSections: 2}, ErrTooLarge, "section count 3"},
		{"string limit", small, Limits{MaxStringBytes: 6}, ErrTooLarge, "header region: length 7"},
		{"title limit", small, Limits{MaxStringBytes: 11}, ErrTooLarge, "item 4 title: length 22 exceeds limit 11 (body byte"},
		{"section bytes limit", small, Limits{MaxSectionBytes: 5}, ErrTooLarge, `section "embedder": 11 bytes exceed limit 5`},
		{"trailing body byte", func() []byte {
			b := bytes.Clone(small[:len(small)-trailerLen])
			binary.LittleEndian.PutUint64(b[body-8:], binary.LittleEndian.Uint64(b[body-8:])+1)
			return resign(append(append(b, 0), make([]byte, trailerLen)...))
		}(), Limits{}, ErrCorrupt, "1 bytes after the last section"},
		{"short body", func() []byte {
			b := bytes.Clone(small[:len(small)-trailerLen-1])
			binary.LittleEndian.PutUint64(b[body-8:], binary.LittleEndian.Uint64(b[body-8:])-1)
			return resign(append(b, make([]byte, trailerLen)...))
		}(), Limits{}, ErrCorrupt, `section "segments": 3 bytes, 2 left`},
		{"string bytes", func() []byte { b := bytes.Clone(small); b[body]++; return resign(b) }(), Limits{}, ErrCorrupt, "strings:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.in, tc.lim)
			if s != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, %v; want nil, %v", s != nil, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "snapshot: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// TestHeaderLimits checks that every header count over its limit, or over
// what the input could hold, is rejected before anything is allocated in
// proportion to it.
func TestHeaderLimits(t *testing.T) {
	big := func(f func(h *rawHeader)) []byte {
		h := validHeader()
		f(&h)
		return craft(h, make([]byte, 40))
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"2^31 items", big(func(h *rawHeader) { h.items = 1 << 31; h.bodyLen = 40 }), ErrTooLarge},
		{"max items", big(func(h *rawHeader) { h.items = math.MaxUint32; h.bodyLen = 40 }), ErrTooLarge},
		{"items over body", big(func(h *rawHeader) { h.items = 1 << 20; h.dims = 8; h.clusters = 1; h.bodyLen = 40 }), ErrCorrupt},
		{"dims", big(func(h *rawHeader) { h.dims = 1 << 20; h.bodyLen = 40 }), ErrTooLarge},
		{"dims over body", big(func(h *rawHeader) { h.items = 1; h.dims = 1000; h.bodyLen = 40 }), ErrCorrupt},
		{"clusters", big(func(h *rawHeader) { h.clusters = 1<<16 + 1; h.bodyLen = 40 }), ErrTooLarge},
		{"clusters over body", big(func(h *rawHeader) { h.clusters = 60000; h.dims = 1000; h.bodyLen = 40 }), ErrCorrupt},
		{"edges", big(func(h *rawHeader) { h.edges1 = math.MaxUint32; h.bodyLen = 40 }), ErrTooLarge},
		{"edges over body", big(func(h *rawHeader) { h.items = 1; h.edges2 = 1 << 25; h.bodyLen = 40 }), ErrCorrupt},
		{"trending over items", big(func(h *rawHeader) { h.trending = 5; h.bodyLen = 40 }), ErrCorrupt},
		{"sections", big(func(h *rawHeader) { h.sections = 1 << 20; h.bodyLen = 40 }), ErrTooLarge},
		{"sections over body", big(func(h *rawHeader) { h.sections = 60; h.bodyLen = 40 }), ErrCorrupt},
		{"body length", big(func(h *rawHeader) { h.bodyLen = 1 << 40 }), ErrTooLarge},
		{"body length vs stored", big(func(h *rawHeader) { h.bodyLen = 41 }), ErrCorrupt},
		{"deflate ratio", big(func(h *rawHeader) { h.comp = CompressionDeflate; h.bodyLen = 200 << 20 }), ErrCorrupt},
		{"shop length", big(func(h *rawHeader) { h.shop = strings.Repeat("x", 5000); h.bodyLen = 40 }), ErrTooLarge},
		{"quantisation", big(func(h *rawHeader) { h.quant = "float32"; h.bodyLen = 40 }), ErrVersion},
		{"compression", big(func(h *rawHeader) { h.comp = "zstd"; h.bodyLen = 40 }), ErrVersion},
		{"header length", func() []byte {
			b := big(func(h *rawHeader) { h.bodyLen = 40 })
			binary.LittleEndian.PutUint32(b[len(Magic)+2:], 1<<31)
			return resign(b)
		}(), ErrCorrupt},
		{"header trailing", func() []byte {
			b := big(func(h *rawHeader) { h.bodyLen = 39 })
			binary.LittleEndian.PutUint32(b[len(Magic)+2:], binary.LittleEndian.Uint32(b[len(Magic)+2:])+1)
			return resign(b)
		}(), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(20, func() { _, err = Decode(tc.in, Limits{}) })
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode: %v, want %v", err, tc.want)
			}
			if limit := uint64(4*len(tc.in) + 2048); n > limit {
				t.Fatalf("Decode allocated %d bytes for a %d-byte input (limit %d): %v", n, len(tc.in), limit, err)
			}
			t.Logf("%d-byte input, %d bytes allocated: %v", len(tc.in), n, err)
		})
	}
}

func TestTruncation(t *testing.T) {
	for _, opt := range bothOptions[:2] {
		t.Run(optName(opt), func(t *testing.T) {
			b := mustEncode(t, smallSnapshot(), opt)
			for n := range len(b) {
				if s, err := Decode(b[:n], Limits{}); err == nil || s != nil {
					t.Fatalf("prefix of %d/%d bytes decoded", n, len(b))
				}
				// Re-signed, the prefix reaches the body parser.
				if n >= prefixLen+trailerLen {
					if s, err := Decode(resign(b[:n]), Limits{}); err == nil || s != nil {
						t.Fatalf("re-signed prefix of %d/%d bytes decoded", n, len(b))
					} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrTooLarge) {
						t.Fatalf("re-signed prefix of %d bytes: %v", n, err)
					}
				}
			}
		})
	}
}

func TestBitFlips(t *testing.T) {
	for _, opt := range bothOptions[:2] {
		t.Run(optName(opt), func(t *testing.T) {
			b := mustEncode(t, smallSnapshot(), opt)
			for i := range 8 * len(b) {
				c := bytes.Clone(b)
				c[i/8] ^= 1 << (i % 8)
				s, err := Decode(c, Limits{})
				if err == nil || s != nil {
					t.Fatalf("flipping bit %d decoded", i)
				}
				if i/8 >= prefixLen && i/8 < len(b)-trailerLen && !errors.Is(err, ErrChecksum) &&
					!errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrVersion) {
					t.Fatalf("flipping bit %d: %v", i, err)
				}
			}
		})
	}
}

// TestResignedCorruption changes body bytes and fixes the checksum, as a
// buggy or hostile writer would: every result must be a clean error or a
// snapshot that validates and survives a round trip.
func TestResignedCorruption(t *testing.T) {
	for _, opt := range bothOptions[:2] {
		t.Run(optName(opt), func(t *testing.T) {
			b := mustEncode(t, smallSnapshot(), opt)
			hlen := int(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
			failed, decoded := 0, 0
			for i := prefixLen + hlen; i < len(b)-trailerLen; i++ {
				for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff, b[i] + 1, b[i] - 1, b[i] ^ 0x80} {
					if v == b[i] {
						continue
					}
					c := bytes.Clone(b)
					c[i] = v
					s, err := Decode(resign(c), Limits{})
					if err != nil {
						if s != nil || (!errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge)) {
							t.Fatalf("byte %d = %#x: %v (snapshot %v)", i, v, err, s != nil)
						}
						failed++
						continue
					}
					decoded++
					if err := Validate(s); err != nil {
						t.Fatalf("byte %d = %#x decoded to an invalid snapshot: %v", i, v, err)
					}
					again, err := Decode(mustEncode(t, s, opt), Limits{})
					if err != nil {
						t.Fatalf("byte %d = %#x: re-encoded snapshot fails: %v", i, v, err)
					}
					again.Version = s.Version
					if d := diff(again, s); d != "" {
						t.Fatalf("byte %d = %#x: re-encoded snapshot differs: %s", i, v, d)
					}
				}
			}
			t.Logf("%d corruptions rejected, %d decoded to another valid snapshot", failed, decoded)
		})
	}
	t.Run("garbage deflate", func(t *testing.T) {
		h := validHeader()
		h.comp, h.bodyLen = CompressionDeflate, 100
		for _, body := range [][]byte{{}, {0xff, 0xff, 0xff}, bytes.Repeat([]byte{0x55}, 64), {0x01, 0x00, 0x00, 0xff, 0xff}} {
			if _, err := Decode(craft(h, body), Limits{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("deflate body %x: %v, want ErrCorrupt", body, err)
			}
		}
	})
	t.Run("deflate length", func(t *testing.T) {
		b := mustEncode(t, smallSnapshot(), EncodeOptions{Compress: true})
		hlen := int(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
		at := prefixLen + hlen - 8
		declared := binary.LittleEndian.Uint64(b[at:])
		for _, l := range []uint64{declared - 1, declared + 1, 0} {
			c := bytes.Clone(b)
			binary.LittleEndian.PutUint64(c[at:], l)
			if _, err := Decode(resign(c), Limits{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("declared body %d of %d: %v, want ErrCorrupt", l, declared, err)
			}
		}
		c := append(bytes.Clone(b[:len(b)-trailerLen]), 0)
		if _, err := Decode(resign(append(c, make([]byte, trailerLen)...)), Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte after the deflate stream: %v, want ErrCorrupt", err)
		}
	})
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *Snapshot)
		want   error
		msg    string
	}{
		{"nil ok", func(s *Snapshot) {}, nil, ""},
		{"title length", func(s *Snapshot) { s.Items.Titles[1] = strings.Repeat("x", 5000) }, ErrTooLarge, "snapshot: item 1 title: length 5000 exceeds limit 4096"},
		{"short column", func(s *Snapshot) { s.Items.Prices = s.Items.Prices[:4] }, ErrInvalid, "4 prices for 5 items"},
		{"vectors", func(s *Snapshot) { s.Vectors = s.Vectors[:19] }, ErrInvalid, "vectors: 19 values"},
		{"dims", func(s *Snapshot) { s.Dims = 2000 }, ErrTooLarge, "dims 2000"},
		{"empty id", func(s *Snapshot) { s.Items.IDs[2] = "" }, ErrInvalid, "item 2 id: empty"},
		{"duplicate id", func(s *Snapshot) { s.Items.IDs[4] = s.Items.IDs[1] }, ErrInvalid, "item 4 id: \"SKU-0000002\" repeats item 1"},
		{"bad utf-8 id", func(s *Snapshot) { s.Items.IDs[0] = "\xff" }, ErrInvalid, "invalid UTF-8"},
		{"NaN price", func(s *Snapshot) { s.Items.Prices[3] = float32(math.NaN()) }, ErrInvalid, "item 3 price"},
		{"negative popularity", func(s *Snapshot) { s.Items.Popularity[0] = -1 }, ErrInvalid, "item 0 popularity"},
		{"infinite scale", func(s *Snapshot) { s.Scales[0] = float32(math.Inf(1)) }, ErrInvalid, "item 0 scale"},
		{"centroids", func(s *Snapshot) { s.Centroids = s.Centroids[:7] }, ErrInvalid, "not a multiple of 4"},
		{"centroid NaN", func(s *Snapshot) { s.Centroids[5] = float32(math.NaN()) }, ErrInvalid, "cluster 1 centroid: dim 1"},
		{"labels", func(s *Snapshot) { s.ClusterLabels = s.ClusterLabels[:1] }, ErrInvalid, "1 for 2 clusters"},
		{"cluster", func(s *Snapshot) { s.Items.Cluster[2] = 2 }, ErrInvalid, "item 2 cluster: 2"},
		{"offsets length", func(s *Snapshot) { s.CoVisit.Offsets = s.CoVisit.Offsets[:5] }, ErrInvalid, "5 offsets, want 6"},
		{"offsets start", func(s *Snapshot) { s.CoVisit.Offsets[0] = 1 }, ErrInvalid, "first offset 1"},
		{"offsets order", func(s *Snapshot) { s.CoVisit.Offsets[3] = 1 }, ErrInvalid, "below offset"},
		{"offsets end", func(s *Snapshot) { s.CoVisit.Offsets[5] = 5 }, ErrInvalid, "last offset 5"},
		{"weights length", func(s *Snapshot) { s.CoVisit.Weight = s.CoVisit.Weight[:5] }, ErrInvalid, "5 weights for 6"},
		{"neighbour range", func(s *Snapshot) { s.CoVisit.Nbr[0] = 5 }, ErrInvalid, "row 0 neighbour 0 is item 5"},
		{"self loop", func(s *Snapshot) { s.CoVisit.Nbr[2] = 1 }, ErrInvalid, "row 1 neighbour 0 is the item itself"},
		{"repeat", func(s *Snapshot) { s.CoVisit.Nbr[4] = 0 }, ErrInvalid, "row 3 neighbour 1: item 0 repeats"},
		{"negative weight", func(s *Snapshot) { s.CoVisit.Weight[5] = -1 }, ErrInvalid, "weight -1"},
		{"weight order", func(s *Snapshot) { s.CoVisit.Weight[1] = 6 }, ErrInvalid, "want strongest first"},
		{"NaN weight", func(s *Snapshot) { s.CoVisit.Weight[0] = float32(math.NaN()) }, ErrInvalid, "weight NaN"},
		{"trending scores", func(s *Snapshot) { s.TrendingScore = s.TrendingScore[:2] }, ErrInvalid, "3 items with 2 scores"},
		{"trending range", func(s *Snapshot) { s.Trending[1] = 9 }, ErrInvalid, "trending 1: item 9"},
		{"trending repeat", func(s *Snapshot) { s.Trending[2] = 0 }, ErrInvalid, "trending 2: item 0 already listed at 0"},
		{"trending order", func(s *Snapshot) { s.TrendingScore[2] = 5 }, ErrInvalid, "highest first"},
		{"section name", func(s *Snapshot) { s.Sections[1].Name = "" }, ErrInvalid, "section 1: empty name"},
		{"section repeat", func(s *Snapshot) { s.Sections[1].Name = "segments" }, ErrInvalid, "name \"segments\" repeats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := smallSnapshot()
			tc.break_(s)
			err := Validate(s)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate: %v; want %v saying %q", err, tc.want, tc.msg)
			}
			if b, err2 := Encode(s, EncodeOptions{}); b != nil || err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("Encode: %v, want the Validate error %v", err2, err)
			}
			if s.Version != "" {
				t.Fatalf("Encode set Version on failure")
			}
		})
	}
}

func TestEncodeOptions(t *testing.T) {
	if _, err := Encode(smallSnapshot(), EncodeOptions{Compress: true, Level: 12}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("level 12: %v", err)
	}
	if _, err := Encode(smallSnapshot(), EncodeOptions{Limits: Limits{MaxItems: 4}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the encoder's limits: %v", err)
	}
	if _, err := Encode(smallSnapshot(), EncodeOptions{Limits: Limits{MaxTotalBytes: 200}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the encoder's size limit: %v", err)
	}
}

func TestSynthetic(t *testing.T) {
	for _, tc := range []struct{ n, dims, nbrs, clusters int }{
		{0, 8, 4, 2}, {1, 1, 0, 1}, {2, 1, 5, 3}, {10, 3, 20, 100}, {50, 0, 49, 0}, {1000, 64, 20, 64},
	} {
		t.Run(fmt.Sprintf("%d-%d-%d-%d", tc.n, tc.dims, tc.nbrs, tc.clusters), func(t *testing.T) {
			s := Synthetic(tc.n, tc.dims, tc.nbrs, tc.clusters, 9)
			if err := Validate(s); err != nil {
				t.Fatal(err)
			}
			if s.Len() != tc.n {
				t.Fatalf("%d items, want %d", s.Len(), tc.n)
			}
			if tc.n > 1 && tc.nbrs > 0 && len(s.CoVisit.Nbr) == 0 {
				t.Fatalf("no co-visitation edges")
			}
			if _, err := Decode(mustEncode(t, s, EncodeOptions{}), Limits{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	s := Synthetic(2000, 16, 20, 8, 1)
	rows := 0
	for i := range s.Len() {
		if nb, _ := s.CoVisit.Row(uint32(i)); len(nb) == 20 {
			rows++
		}
	}
	if rows != s.Len() {
		t.Errorf("%d of %d rows have 20 neighbours", rows, s.Len())
	}
}

// TestStreamingDecode decodes a snapshot whose columns span many windows of
// the inflating decoder, and checks DecodeVerified against Decode.
func TestStreamingDecode(t *testing.T) {
	s := Synthetic(6000, 24, 8, 9, 5)
	s.Sections = []Section{{Name: "big", Data: bytes.Repeat([]byte("0123456789abcdef"), 3*streamWindow/16+5)}, {Name: "empty", Data: []byte{}}}
	raw := mustEncode(t, s, EncodeOptions{})
	want, err := Decode(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range bothOptions[1:] {
		b := mustEncode(t, s, opt)
		got, err := Decode(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", optName(opt), err)
		}
		got.Version = want.Version
		if d := diff(got, want); d != "" {
			t.Fatalf("%s: decodes differently from the uncompressed encoding: %s", optName(opt), d)
		}
		v, err := Decode(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ver, err := DecodeVersion(b, Limits{}, v.Version)
		if err != nil {
			t.Fatalf("%s: DecodeVersion: %v", optName(opt), err)
		}
		if ver.Version != v.Version {
			t.Fatalf("DecodeVersion version %s, want %s", ver.Version, v.Version)
		}
		if d := diff(ver, v); d != "" {
			t.Fatalf("%s: DecodeVersion differs from Decode: %s", optName(opt), d)
		}
		if _, err := DecodeVersion(b, Limits{}, want.Version); !errors.Is(err, ErrMismatch) {
			t.Fatalf("%s: DecodeVersion under another version: %v, want ErrMismatch", optName(opt), err)
		}
		if _, err := DecodeVersion(b[:len(b)-1], Limits{}, v.Version); !errors.Is(err, ErrMismatch) {
			t.Fatalf("%s: DecodeVersion of truncated bytes: %v, want ErrMismatch", optName(opt), err)
		}
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 1
		if _, err := DecodeVersion(flipped, Limits{}, hexSHA(flipped)); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%s: DecodeVersion of a flipped body under its own hash: %v, want ErrChecksum", optName(opt), err)
		}
		// A custom inflater is used, and gives the same snapshot.
		used := false
		custom, err := DecodeWith(b, DecodeOptions{Inflate: func(r io.Reader) io.ReadCloser {
			used = true
			return flate.NewReader(r)
		}})
		if err != nil || !used {
			t.Fatalf("%s: DecodeWith a custom inflater: %v (used %v)", optName(opt), err, used)
		}
		if d := diff(custom, v); d != "" {
			t.Fatalf("%s: DecodeWith a custom inflater differs from Decode: %s", optName(opt), d)
		}
		// So is a custom hasher; a wrong one fails the checks.
		hashed := 0
		if _, err := DecodeWith(b, DecodeOptions{Version: v.Version, NewHasher: func(n int) Hasher {
			hashed++
			return NewHasher(n)
		}}); err != nil || hashed != 1 {
			t.Fatalf("%s: DecodeWith a custom hasher: %v (made %d)", optName(opt), err, hashed)
		}
		if p, w := Hashes(b); p != sha256.Sum256(b[:len(b)-trailerLen]) || w != sha256.Sum256(b) {
			t.Fatal("Hashes disagrees with sha256.Sum256")
		}
		for _, step := range []int{1, 7, 4096, len(b)} {
			h := NewHasher(len(b))
			for off := 0; off < len(b); off += step {
				h.Write(b[off:min(off+step, len(b))])
			}
			if p, w, err := h.Sums(); err != nil || p != sha256.Sum256(b[:len(b)-trailerLen]) || w != sha256.Sum256(b) {
				t.Fatalf("NewHasher fed %d bytes at a time disagrees with sha256.Sum256 (%v)", step, err)
			}
		}
		if _, err := DecodeWith(b, DecodeOptions{NewHasher: func(n int) Hasher { return wrongPrefix{NewHasher(n)} }}); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%s: a hash that disagrees with the trailer: %v, want ErrChecksum", optName(opt), err)
		}
		// Read a few bytes at a time, the same; cut short, an error
		// that says the bytes did not arrive.
		if got, err := DecodeReader(iotest.OneByteReader(bytes.NewReader(b)), len(b), DecodeOptions{Version: v.Version}); err != nil || diff(got, v) != "" {
			t.Fatalf("%s: DecodeReader one byte at a time: %v", optName(opt), err)
		}
		if _, err := DecodeReader(bytes.NewReader(b[:len(b)/2]), len(b), DecodeOptions{Version: v.Version}); !errors.Is(err, ErrMismatch) {
			t.Fatalf("%s: DecodeReader of half the bytes: %v, want ErrMismatch", optName(opt), err)
		}
		if _, err := DecodeReader(bytes.NewReader(b[:len(b)/2]), len(b), DecodeOptions{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: DecodeReader of half the bytes: %v, want ErrCorrupt", optName(opt), err)
		}
		// Truncating the deflate stream anywhere is caught, with or
		// without the checksum.
		hlen := int(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
		for _, cut := range []int{1, 100, (len(b) - prefixLen - hlen) / 2} {
			c := append(bytes.Clone(b[:len(b)-trailerLen-cut]), make([]byte, trailerLen)...)
			if _, err := Decode(resign(c), Limits{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: deflate stream cut by %d: %v, want ErrCorrupt", optName(opt), cut, err)
			}
		}
	}
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestCompactWeights: graphs decoded as weight codes hold exactly the
// weights Decode gives, validate, re-encode to the same bytes and renumber.
func TestCompactWeights(t *testing.T) {
	for _, s := range []*Snapshot{smallSnapshot(), Synthetic(2000, 8, 6, 7, 3), {}} {
		for _, opt := range bothOptions[:2] {
			b := mustEncode(t, s, opt)
			want, err := Decode(b, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeWith(b, DecodeOptions{CompactWeights: true})
			if err != nil {
				t.Fatalf("%s: %v", optName(opt), err)
			}
			for _, gg := range [][2]*Graph{{&got.CoVisit, &want.CoVisit}, {&got.BoughtTogether, &want.BoughtTogether}} {
				g, w := gg[0], gg[1]
				if !g.Compact() || g.Weight != nil || len(g.Code) != len(w.Weight) || !slices.Equal(g.Nbr, w.Nbr) {
					t.Fatalf("%s: not a compact graph of the same edges", optName(opt))
				}
				for k, v := range w.Weight {
					if g.Levels[g.Code[k]] != v {
						t.Fatalf("%s: edge %d weight %v, Decode gives %v", optName(opt), k, g.Levels[g.Code[k]], v)
					}
				}
				for i := range uint32(got.Len()) {
					nb, code := g.RowCodes(i)
					wnb, ww := w.Row(i)
					if !slices.Equal(nb, wnb) || len(code) != len(ww) {
						t.Fatalf("row %d differs", i)
					}
					if _, wt := g.Row(i); wt != nil {
						t.Fatalf("row %d: a compact graph's Row gives weights", i)
					}
				}
			}
			if err := Validate(got); err != nil {
				t.Fatalf("%s: %v", optName(opt), err)
			}
			if again := mustEncode(t, got, opt); !bytes.Equal(again, b) {
				t.Fatalf("%s: a compact snapshot re-encodes differently", optName(opt))
			}
			if got.Len() > 1 {
				perm := make([]int, got.Len())
				for i := range perm {
					perm[i] = len(perm) - 1 - i
				}
				rc, err := Renumber(got, perm)
				if err != nil {
					t.Fatal(err)
				}
				rw, err := Renumber(want, perm)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mustEncode(t, rc, opt), mustEncode(t, rw, opt)) {
					t.Fatalf("%s: renumbered compact and float snapshots encode differently", optName(opt))
				}
			}
		}
	}
	bad := Synthetic(50, 4, 3, 2, 1)
	bad.CoVisit.Code = make([]uint8, len(bad.CoVisit.Nbr))
	if err := Validate(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("codes without levels: %v, want ErrInvalid", err)
	}
	bad = Synthetic(50, 4, 3, 2, 1)
	bad.CoVisit.Levels = new([256]float32)
	if err := Validate(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("levels with float weights: %v, want ErrInvalid", err)
	}
}

// wrongPrefix is a Hasher whose trailer sum is off by one bit.
type wrongPrefix struct{ Hasher }

func (w wrongPrefix) Sums() (p, whole [sha256.Size]byte, err error) {
	p, whole, err = w.Hasher.Sums()
	p[0]++
	return p, whole, err
}

// Short and cut inputs named by their own hash fail as what they are, not
// as a mismatch, however little of them the decoder needs to read.
func TestDecodeVersionShort(t *testing.T) {
	b := mustEncode(t, Synthetic(20, 8, 2, 2, 1), EncodeOptions{Compress: true})
	for _, n := range []int{0, 1, 8, 13, 14, 31, 32, 33, 45, 46, 47, 60, len(b) / 2, len(b) - 1} {
		c := b[:n]
		sum := sha256.Sum256(c)
		_, err := DecodeVersion(c, Limits{}, hex.EncodeToString(sum[:]))
		if err == nil || errors.Is(err, ErrMismatch) || !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrChecksum) {
			t.Errorf("%d of %d bytes: %v, want ErrCorrupt or ErrChecksum", n, len(b), err)
		}
	}
}

// TestChecked: only what a decoder returns carries the mark that lets a
// consumer skip Validate; a built or renumbered snapshot does not.
func TestChecked(t *testing.T) {
	s := Synthetic(40, 8, 3, 4, 7)
	if s.Checked() || (*Snapshot)(nil).Checked() {
		t.Fatal("a built snapshot (or nil) reports Checked")
	}
	b, err := Encode(s, EncodeOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, decode := range map[string]func() (*Snapshot, error){
		"Decode":       func() (*Snapshot, error) { return Decode(b, Limits{}) },
		"DecodeWith":   func() (*Snapshot, error) { return DecodeWith(b, DecodeOptions{CompactWeights: true}) },
		"DecodeReader": func() (*Snapshot, error) { return DecodeReader(bytes.NewReader(b), len(b), DecodeOptions{}) },
	} {
		d, err := decode()
		if err != nil || !d.Checked() {
			t.Fatalf("%s: Checked %v, %v; want a checked snapshot", name, d.Checked(), err)
		}
	}
	d, _ := Decode(b, Limits{})
	perm := make([]int, d.Len())
	for i := range perm {
		perm[i] = len(perm) - 1 - i
	}
	r, err := Renumber(d, perm)
	if err != nil || r.Checked() {
		t.Fatalf("Renumber of a decoded snapshot: Checked %v, %v; want unchecked", r.Checked(), err)
	}
	bad := Synthetic(40, 8, 3, 4, 7)
	bad.CoVisit.Nbr[0] = 40 // out of range
	if _, err := Encode(bad, EncodeOptions{}); err == nil {
		t.Fatal("Encode took an invalid snapshot")
	}
}

// TestValidateCompactRows: a compact graph's rows break the same rules
// with the same messages as a float graph's.
func TestValidateCompactRows(t *testing.T) {
	b, err := Encode(Synthetic(60, 8, 4, 4, 3), EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Row 5 holds at least two edges in this snapshot.
	for _, tc := range []struct {
		name   string
		break_ func(g *Graph, a uint32)
		want   string
	}{
		{"out of range", func(g *Graph, a uint32) { g.Nbr[a+1] = 60 }, "want below 60"},
		{"self", func(g *Graph, a uint32) { g.Nbr[a+1] = 5 }, "the item itself"},
		{"repeat", func(g *Graph, a uint32) { g.Nbr[a+1] = g.Nbr[a] }, "repeats"},
		{"weight up", func(g *Graph, a uint32) { g.Code[a], g.Code[a+1] = 10, 200 }, "above the previous"},
		{"bad level", func(g *Graph, a uint32) { g.Levels = new([256]float32); g.Levels[g.Code[a+1]] = float32(math.NaN()) }, "not a finite"},
	} {
		for _, compact := range []bool{true, false} {
			s, err := DecodeWith(b, DecodeOptions{CompactWeights: compact})
			if err != nil {
				t.Fatal(err)
			}
			g := &s.CoVisit
			a := g.Offsets[5]
			if g.Offsets[6]-a < 2 {
				t.Fatal("row 5 has fewer than two edges")
			}
			if !compact {
				if tc.name == "bad level" {
					continue
				}
				c, _ := DecodeWith(b, DecodeOptions{CompactWeights: true})
				tc.break_(&c.CoVisit, a)
				// The same change, in weights.
				g.Nbr = c.CoVisit.Nbr
				for k := range g.Weight {
					g.Weight[k] = c.CoVisit.Levels[c.CoVisit.Code[k]]
				}
			} else {
				tc.break_(g, a)
			}
			err = Validate(s)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "row 5 neighbour 1") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (compact %v): %v; want row 5 neighbour 1: %s", tc.name, compact, err, tc.want)
			}
		}
	}
}
