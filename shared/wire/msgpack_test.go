package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// cat joins byte fragments and strings into one message.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		}
	}
	return b
}

func nest(depth int, leaf []byte) []byte {
	return append(bytes.Repeat([]byte{0x91}, depth), leaf...)
}

func TestCheckMsgpack(t *testing.T) {
	z := func(n int) []byte { return make([]byte, n) }
	nils := func(n int) []byte { return bytes.Repeat([]byte{0xc0}, n) }
	tests := []struct {
		name string
		b    []byte
		kind error // nil means valid
	}{
		{"positive fixint", cat(0x7f), nil},
		{"negative fixint", cat(0xe0), nil},
		{"nil", cat(0xc0), nil},
		{"false", cat(0xc2), nil},
		{"true", cat(0xc3), nil},
		{"uint8", cat(0xcc, 0xff), nil},
		{"uint16", cat(0xcd, z(2)), nil},
		{"uint32", cat(0xce, z(4)), nil},
		{"uint64", cat(0xcf, z(8)), nil},
		{"int8", cat(0xd0, 0x80), nil},
		{"int16", cat(0xd1, z(2)), nil},
		{"int32", cat(0xd2, z(4)), nil},
		{"int64", cat(0xd3, z(8)), nil},
		{"float32", cat(0xca, z(4)), nil},
		{"float64", cat(0xcb, z(8)), nil},
		{"fixstr", cat(0xa3, "abc"), nil},
		{"empty fixstr", cat(0xa0), nil},
		{"str8", cat(0xd9, 3, "abc"), nil},
		{"str16", cat(0xda, 0, 3, "abc"), nil},
		{"str32", cat(0xdb, 0, 0, 0, 3, "abc"), nil},
		{"bin8", cat(0xc4, 2, z(2)), nil},
		{"bin16", cat(0xc5, 0, 2, z(2)), nil},
		{"bin32", cat(0xc6, 0, 0, 0, 2, z(2)), nil},
		{"fixext1", cat(0xd4, 1, z(1)), nil},
		{"fixext2", cat(0xd5, 1, z(2)), nil},
		{"timestamp32 fixext4", cat(0xd6, 0xff, z(4)), nil},
		{"timestamp64 fixext8", cat(0xd7, 0xff, z(8)), nil},
		{"fixext16", cat(0xd8, 1, z(16)), nil},
		{"timestamp96 ext8", cat(0xc7, 12, 0xff, z(12)), nil},
		{"ext16", cat(0xc8, 0, 1, 5, z(1)), nil},
		{"ext32", cat(0xc9, 0, 0, 0, 1, 5, z(1)), nil},
		{"empty ext8", cat(0xc7, 0, 5), nil},
		{"fixarray", cat(0x92, 1, 2), nil},
		{"array16", cat(0xdc, 0, 2, 1, 2), nil},
		{"array32", cat(0xdd, 0, 0, 0, 2, 1, 2), nil},
		{"fixmap", cat(0x81, 0xa1, "a", 1), nil},
		{"map16", cat(0xde, 0, 1, 0xa1, "a", 1), nil},
		{"map32", cat(0xdf, 0, 0, 0, 1, 0xa1, "a", 1), nil},
		{"empty containers", cat(0x92, 0x90, 0x80), nil},
		{"depth 16", nest(16, cat(0xc0)), nil},
		{"elements at limit", cat(0xdc, 0x40, 0x00, nils(MaxMsgpackElements)), nil},

		{"empty input", nil, ErrMalformed},
		{"reserved c1", cat(0xc1), ErrMalformed},
		{"array32 of 4G, 5 bytes", cat(0xdd, 0xff, 0xff, 0xff, 0xff), ErrMalformed},
		{"array32 of 4G with body", cat(0xdd, 0xff, 0xff, 0xff, 0xff, nils(1000)), ErrMalformed},
		{"map32 of 4G", cat(0xdf, 0xff, 0xff, 0xff, 0xff, nils(1000)), ErrMalformed},
		{"str32 of 4G", cat(0xdb, 0xff, 0xff, 0xff, 0xff, "abc"), ErrMalformed},
		{"bin32 of 4G", cat(0xc6, 0xff, 0xff, 0xff, 0xff, "abc"), ErrMalformed},
		{"ext32 of 4G", cat(0xc9, 0xff, 0xff, 0xff, 0xff, 1, "abc"), ErrMalformed},
		{"array16 short", cat(0xdc, 0x01, 0x00, nils(255)), ErrMalformed},
		{"map needs 2n", cat(0x82, 0xc0, 0xc0, 0xc0), ErrMalformed},
		{"inner array overdraws outer", cat(0x92, 0x92, 0xc0, 0xc0), ErrMalformed},
		{"inner string overdraws outer", cat(0x92, 0xa2, "ab"), ErrMalformed},
		{"truncated float64", cat(0xcb, z(3)), ErrMalformed},
		{"truncated str8 header", cat(0xd9), ErrMalformed},
		{"truncated str8", cat(0xd9, 5, "ab"), ErrMalformed},
		{"truncated array16 header", cat(0xdc, 0), ErrMalformed},
		{"truncated ext8 type", cat(0xc7, 0), ErrMalformed},
		{"truncated fixext4", cat(0xd6, 0xff, z(3)), ErrMalformed},
		{"truncated array", cat(0x92, 1), ErrMalformed},
		{"truncated map value", cat(0x81, 0xa1, "a"), ErrMalformed},
		{"trailing byte", cat(1, 2), ErrMalformed},
		{"two maps", cat(0x80, 0x80), ErrMalformed},
		{"depth 17", nest(17, cat(0xc0)), ErrMalformed},
		{"empty container at depth 17", nest(16, cat(0x90)), ErrMalformed},
		{"deep nesting", nest(100000, cat(0xc0)), ErrMalformed},
		{"elements over limit", cat(0xdc, 0x40, 0x01, nils(MaxMsgpackElements+1)), ErrMalformed},
		{"too large", cat(0xc6, 0, 3, 0xff, 0xfc, z(MaxBodyBytes-4)), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMsgpack(tt.b, MaxMsgpackDepth)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("CheckMsgpack(% x) = %v, want nil", head(tt.b), err)
				}
				// The library must agree the bytes are one value.
				dec := msgpack.NewDecoder(bytes.NewReader(tt.b))
				if err := dec.Skip(); err != nil {
					t.Fatalf("msgpack cannot skip accepted input: %v", err)
				}
				if dec.Buffered().(*bytes.Reader).Len() != 0 {
					t.Fatalf("msgpack left bytes after accepted input")
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("CheckMsgpack(% x) = %v, want %v", head(tt.b), err, tt.kind)
			}
			if !strings.HasPrefix(err.Error(), "wire: msgpack: ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestCheckMsgpackLimits(t *testing.T) {
	big := cat(0xc6, 0, 8, 0, 0, make([]byte, 8<<16))
	if err := CheckMsgpack(big, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("CheckMsgpack = %v, want ErrTooLarge", err)
	}
	lim := MsgpackLimits{MaxBytes: 1 << 20, MaxDepth: 2, MaxElements: 3}
	if err := CheckMsgpackLimits(big, lim); err != nil {
		t.Fatalf("CheckMsgpackLimits = %v", err)
	}
	if err := CheckMsgpackLimits(nest(3, cat(1)), lim); !errors.Is(err, ErrMalformed) {
		t.Errorf("depth 3 with MaxDepth 2: %v", err)
	}
	if err := CheckMsgpackLimits(cat(0x94, 1, 2, 3, 4), lim); !errors.Is(err, ErrMalformed) {
		t.Errorf("4 elements with MaxElements 3: %v", err)
	}
	if err := CheckMsgpackLimits(cat(0x93, 1, 2, 3), lim); err != nil {
		t.Errorf("3 elements with MaxElements 3: %v", err)
	}
}

func TestCheckMsgpackDoesNotAllocate(t *testing.T) {
	b, err := MarshalRequest(validRequest())
	if err != nil {
		t.Fatal(err)
	}
	deep := nest(MaxMsgpackDepth, cat(0xc0))
	if n := testing.AllocsPerRun(100, func() {
		_ = CheckMsgpack(b, MaxMsgpackDepth)
		_ = CheckMsgpack(deep, MaxMsgpackDepth)
	}); n != 0 {
		t.Errorf("CheckMsgpack allocates %v times on valid input, want 0", n)
	}
}

func TestMsgpackRoundTrip(t *testing.T) {
	for _, want := range []*RecommendRequest{validRequest(), {Placement: ForYou}} {
		b, err := MarshalRequest(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalRequest(b)
		if err != nil {
			t.Fatalf("UnmarshalRequest: %v", err)
		}
		if !sameRequest(got, want) {
			t.Errorf("request round trip:\n got %+v\nwant %+v", got, want)
		}
		b2, _ := MarshalRequest(got)
		if !bytes.Equal(b, b2) {
			t.Errorf("re-encoding differs:\n% x\n% x", b, b2)
		}
	}
	for _, want := range []*RecommendResponse{validResponse(), {}} {
		b, err := MarshalResponse(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalResponse(b)
		if err != nil {
			t.Fatalf("UnmarshalResponse: %v", err)
		}
		if !sameResponse(got, want) {
			t.Errorf("response round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestMarshalValidates(t *testing.T) {
	r := validRequest()
	r.K = 1000
	_, err := MarshalRequest(r)
	wantFieldError(t, err, "k")
	resp := validResponse()
	resp.Items[0].Score = math.NaN()
	_, err = MarshalResponse(resp)
	wantFieldError(t, err, "items[0].score")
}

// TestMsgpackGolden pins the encoding: equal values give equal bytes, and
// a change of library version or field order that changes them fails here.
func TestMsgpackGolden(t *testing.T) {
	req, err := MarshalRequest(validRequest())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := MarshalResponse(validResponse())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file string
		b    []byte
	}{{"request.msgpack.hex", req}, {"response.msgpack.hex", resp}} {
		path := filepath.Join("testdata", g.file)
		got := hex.EncodeToString(g.b) + "\n"
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s is stale or the encoding changed:\n got %s\nwant %s", path, got, want)
		}
	}
	again, _ := MarshalRequest(validRequest())
	if !bytes.Equal(req, again) {
		t.Error("two encodings of one request differ")
	}
}

// rawMsgpack encodes v with the library directly, skipping validation, to
// build invalid messages.
func rawMsgpack(t *testing.T, v any) []byte {
	t.Helper()
	b, err := sortedMsgpack(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sortedMsgpack encodes v with map keys sorted, so test inputs built from
// Go maps are stable.
func sortedMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

func TestUnmarshalRequest(t *testing.T) {
	long := strings.Repeat("x", 600)
	edit := func(f func(r *RecommendRequest)) *RecommendRequest {
		r := validRequest()
		f(r)
		return r
	}
	many := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = "x"
		}
		return l
	}
	evs := make([]Event, MaxEvents+1)
	for i := range evs {
		evs[i] = Event{Type: Click, Item: "a"}
	}
	tests := []struct {
		name  string
		b     []byte
		field string
		kind  error
	}{
		{"unknown keys are skipped", rawMsgpack(t, map[string]any{"placement": "for_you", "future": []any{1, "x", map[string]any{"a": nil}}}), "", nil},
		{"struct as array", rawMsgpack(t, []any{"s", "r", "for_you", "", "", nil, nil, 3, 0}), "", nil},
		{"nil is an empty request", cat(0xc0), "placement", nil},
		{"events over limit", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Events = evs })), "events", nil},
		{"event item long", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Events[3].Item = long })), "events[3].item", nil},
		{"exclude long", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Filters.Exclude = append(many(7), long) })), "filters.exclude[7]", nil},
		{"categories over limit", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Filters.Categories = many(MaxList + 1) })), "filters.categories", nil},
		{"invalid UTF-8", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Shop = "\xff" })), "shop", nil},
		{"NaN price", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Filters.PriceMax = math.NaN() })), "filters.price_max", nil},
		{"negative price", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Filters.PriceMin = -3 })), "filters.price_min", nil},
		{"k over limit", rawMsgpack(t, edit(func(r *RecommendRequest) { r.K = 101 })), "k", nil},
		{"negative time", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Events[0].Time = -1 })), "events[0].time", nil},
		{"negative now", rawMsgpack(t, edit(func(r *RecommendRequest) { r.Now = -1 })), "now", nil},

		{"k wrong type", rawMsgpack(t, map[string]any{"placement": "for_you", "k": "ten"}), "", ErrMalformed},
		{"placement wrong type", rawMsgpack(t, map[string]any{"placement": 7}), "", ErrMalformed},
		{"top-level string", rawMsgpack(t, "for_you"), "", ErrMalformed},
		{"5 bytes claiming 4G entries", cat(0xdd, 0xff, 0xff, 0xff, 0xff), "", ErrMalformed},
		{"events claiming 4G entries", cat(0x82, 0xa9, "placement", 0xa7, "for_you", 0xa6, "events", 0xdd, 0xff, 0xff, 0xff, 0xff, make([]byte, 64)), "", ErrMalformed},
		{"trailing bytes", cat(rawMsgpack(t, validRequest()), 0xc0), "", ErrMalformed},
		{"too large", cat(0xc6, 0, 4, 0, 0, make([]byte, MaxBodyBytes)), "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := UnmarshalRequest(tt.b)
			switch {
			case tt.kind != nil:
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
			case tt.field != "":
				wantFieldError(t, err, tt.field)
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if r.Validate() != nil {
					t.Fatal("result does not validate")
				}
			}
		})
	}
}

