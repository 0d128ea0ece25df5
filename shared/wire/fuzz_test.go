package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// allocatedOnce returns the bytes one call of f allocates. Like
// testing.AllocsPerRun it measures with GOMAXPROCS=1, so that the fuzzing
// engine's own goroutines do not allocate during the measurement.
func allocatedOnce(f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// warm runs every codec once so that one-time type caches are not charged
// to the first fuzz input.
func warm() {
	j, _ := json.Marshal(validRequest())
	_, _ = DecodeRecommendRequestJSON(j)
	j, _ = json.Marshal(validResponse())
	_, _ = DecodeRecommendResponseJSON(j)
	m, _ := MarshalRequest(validRequest())
	_, _ = UnmarshalRequest(m)
	m, _ = MarshalResponse(validResponse())
	_, _ = UnmarshalResponse(m)
}

func checkAlloc(t *testing.T, what string, in []byte, n uint64) {
	t.Helper()
	if n > allocBound(len(in)) {
		t.Fatalf("%s allocated %d bytes for %d input bytes, bound %d", what, n, len(in), allocBound(len(in)))
	}
}

// checkRequest asserts what every accepted request must satisfy: it
// validates, and it survives JSON and msgpack round trips unchanged, with
// deterministic msgpack bytes.
func checkRequest(t *testing.T, r *RecommendRequest) {
	t.Helper()
	if err := r.Validate(); err != nil {
		t.Fatalf("accepted request does not validate: %v", err)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	rj, err := DecodeRecommendRequestJSON(j)
	if err != nil {
		t.Fatalf("JSON re-decode of %s: %v", j, err)
	}
	if !sameRequest(r, rj) {
		t.Fatalf("JSON round trip changed the request:\n got %#v\nwant %#v", rj, r)
	}
	m, err := MarshalRequest(r)
	if err != nil {
		t.Fatalf("MarshalRequest: %v", err)
	}
	rm, err := UnmarshalRequest(m)
	if err != nil {
		t.Fatalf("msgpack re-decode of % x: %v", m, err)
	}
	if !sameRequest(r, rm) {
		t.Fatalf("msgpack round trip changed the request:\n got %#v\nwant %#v", rm, r)
	}
	if m2, _ := MarshalRequest(rm); !bytes.Equal(m, m2) {
		t.Fatalf("msgpack encoding is not deterministic:\n% x\n% x", m, m2)
	}
}

func checkResponse(t *testing.T, r *RecommendResponse) {
	t.Helper()
	if err := r.Validate(); err != nil {
		t.Fatalf("accepted response does not validate: %v", err)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	rj, err := DecodeRecommendResponseJSON(j)
	if err != nil {
		t.Fatalf("JSON re-decode of %s: %v", j, err)
	}
	if !sameResponse(r, rj) {
		t.Fatalf("JSON round trip changed the response:\n got %#v\nwant %#v", rj, r)
	}
	m, err := MarshalResponse(r)
	if err != nil {
		t.Fatalf("MarshalResponse: %v", err)
	}
	rm, err := UnmarshalResponse(m)
	if err != nil {
		t.Fatalf("msgpack re-decode of % x: %v", m, err)
	}
	if !sameResponse(r, rm) {
		t.Fatalf("msgpack round trip changed the response:\n got %#v\nwant %#v", rm, r)
	}
	if m2, _ := MarshalResponse(rm); !bytes.Equal(m, m2) {
		t.Fatalf("msgpack encoding is not deterministic:\n% x\n% x", m, m2)
	}
}

func FuzzRequestJSON(f *testing.F) {
	for _, s := range seeds()["FuzzRequestJSON"] {
		f.Add(s.b)
	}
	warm()
	f.Fuzz(func(t *testing.T, b []byte) {
		var r *RecommendRequest
		var err error
		checkAlloc(t, "DecodeRecommendRequestJSON", b, allocatedOnce(func() { r, err = DecodeRecommendRequestJSON(b) }))
		if err != nil {
			wantClassified(t, err)
			if r != nil {
				t.Fatal("non-nil request with an error")
			}
			return
		}
		checkRequest(t, r)
	})
}

func FuzzRequestMsgpack(f *testing.F) {
	for _, s := range seeds()["FuzzRequestMsgpack"] {
		f.Add(s.b)
	}
	warm()
	f.Fuzz(func(t *testing.T, b []byte) {
		var r *RecommendRequest
		var err error
		checkAlloc(t, "UnmarshalRequest", b, allocatedOnce(func() { r, err = UnmarshalRequest(b) }))
		if err != nil {
			wantClassified(t, err)
			if r != nil {
				t.Fatal("non-nil request with an error")
			}
			return
		}
		checkRequest(t, r)
	})
}

func FuzzResponseMsgpack(f *testing.F) {
	for _, s := range seeds()["FuzzResponseMsgpack"] {
		f.Add(s.b)
	}
	warm()
	f.Fuzz(func(t *testing.T, b []byte) {
		var r *RecommendResponse
		var err error
		checkAlloc(t, "UnmarshalResponse", b, allocatedOnce(func() { r, err = UnmarshalResponse(b) }))
		if err != nil {
			wantClassified(t, err)
			if r != nil {
				t.Fatal("non-nil response with an error")
			}
			return
		}
		checkResponse(t, r)
	})
}

func FuzzCheckMsgpack(f *testing.F) {
	for _, s := range seeds()["FuzzCheckMsgpack"] {
		f.Add(s.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []MsgpackLimits{
			{MaxBytes: MaxBodyBytes, MaxDepth: MaxMsgpackDepth, MaxElements: MaxMsgpackElements},
			{MaxBytes: 1 << 10, MaxDepth: 3, MaxElements: 20},
		} {
			var err error
			n := allocatedOnce(func() { err = CheckMsgpackLimits(b, lim) })
			if err == nil && n != 0 || n > 1024 {
				t.Fatalf("CheckMsgpackLimits allocated %d bytes (err %v)", n, err)
			}
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unclassified error %v", err)
			}
			if ok := refCheck(b, lim); ok != (err == nil) {
				t.Fatalf("CheckMsgpackLimits(%+v) = %v, reference says ok=%v", lim, err, ok)
			}
			if err != nil {
				continue
			}
			dec := msgpack.NewDecoder(bytes.NewReader(b))
			if err := dec.Skip(); err != nil {
				t.Fatalf("accepted, but msgpack cannot skip it: %v", err)
			}
			if left := dec.Buffered().(*bytes.Reader).Len(); left != 0 {
				t.Fatalf("accepted, but msgpack leaves %d bytes", left)
			}
		}
	})
}

// refCheck is a plain recursive reading of the msgpack spec, written
// independently of CheckMsgpackLimits to test it differentially.
func refCheck(b []byte, lim MsgpackLimits) bool {
	if len(b) > lim.MaxBytes {
		return false
	}
	elements := 0
	length := func(pos, size int) (int, int, bool) {
		if pos+size > len(b) {
			return 0, 0, false
		}
		var n uint64
		for _, c := range b[pos : pos+size] {
			n = n<<8 | uint64(c)
		}
		if n > uint64(len(b)) { // cannot fit; also keeps int(n) ≥ 0 on 32-bit
			return 0, 0, false
		}
		return int(n), pos + size, true
	}
	var value func(pos, depth int) (int, bool)
	container := func(pos, depth, count int) (int, bool) {
		if depth+1 > lim.MaxDepth {
			return 0, false
		}
		elements += count
		if elements > lim.MaxElements {
			return 0, false
		}
		for i := 0; i < count; i++ {
			var ok bool
			if pos, ok = value(pos, depth+1); !ok {
				return 0, false
			}
		}
		return pos, true
	}
	skip := func(pos, n int) (int, bool) {
		if n > len(b)-pos {
			return 0, false
		}
		return pos + n, true
	}
	value = func(pos, depth int) (int, bool) {
		if pos >= len(b) {
			return 0, false
		}
		c := b[pos]
		pos++
		switch {
		case c <= 0x7f || c >= 0xe0:
			return pos, true
		case c <= 0x8f:
			return container(pos, depth, 2*int(c-0x80))
		case c <= 0x9f:
			return container(pos, depth, int(c-0x90))
		case c <= 0xbf:
			return skip(pos, int(c-0xa0))
		}
		fixed := map[byte]int{0xc0: 0, 0xc2: 0, 0xc3: 0, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2,
			0xd2: 4, 0xd3: 8, 0xca: 4, 0xcb: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}
		if n, ok := fixed[c]; ok {
			return skip(pos, n)
		}
		sizes := map[byte]int{0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xc7: 1, 0xc8: 2, 0xc9: 4,
			0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4}
		size, ok := sizes[c]
		if !ok {
			return 0, false // 0xc1
		}
		n, pos, ok := length(pos, size)
		if !ok {
			return 0, false
		}
		switch c {
		case 0xdc, 0xdd:
			return container(pos, depth, n)
		case 0xde, 0xdf:
			return container(pos, depth, 2*n)
		case 0xc7, 0xc8, 0xc9:
			return skip(pos, n+1)
		}
		return skip(pos, n)
	}
	end, ok := value(0, 0)
	return ok && end == len(b)
}

type seed struct {
	name string
	b    []byte
}

// seeds returns the seed corpus of every fuzz target, by target name.
func seeds() map[string][]seed {
	u32 := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	reqJSON, _ := json.Marshal(validRequest())
	respJSON, _ := json.Marshal(validResponse())
	reqMP, _ := MarshalRequest(validRequest())
	respMP, _ := MarshalResponse(validResponse())
	minMP, _ := MarshalRequest(&RecommendRequest{Placement: ForYou})
	emptyMP, _ := MarshalResponse(&RecommendResponse{})
	evs := make([]Event, MaxEvents+1)
	for i := range evs {
		evs[i] = Event{Type: View, Item: "a"}
	}
	tooMany, _ := msgpack.Marshal(&RecommendRequest{Placement: ForYou, Events: evs})
	unknownKeys, _ := sortedMsgpack(map[string]any{"placement": "for_you", "future": []any{1, "x", map[string]any{"t": nil}}})
	asArray, _ := msgpack.Marshal([]any{"s", "r", "search", "", "q", []any{[]any{"search", "", "q", 5}}, nil, 3, 0})
	hostile := []seed{
		{"array32-4g", cat(0xdd, 0xff, 0xff, 0xff, 0xff)},
		{"array32-4g-body", cat(0xdd, u32(1<<32-1), make([]byte, 32))},
		{"map32-4g", cat(0xdf, 0xff, 0xff, 0xff, 0xff)},
		{"str32-4g", cat(0xdb, 0xff, 0xff, 0xff, 0xff, "abc")},
		{"deep-16", nest(16, cat(0xc0))},
		{"deep-17", nest(17, cat(0xc0))},
		{"deep-map", bytes.Repeat(cat(0x81, 0xa1, "a"), 20)},
	}
	truncations := func(prefix string, b []byte) []seed {
		var s []seed
		for _, cut := range []int{1, len(b) / 3, len(b) / 2, len(b) - 1} {
			s = append(s, seed{fmt.Sprintf("%s-cut-%d", prefix, cut), b[:cut]})
		}
		return s
	}
	reqMsgpack := append([]seed{
		{"valid", reqMP},
		{"minimal", minMP},
		{"unknown-keys", unknownKeys},
		{"struct-as-array", asArray},
		{"events-over-limit", tooMany},
		{"events-array32-4g", cat(0x82, 0xa9, "placement", 0xa7, "for_you", 0xa6, "events", 0xdd, 0xff, 0xff, 0xff, 0xff, make([]byte, 16))},
		{"trailing", cat(reqMP, 0xc0)},
	}, slices.Concat(truncations("valid", reqMP), hostile)...)
	respMsgpack := append([]seed{
		{"valid", respMP},
		{"empty", emptyMP},
		{"items-array32-4g", cat(0x81, 0xa5, "items", 0xdd, 0xff, 0xff, 0xff, 0xff)},
	}, slices.Concat(truncations("valid", respMP), hostile)...)
	check := slices.Concat(reqMsgpack, []seed{
		{"resp-valid", respMP},
		{"timestamps", cat(0x93, 0xd6, 0xff, u32(1), 0xd7, 0xff, make([]byte, 8), 0xc7, 12, 0xff, make([]byte, 12))},
		{"bins-exts", cat(0x94, 0xc4, 1, 0, 0xc5, 0, 1, 0, 0xc8, 0, 1, 7, 0, 0xd8, 1, make([]byte, 16))},
		{"reserved", cat(0xc1)},
	})
	reqJSONSeeds := append([]seed{
		{"valid", reqJSON},
		{"minimal", []byte(`{"placement":"for_you"}`)},
		{"unknown-field", []byte(`{"placement":"for_you","filters":{"colour":"red"}}`)},
		{"trailing", []byte(`{"placement":"for_you"} x`)},
		{"escapes", []byte(`{"pl\u0061cement":"search","query":"\ud83d\ude00 \u00e9\\u"}`)},
		{"lone-surrogate", []byte(`{"placement":"search","query":"\udc00"}`)},
		{"invalid-utf8", []byte("{\"placement\":\"search\",\"query\":\"\xff\"}")},
		{"events-over-limit", []byte(`{"placement":"for_you","events":` + jsonList(MaxEvents+1, `{"type":"view","item":"a"}`) + `}`)},
		{"deep", []byte(`{"placement":"for_you","events":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`)},
		{"numbers", []byte(`{"placement":"for_you","k":1e2,"now":-0,"filters":{"price_min":1e400,"price_max":-1}}`)},
		{"response", respJSON},
		{"array32-4g", cat(0xdd, 0xff, 0xff, 0xff, 0xff)},
	}, truncations("valid", reqJSON)...)
	return map[string][]seed{
		"FuzzRequestJSON":     reqJSONSeeds,
		"FuzzRequestMsgpack":  reqMsgpack,
		"FuzzResponseMsgpack": respMsgpack,
		"FuzzCheckMsgpack":    check,
	}
}

// TestSeedCorpus keeps testdata/fuzz in step with seeds(): run
// go test -run TestSeedCorpus -update after changing either.
func TestSeedCorpus(t *testing.T) {
	all := seeds()
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, target := range names {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, s := range all[target] {
			path := filepath.Join(dir, s.name)
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.b)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (run go test -run TestSeedCorpus -update): %v", path, err)
			}
		}
	}
}