func TestUnmarshalResponse(t *testing.T) {
	items := make([]Rec, MaxResults+1)
	fillRecs(items)
	tests := []struct {
		name  string
		b     []byte
		field string
		kind  error
	}{
		{"items over limit", rawMsgpack(t, &RecommendResponse{Items: items}), "items", nil},
		{"score infinite", rawMsgpack(t, &RecommendResponse{Items: []Rec{{ID: "a", Reason: ReasonTrending, Score: math.Inf(1)}}}), "items[0].score", nil},
		{"reason unknown", rawMsgpack(t, &RecommendResponse{Items: []Rec{{ID: "a", Reason: "x"}}}), "items[0].reason", nil},
		{"items claiming 4G entries", cat(0x81, 0xa5, "items", 0xdd, 0xff, 0xff, 0xff, 0xff), "", ErrMalformed},
		{"truncated", rawMsgpack(t, validResponse())[:20], "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalResponse(tt.b)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				return
			}
			wantFieldError(t, err, tt.field)
		})
	}
}

// TestHostileMsgpackAllocations checks that length headers claiming
// billions of entries are rejected quickly with almost no allocation.
func TestHostileMsgpackAllocations(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"dd ff ff ff ff", cat(0xdd, 0xff, 0xff, 0xff, 0xff)},
		{"array32 2^32-1 with 1 KiB", cat(0xdd, 0xff, 0xff, 0xff, 0xff, make([]byte, 1024))},
		{"events array32 2^32-1", cat(0x81, 0xa6, "events", 0xdd, 0xff, 0xff, 0xff, 0xff, make([]byte, 64))},
		{"str32 4G", cat(0xdb, 0xff, 0xff, 0xff, 0xff)},
		{"map32 4G", cat(0xdf, 0xff, 0xff, 0xff, 0xff)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(100, func() { _, err = UnmarshalRequest(tt.b) })
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			n := allocated(100, func() { _, _ = UnmarshalRequest(tt.b) })
			t.Logf("%d input bytes: %d bytes in %v allocations (the error message)", len(tt.b), n, allocs)
			if n > 1024 || allocs > 16 {
				t.Errorf("allocated %d bytes in %v allocations, want ≤ 1 KiB and ≤ 16", n, allocs)
			}
			n = allocated(100, func() { _, _ = UnmarshalResponse(tt.b) })
			if n > 1024 {
				t.Errorf("response: allocated %d bytes, want ≤ 1 KiB", n)
			}
		})
	}
}

// TestMsgpackAllocationBound decodes worst cases for allocation per input
// byte: many one-byte empty events, and many full events.
func TestMsgpackAllocationBound(t *testing.T) {
	manyEmpty := cat(0x82, 0xa9, "placement", 0xa7, "for_you", 0xa6, "events", 0xdc, 0x3f, 0xf0, bytes.Repeat([]byte{0x80}, 0x3ff0))
	maxEmpty := cat(0x82, 0xa9, "placement", 0xa7, "for_you", 0xa6, "events", 0xdc, 0, MaxEvents, bytes.Repeat([]byte{0x80}, MaxEvents))
	items := make([]byte, 0, MaxResults)
	for range MaxResults {
		items = append(items, 0x80)
	}
	maxEmptyItems := cat(0x81, 0xa5, "items", 0xdc, 0, MaxResults, items)
	// The same key again and again, each time with one more event.
	growing := cat(0xde, 0, 150)
	for k := 1; k <= 150; k++ {
		growing = append(cat(growing, 0xa6, "events", 0xdc, 0, k), bytes.Repeat([]byte{0x80}, k)...)
	}
	full := validRequest()
	full.Events = make([]Event, MaxEvents)
	for i := range full.Events {
		full.Events[i] = Event{Type: View, Item: "sku-12345", Time: 1_700_000_000_000}
	}
	fullB, err := MarshalRequest(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		b    []byte
		resp bool
	}{
		{"16k empty events", manyEmpty, false},
		{"200 empty events", maxEmpty, false},
		{"200 events", fullB, false},
		{"100 empty items", maxEmptyItems, true},
		{"events key repeated, growing", growing, false},
	} {
		n := allocated(5, func() {
			if tt.resp {
				_, _ = UnmarshalResponse(tt.b)
			} else {
				_, _ = UnmarshalRequest(tt.b)
			}
		})
		t.Logf("%s: %d input bytes, %d bytes allocated (%.1f per byte)", tt.name, len(tt.b), n, float64(n)/float64(len(tt.b)))
		if n > allocBound(len(tt.b)) {
			t.Errorf("%s: allocated %d bytes, bound %d", tt.name, n, allocBound(len(tt.b)))
		}
	}
}
